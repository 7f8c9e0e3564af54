// The watchdog that ends a program's processes with it, and removes the directory a process
// leaves, also when a second watchdog (one that may write there) takes over from the first.

import assert from "node:assert/strict";
import { alive, childProcesses, firstLine } from "../_programs.ts";

/** Resolves once `done()` holds (asked every `every` ms), or false after `ms`. */
async function within(ms: number, done: () => boolean, every = 50): Promise<boolean> {
  const until = performance.now() + ms;
  while (!done()) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
  return true;
}

async function removeIfThere(path: string): Promise<void> {
  try {
    await Deno.remove(path, { recursive: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Starts the fixture that guards two processes; returns it with their PIDs and directory. */
async function guardedProgram(): Promise<
  { program: Deno.ChildProcess; pids: number[]; dir: string }
> {
  const program = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../fixtures/scripts/guarded.ts", import.meta.url).href],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const { pids, dir } = JSON.parse(await firstLine(program)) as { pids: number[]; dir: string };
  return { program, pids, dir };
}

Deno.test({
  name: "guard() ends a SIGKILLed program's processes and removes the directory given with one",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const { program, pids, dir } = await guardedProgram();
    assert(pids.every(alive));
    assert(exists(`${dir}/file`));
    program.kill("SIGKILL");
    await program.status;
    const ended = await within(10_000, () => !pids.some(alive));
    const gone = await within(10_000, () => !exists(dir));
    for (const pid of pids.filter(alive)) Deno.kill(pid, "SIGKILL");
    if (!gone) await removeIfThere(dir);
    assert(ended, "a guarded process still ran 10 s after its program was killed");
    assert(gone, `${dir} was still there 10 s after its program was killed`);
  },
});

Deno.test({
  name: "a watchdog killed from outside is replaced at once, and the new one guards the processes",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    const { program, pids, dir } = await guardedProgram();
    const watchdogs = () =>
      childProcesses(program.pid).filter((child) => child.cmd.includes(" data:application/"));
    // The one that took over, and perhaps the first, still letting go.
    const killed = new Set(watchdogs().map((w) => w.pid));
    assert(killed.size > 0, "the program has a watchdog");
    for (const pid of killed) Deno.kill(pid, "SIGKILL");
    // It was replaced only when a next process was guarded: until then a SIGKILL of the program
    // left its processes running. The program is killed the instant the new one shows: it must
    // know its processes from its start, not from a write that may come later.
    const replaced = await within(10_000, () => watchdogs().some((w) => !killed.has(w.pid)), 0);
    program.kill("SIGKILL");
    await program.status;
    const ended = await within(10_000, () => !pids.some(alive));
    for (const pid of pids.filter(alive)) Deno.kill(pid, "SIGKILL");
    // The watchdog removes it as the program dies, and may still be at it: gone is fine.
    await removeIfThere(dir);
    assert(replaced, "no new watchdog 10 s after the first was killed");
    assert(ended, "a guarded process still ran 10 s after its program was killed");
  },
});

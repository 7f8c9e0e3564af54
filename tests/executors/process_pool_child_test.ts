// ProcessPoolExecutor and its child processes: their stdout, tasks they never started, programs
// they start, and the Deno flags they are given.

import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  ProcessPoolExecutor,
  TimeoutError,
  WorkerCrashedError,
} from "../../mod.ts";
import { add, spinForever } from "../fixtures/tasks.ts";
import {
  corruptStream,
  endOnceFileExists,
  locationHref,
  pid,
  readStdin,
  startSleep,
} from "../fixtures/process_tasks.ts";
import { errorOf, holding, runDeno, SCRIPTS } from "./_worker_helpers.ts";
import { alive } from "../_programs.ts";

const MODULES = [
  new URL("../fixtures/tasks.ts", import.meta.url),
  new URL("../fixtures/process_tasks.ts", import.meta.url),
];

function pool(options: ConstructorParameters<typeof ProcessPoolExecutor>[0] = {}) {
  return new ProcessPoolExecutor({ maxWorkers: 1, modules: MODULES, ...options });
}

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Gone already.
  }
}

const LINUX = Deno.build.os === "linux";

Deno.test("ProcessPoolExecutor gives a task an empty stdin, through Deno.stdin.readable too", async () => {
  await using processes = pool();
  // The stream was taken to read the pool's greeting: "ReadableStream is locked or disturbed".
  assert.deepEqual(await processes.submit(readStdin), ["", null]);
});

Deno.test("ProcessPoolExecutor lets a task write to stdout: the output is the program's and the task answers", async () => {
  const run = await runDeno(["run", "-A", new URL("process_stdout.ts", SCRIPTS).pathname]);
  assert.equal(run.killed, false, `the program hung; stderr: ${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  for (const line of ["deno: hello", "node: hello", "child: hello", "answer: hello"]) {
    assert.ok(run.stdout.includes(`${line}\n`), `missing "${line}" in stdout: ${run.stdout}`);
  }
});

for (const how of ["exit", "close", "uncaught"] as const) {
  Deno.test(`ProcessPoolExecutor runs a task on another process when its process ends (${how}) before starting it`, async () => {
    const dir = await Deno.makeTempDir();
    const signal = `${dir}/sent`;
    try {
      await using processes = pool();
      const first = await processes.submit(pid);
      assert.equal(await processes.submit(endOnceFileExists, signal, how), "armed");
      // The process holds its event loop from a timer: the next task is sent once it does (sent
      // before, it could run there first, on a loaded machine).
      await holding(`${signal}.holding`);
      const next = processes.submit(pid);
      // The pump hands the task to the process in a microtask: wait until it is in flight there.
      while (processes.stats().running === 0) await Promise.resolve();
      await Deno.writeTextFile(signal, "");
      const second = await next;
      assert.equal(typeof second, "number");
      // close() and an uncaught error end the process from its event loop, which may first read
      // and run the task it was sent (then the task did run there, and succeeded). Deno.exit()
      // ends it at once.
      if (how !== "exit") return;
      assert.notEqual(second, first, "the task ran on a new process");
      assert.equal(processes.stats().crashed, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test({
  name: "ProcessPoolExecutor.shutdown() does not wait for programs a task started",
  ignore: !LINUX,
  fn: async () => {
    let sleeper = 0;
    try {
      const processes = pool();
      sleeper = await processes.submit(startSleep, 60);
      assert.ok(alive(sleeper));
      await processes.shutdown();
      // The sleep has 60 s to go: had shutdown() waited for it, it would be gone.
      assert.ok(alive(sleeper), "shutdown() returned while the grandchild still runs");
      assert.equal(processes.stats().workers.total, 0);
    } finally {
      if (sleeper) killQuietly(sleeper);
    }
  },
});

Deno.test({
  name: "ProcessPoolExecutor kills a stopped task's process group: programs it started end too",
  ignore: !LINUX,
  fn: async () => {
    let sleeper = 0;
    try {
      await using processes = pool();
      sleeper = await processes.submit(startSleep, 60);
      const error = await processes.with({ timeout: 100 }).submit(spinForever).exception();
      assert.ok(error instanceof TimeoutError);
      // SIGKILL went to the group before the future rejected; the kernel ends the sleep soon
      // after. Poll for that, bounded (nothing signals the end of an unrelated process).
      for (let i = 0; i < 500 && alive(sleeper); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(alive(sleeper), false, "the sleep in the stopped task's group was killed");
      assert.equal(await processes.submit(add, 1, 2), 3);
    } finally {
      if (sleeper) killQuietly(sleeper);
    }
  },
});

Deno.test({
  name: "ProcessPoolExecutor gives children the module flags the program was run with",
  ignore: !LINUX,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const mod = new URL("../../mod.ts", import.meta.url).href;
      await Deno.mkdir(`${dir}/lib`);
      await Deno.writeTextFile(`${dir}/map.json`, `{ "imports": { "mapped/": "./lib/" } }`);
      await Deno.writeTextFile(`${dir}/lib/answer.ts`, "export const ANSWER = 42;\n");
      await Deno.writeTextFile(
        `${dir}/tasks.ts`,
        `import { ANSWER } from "mapped/answer.ts";\nexport const answer = () => ANSWER;\n`,
      );
      await Deno.writeTextFile(
        `${dir}/main.ts`,
        [
          `import { ProcessPoolExecutor } from ${JSON.stringify(mod)};`,
          `import { answer } from "./tasks.ts";`,
          `await using pool = new ProcessPoolExecutor({`,
          `  maxWorkers: 1, modules: [new URL("./tasks.ts", import.meta.url)],`,
          `});`,
          `console.log("answer: " + await pool.submit(answer));`,
        ].join("\n"),
      );
      const run = await runDeno([
        "run",
        "-A",
        "--no-lock",
        "--import-map",
        `${dir}/map.json`,
        `${dir}/main.ts`,
      ]);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, "answer: 42\n");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("ProcessPoolExecutor passes 'denoArgs' to each process", async () => {
  await using processes = pool({ denoArgs: ["--location", "https://example.com/app/"] });
  assert.equal(await processes.submit(locationHref), "https://example.com/app/");
});

Deno.test("ProcessPoolExecutor says why a process failed to start: exit code and stderr", async () => {
  // In a program of its own, to keep the processes' stderr out of the test log.
  const run = await runDeno(["run", "-A", new URL("process_bad_flag.ts", SCRIPTS).pathname]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout,
    /^BrokenExecutorError: .*worker 1 failed to start: the process exited with code 1 before it connected to the pool; its stderr: .*--no-such-flag/,
  );
  assert.doesNotMatch(run.stdout, /undefined/);
});

Deno.test("ProcessPoolExecutor says which module a process could not load", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A module that loads here but not in a child without env access.
    await Deno.writeTextFile(`${dir}/tasks.ts`, `Deno.env.get("HOME");\nexport const f = 1;\n`);
    await using processes = new ProcessPoolExecutor({
      maxWorkers: 1,
      modules: [`${dir}/tasks.ts`],
      permissions: "none",
    });
    const error = await processes.submit(() => 1).exception();
    assert.ok(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /could not be loaded in worker 1: .*env/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcessPoolExecutor checks denoArgs", () => {
  assert.throws(
    () => new ProcessPoolExecutor({ denoArgs: "--no-remote" as unknown as string[] }),
    (error: unknown) =>
      error instanceof TypeError &&
      error.message ===
        `Cannot create ProcessPoolExecutor as 'denoArgs' must be an array of strings: received "--no-remote"`,
  );
});

Deno.test("ProcessPoolExecutor() without net access to 127.0.0.1 throws one error naming --allow-net=127.0.0.1", async () => {
  const script = new URL("process_no_net.ts", SCRIPTS).pathname;
  const run = await runDeno(["run", "--no-prompt", "--allow-run", "--allow-read", script]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(
    run.stdout.trim(),
    "NotCapable: Cannot create ProcessPoolExecutor as the program lacks permission to listen on 127.0.0.1 for its processes to connect: run it with --allow-net=127.0.0.1 (or a broader --allow-net, or -A)",
  );
  const granted = await runDeno([
    "run",
    "--no-prompt",
    "--allow-run",
    "--allow-read",
    "--allow-net=127.0.0.1",
    script,
  ]);
  assert.equal(granted.stdout.trim(), "ok 1", granted.stderr);
});

Deno.test("ProcessPoolExecutor ends a process whose stream is corrupt: its task rejects with WorkerCrashedError", async () => {
  const preload = new URL("../fixtures/corrupt_preload.ts", import.meta.url).pathname;
  await using processes = pool({ denoArgs: ["--preload", preload] });
  const first = await processes.submit(pid);
  // Bounded: a reader that trusted the stream would wait for the rest of a frame forever.
  const error = await errorOf(processes.submit(corruptStream));
  assert.ok(error instanceof WorkerCrashedError, String(error));
  assert.match(error.message, /corrupt/);
  assert.notEqual(await processes.submit(pid), first, "a new process replaced it");
});

Deno.test({
  name: "ProcessPoolExecutor passes a permission granted for some paths only on to its processes",
  ignore: !LINUX,
  fn: async () => {
    // Two directories of their own, wherever the checkout and the temporary directory are: the
    // program may read the first only.
    const insideDir = await Deno.makeTempDir();
    const outsideDir = await Deno.makeTempDir();
    const inside = `${insideDir}/file`;
    const outside = `${outsideDir}/file`;
    try {
      await Deno.writeTextFile(inside, "granted");
      await Deno.writeTextFile(outside, "elsewhere");
      const run = await runDeno([
        "run",
        "--no-prompt",
        "--allow-run",
        "--allow-net=127.0.0.1",
        `--allow-read=${insideDir}`,
        new URL("process_inherit.ts", SCRIPTS).pathname,
        inside,
        outside,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const [first, second] = run.stdout.split("\n");
      assert.equal(first, `read ${inside}: granted`);
      assert.match(second!, new RegExp(`^refused ${outside}: Requires read access`));
    } finally {
      await Deno.remove(insideDir, { recursive: true });
      await Deno.remove(outsideDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "ProcessPoolExecutor passes the program's --deny flags on to its processes",
  ignore: !LINUX,
  fn: async () => {
    const dir = await Deno.makeTempDir({ dir: "/tmp" });
    try {
      await Deno.writeTextFile(`${dir}/open`, "open");
      await Deno.mkdir(`${dir}/secret`);
      await Deno.writeTextFile(`${dir}/secret/file`, "secret");
      const run = await runDeno([
        "run",
        "--no-prompt",
        "--allow-run",
        "--allow-net=127.0.0.1",
        "--allow-read",
        `--deny-read=${dir}/secret`,
        new URL("process_inherit.ts", SCRIPTS).pathname,
        `${dir}/open`,
        `${dir}/secret/file`,
      ]);
      assert.equal(run.code, 0, run.stderr);
      const [first, second] = run.stdout.split("\n");
      assert.equal(first, `read ${dir}/open: open`);
      assert.match(second!, new RegExp(`^refused ${dir}/secret/file: Requires read access`));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

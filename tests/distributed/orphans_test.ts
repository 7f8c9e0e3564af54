import assert from "node:assert/strict";
import { Cluster } from "./_cluster.ts";
import { busy, gated } from "../fixtures/distributed_tasks.ts";
import { alive, firstLine } from "../_programs.ts";

/** Resolves true once `pid` has ended, false if it still runs after `ms`. */
async function ends(pid: number, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  while (alive(pid)) {
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

Deno.test("DistributedWorker's task process ends when the worker process is SIGKILLed mid-task", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using executor = cluster.executor();
    const future = executor.submit(gated, cluster.scratch, "o", 1);
    const [[child, parent]] = await cluster.waitRuns("o") as [[number, number]];
    assert.equal(parent, cluster.workers[0]!.pid);
    cluster.workers[0]!.kill("SIGKILL");
    await cluster.workers[0]!.status;
    const ended = await ends(child, 10_000);
    // The task runs again on another worker.
    cluster.release("o");
    cluster.addWorker();
    assert.equal(await future, 1);
    assert(ended, `task process ${child} still ran 10 s after its worker died`);
  } finally {
    await cluster.close();
  }
});

// A task that never yields cannot notice that its worker is gone: the process pool ends its
// processes with their parent.
Deno.test({
  name: "DistributedWorker's busy task process ends when the worker process is SIGKILLed mid-task",
  fn: async () => {
    const cluster = await Cluster.start({ workers: 1 });
    try {
      await using executor = cluster.executor();
      const future = executor.with({ timeout: 3_000 }).submit(busy, cluster.scratch, "b");
      const [[child]] = await cluster.waitRuns("b") as [[number, number]];
      cluster.workers[0]!.kill("SIGKILL");
      await cluster.workers[0]!.status;
      const ended = await ends(child, 10_000);
      // It runs again on a new worker, which ends it at its timeout.
      cluster.addWorker();
      await future.exception();
      assert(ended, `task process ${child} still ran 10 s after its worker died`);
    } finally {
      await cluster.close();
    }
  },
});

/** The store directory of the nats-server among `pids` (its `-sd` argument, less `/store`). */
function storeDir(pids: number[]): string {
  for (const pid of pids) {
    const args = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
    const at = args.indexOf("-sd");
    if (at >= 0) return args[at + 1]!.replace(/\/store$/, "");
  }
  throw new Error(`no nats-server among ${pids}`);
}

/** Resolves true once `path` is gone, false if it is still there after `ms`. */
async function removed(path: string, ms: number): Promise<boolean> {
  const until = performance.now() + ms;
  for (;;) {
    try {
      await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return true;
      throw error;
    }
    if (performance.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Starts a program with an embedded executor, ends it with `signal` (it installs no handler),
 * and checks that its server and workers end and the server's temporary store goes.
 */
async function endsWithItsProgram(signal: Deno.Signal): Promise<void> {
  const program = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../fixtures/scripts/embedded_executor.ts", import.meta.url).href],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const text = await firstLine(program);
  const pids = JSON.parse(text) as number[];
  // The server and two workers.
  assert.equal(pids.length, 3);
  const dir = storeDir(pids);
  assert((await Deno.stat(dir)).isDirectory);
  program.kill(signal);
  await program.status;
  const left: number[] = [];
  for (const pid of pids) if (!await ends(pid, 10_000)) left.push(pid);
  for (const pid of left) Deno.kill(pid, "SIGKILL");
  assert.deepEqual(left, [], "these processes still ran 10 s after their program was killed");
  const gone = await removed(dir, 10_000);
  if (!gone) await Deno.remove(dir, { recursive: true });
  assert(gone, `the server's store ${dir} was still there 10 s after its program ended`);
}

Deno.test("An embedded DistributedExecutor's server and workers end with its program, and its store goes, when the program is SIGKILLed", async () => {
  await endsWithItsProgram("SIGKILL");
});

Deno.test("An embedded DistributedExecutor's server and workers end with its program, and its store goes, at a Ctrl-C (SIGINT)", async () => {
  await endsWithItsProgram("SIGINT");
});

Deno.test({
  name: "an embedded DistributedExecutor that cannot start stops the server it started",
  ignore: Deno.build.os !== "linux",
  fn: async () => {
    // In a program of its own: the nats-server children of this process may be other tests'.
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../fixtures/scripts/embedded_start_fails.ts", import.meta.url).href,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const err = new TextDecoder().decode(stderr);
    assert.equal(code, 0, err);
    const lines = new TextDecoder().decode(stdout).trim().split("\n");
    const { message, before, after } = JSON.parse(lines.at(-1)!) as {
      message: string;
      before: string[];
      after: string[];
    };
    // The module is loaded once the server is up: it was started.
    assert.match(message, /no_such_tasks/);
    assert.deepEqual(before, []);
    // Its nats-server ran on until shutdown(), keeping a program that never called it alive.
    assert.deepEqual(after, [], "the server still ran once whenStarted() had rejected");
  },
});

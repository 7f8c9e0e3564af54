// A worker's phases decide what its end means: a process killed while idle is a crash (replaced),
// not a failure to start; a worker whose stopped task waits on something finishes its other
// tasks, one inside the stopped task is ended with them; shutdown says when a thread cannot stop.

import assert from "node:assert/strict";
import { ProcessPoolExecutor, TimeoutError, WorkerCrashedError } from "../../mod.ts";
import { add, cell, hold, spinUntilReleased } from "../fixtures/tasks.ts";
import { greetAndWait, pid } from "../fixtures/process_tasks.ts";
import {
  errorOf,
  release,
  startedAtLeast,
  statsUntil,
  TASKS,
  workerPool,
} from "./_worker_helpers.ts";

const PROCESS_TASKS = new URL("../fixtures/process_tasks.ts", import.meta.url);

/** Takes the next process's greeting (see `greetAndWait`): its pid, and the word to go on. */
async function greeting(listener: Deno.TcpListener): Promise<{ pid: number; go(): Promise<void> }> {
  const conn = await listener.accept();
  const buffer = new Uint8Array(32);
  const read = await conn.read(buffer) ?? 0;
  return {
    pid: Number(new TextDecoder().decode(buffer.subarray(0, read))),
    async go() {
      await conn.write(new Uint8Array(1));
      conn.close();
    },
  };
}

Deno.test("ProcessPoolExecutor replaces a ready, idle process killed from outside, and serves on", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using processes = new ProcessPoolExecutor({
    maxWorkers: 1,
    modules: [TASKS, PROCESS_TASKS],
    idleTimeout: Infinity,
    initializer: greetAndWait,
    initargs: [listener.addr.port],
  });
  // A worker starts for a task, which is cancelled while the worker runs its initializer: the
  // process becomes ready and idle without ever being handed a task.
  const cancelled = processes.submit(pid);
  const first = await greeting(listener);
  assert.equal(cancelled.cancel(), true);
  await first.go();
  await statsUntil(processes, (s) => s.workers.idle === 1);
  Deno.kill(first.pid, "SIGKILL");
  // Its end is seen (the pool would break here if it took it for a failure to start).
  await statsUntil(processes, (s) => s.workers.total === 0 && s.crashed === 1);
  const next = processes.submit(pid);
  const second = await greeting(listener);
  await second.go();
  assert.equal(await next, second.pid, "a new process replaced the killed one");
  assert.notEqual(second.pid, first.pid);
  assert.equal(await processes.submit(add, 2, 3), 5);
});

/** A pool of one worker that has run a task, so that it keeps several tasks in flight. */
async function warmPool() {
  const pool = workerPool({ maxWorkers: 1, idleTimeout: Infinity });
  await pool.submit(add, 1, 1);
  return pool;
}

Deno.test("WorkerPoolExecutor lets the other tasks of a worker finish when a stopped task waits, ignoring its signal", async () => {
  await using pool = await warmPool();
  const other = cell();
  const stuck = cell();
  const controller = new AbortController();
  const finishing = pool.submit(hold, other, "finished");
  const stopped = pool.with({ signal: controller.signal }).submit(hold, stuck, "never");
  await startedAtLeast(other, 1);
  await startedAtLeast(stuck, 1);
  controller.abort();
  assert.equal((await errorOf(stopped) as Error).name, "AbortError");
  // The worker answers its ping (its event loop is free): it finishes what it runs, then ends.
  await statsUntil(pool, (s) => s.workers.draining === 1);
  release(other);
  assert.equal(await finishing, "finished");
  await statsUntil(pool, (s) => s.workers.retiring === 0);
  release(stuck);
  assert.equal(await pool.submit(add, 2, 3), 5, "a new worker serves on");
});

Deno.test("WorkerPoolExecutor ends a worker that stays inside a stopped task, with its other tasks", async () => {
  await using pool = await warmPool();
  const other = cell();
  const spin = cell();
  const controller = new AbortController();
  try {
    const bystander = pool.submit(hold, other, "finished");
    const stopped = pool.with({ signal: controller.signal }).submit(spinUntilReleased, spin);
    await startedAtLeast(other, 1);
    await startedAtLeast(spin, 1);
    controller.abort();
    assert.equal((await errorOf(stopped) as Error).name, "AbortError");
    // No answer to its ping: the thread is inside the stopped task, and is ended.
    const error = await errorOf(bystander);
    assert.ok(error instanceof WorkerCrashedError);
    assert.match(error.message, /did not answer/);
  } finally {
    release(spin);
    release(other);
  }
  await statsUntil(pool, (s) => s.workers.spinning === 0);
});

Deno.test("WorkerPoolExecutor.shutdown() warns, naming the task, when a stopped worker is still spinning", async () => {
  const pool = await warmPool();
  const spin = cell();
  const warnings: string[] = [];
  const warn = console.warn;
  const controller = new AbortController();
  try {
    const stopped = pool.with({ signal: controller.signal }).submit(spinUntilReleased, spin);
    await startedAtLeast(spin, 1);
    controller.abort(new TimeoutError("stopped by the test"));
    assert.ok(await errorOf(stopped) instanceof TimeoutError);
    console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
    await pool.shutdown();
  } finally {
    console.warn = warn;
    release(spin);
  }
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /'spinUntilReleased'/);
  assert.match(warnings[0]!, /cannot exit until the task returns/);
  await statsUntil(pool, (s) => s.workers.spinning === 0);
});

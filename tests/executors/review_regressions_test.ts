import assert from "node:assert/strict";
import { AsyncPoolExecutor, WorkerCrashedError, WorkerPoolExecutor } from "../../mod.ts";
import { add, byteLength, cell, exit, spinUntilReleased } from "../fixtures/tasks.ts";
import { release, startedAtLeast, TASKS } from "./_worker_helpers.ts";

/** A pool whose workers have learnt to keep many tiny tasks in flight. */
async function warmPool(maxWorkers = 1): Promise<WorkerPoolExecutor> {
  const pool = new WorkerPoolExecutor({ maxWorkers, modules: [TASKS] });
  await Promise.all(Array.from({ length: 200 }, (_, i) => pool.submit(add, i, 1)));
  return pool;
}

Deno.test("map() ends when a slow async source ends after its last item", async () => {
  await using pool = new AsyncPoolExecutor();
  let release!: () => void;
  const ended = new Promise<void>((resolve) => release = resolve);
  async function* items() {
    yield 1;
    yield 2;
    queueMicrotask(release);
    await ended.then(() => new Promise((resolve) => setTimeout(resolve, 0)));
  }
  const values: number[] = [];
  for await (const value of pool.map((x: number) => x * 10, items())) values.push(value);
  assert.deepEqual(values, [10, 20]);
});

Deno.test("map() serves concurrent next() calls in order", async () => {
  await using pool = new AsyncPoolExecutor();
  const iterator = pool.map((x: number) => x, [1, 2, 3]);
  const results = await Promise.all([1, 2, 3, 4].map(() => iterator.next()));
  assert.deepEqual(results.map((r) => r.value), [1, 2, 3, undefined]);
  assert.equal(results[3]!.done, true);
});

Deno.test("a timeout longer than setTimeout can hold does not fire early", async () => {
  await using pool = new AsyncPoolExecutor();
  const value = await pool.with({ timeout: 2 ** 31, deadline: Date.now() + 2 ** 32 }).submit(
    () => new Promise((resolve) => setTimeout(() => resolve("on time"), 20)),
  );
  assert.equal(value, "on time");
});

Deno.test("WorkerPoolExecutor: cancel() calls off tasks sent to a worker that has not started them", async () => {
  await using pool = await warmPool();
  const gate = cell();
  const blocker = pool.submit(spinUntilReleased, gate);
  const counter = new Int32Array(new SharedArrayBuffer(4));
  const bump = (c: Int32Array) => Atomics.add(c, 0, 1);
  const waiting = Array.from({ length: 20 }, () => pool.submit(bump, counter));
  try {
    await startedAtLeast(gate, 1);
    assert.ok(waiting.every((future) => future.running()), "they were sent to the worker");
    assert.ok(waiting.every((future) => future.cancel()), "and could still be called off");
    assert.ok(waiting.every((future) => future.cancelled()));
    assert.equal(blocker.cancel(), false, "a started task cannot be cancelled");
  } finally {
    release(gate);
  }
  assert.equal(await blocker, "released");
  assert.equal(await pool.submit(add, 1, 1), 2);
  assert.equal(Atomics.load(counter, 0), 0, "no cancelled task ran");
});

Deno.test("WorkerPoolExecutor: aborting a task the worker has not started leaves the running one alone", async () => {
  await using pool = await warmPool();
  const gate = cell();
  const running = pool.submit(spinUntilReleased, gate);
  const stop = new AbortController();
  const queued = pool.with({ signal: stop.signal }).submit(add, 1, 2);
  try {
    await startedAtLeast(gate, 1);
    stop.abort(new Error("not needed"));
    assert.equal(((await queued.exception()) as Error).message, "not needed");
    assert.equal(pool.stats().workers.retiring, 0, "the worker was not retired");
  } finally {
    release(gate);
  }
  assert.equal(await running, "released");
  assert.equal(pool.stats().crashed, 0);
});

Deno.test("WorkerPoolExecutor: a transferring task behind a crash fails with WorkerCrashedError", async () => {
  await using pool = await warmPool();
  const crash = pool.submit(exit, 3);
  const buffer = new ArrayBuffer(8);
  const moved = pool.with({ transfer: [buffer] }).submit(byteLength, buffer);
  assert.ok((await crash.exception()) instanceof WorkerCrashedError);
  const outcome = await moved.exception();
  // It ran before the crash, or it is reported as lost with its worker: never a DataCloneError.
  assert.ok(outcome === undefined || outcome instanceof WorkerCrashedError, String(outcome));
  assert.equal(await pool.submit(add, 2, 2), 4);
});

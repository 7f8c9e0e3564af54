import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  type Executor,
  type FuturesOr,
  getDefaultExecutor,
  runInExecutor,
  setDefaultExecutor,
  toThread,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { add, threadName } from "../fixtures/tasks.ts";
import { statsUntil, workerPool } from "./_worker_helpers.ts";

const workerName = () => (globalThis as unknown as { name: string }).name;

/**
 * The default executor is shared by the whole test module and never shut down: wait until its
 * idle worker has exited, so that no test leaves a timer or a worker behind.
 */
async function defaultExecutorIdle(): Promise<void> {
  const executor = getDefaultExecutor();
  assert.ok(executor instanceof WorkerPoolExecutor);
  await statsUntil(executor, (s) => s.workers.total === 0);
}

Deno.test("getDefaultExecutor() returns the same WorkerPoolExecutor each time", () => {
  const executor = getDefaultExecutor();
  assert.ok(executor instanceof WorkerPoolExecutor);
  assert.equal(getDefaultExecutor(), executor);
  assert.equal(executor.stats().workers.total, 0, "no worker until there is work");
});

Deno.test("toThread() runs a blocking function on a worker of the default executor", async () => {
  assert.equal(await toThread((a: number, b: number) => a * b, 6, 7), 42);
  assert.equal(await toThread(workerName), "WorkerPoolExecutor 'default' worker 1");
  await assert.rejects(
    toThread((message: string) => {
      throw new RangeError(message);
    }, "from the worker"),
    (error) => error instanceof RangeError && error.message === "from the worker",
  );
  await defaultExecutorIdle();
});

Deno.test("toThread() takes as many arguments as a plain call does", async () => {
  // About 100k arguments fill most of a thread's stack: spread again on the way, they overflowed.
  const args = Array.from({ length: 90_000 }, (_, i) => i);
  const count = (...xs: number[]) => xs.length;
  assert.equal(count(...args), args.length, "a plain call takes them here");
  assert.equal(await toThread(count, ...args), args.length);
  await defaultExecutorIdle();
});

Deno.test("runInExecutor(null | undefined, …) runs on the default executor", async () => {
  assert.match(await runInExecutor(null, workerName), /^WorkerPoolExecutor 'default' worker/);
  assert.match(await runInExecutor(undefined, workerName), /^WorkerPoolExecutor 'default' worker/);
  assert.equal(await runInExecutor(null, (x: number) => x + 1, 1), 2);
  await defaultExecutorIdle();
});

Deno.test("runInExecutor(executor, …) runs on that executor and returns a promise of the result", async () => {
  await using pool = workerPool({ maxWorkers: 1, name: "mine" });
  const result: Promise<number> = runInExecutor(pool, add, 2, 3);
  assert.ok(result instanceof Promise);
  assert.equal(await result, 5);
  assert.equal(await runInExecutor(pool, threadName), "WorkerPoolExecutor 'mine' worker 1");
  await using io = new AsyncPoolExecutor();
  assert.equal(await runInExecutor(io, () => "main thread"), "main thread");
  assert.equal((getDefaultExecutor() as WorkerPoolExecutor).stats().workers.total, 0);
});

Deno.test("setDefaultExecutor() replaces the executor that toThread() and runInExecutor(null) use", async () => {
  const original = getDefaultExecutor();
  await using io = new AsyncPoolExecutor({ name: "io" });
  setDefaultExecutor(io);
  try {
    assert.equal(getDefaultExecutor(), io);
    let ranHere = false;
    assert.equal(
      await toThread(() => {
        ranHere = true;
        return "on the replacement";
      }),
      "on the replacement",
    );
    assert.equal(ranHere, true, "the AsyncPoolExecutor ran it on this thread");
    assert.equal(await runInExecutor(null, (x: number) => x * 2, 4), 8);
  } finally {
    setDefaultExecutor(original);
  }
  assert.equal(getDefaultExecutor(), original);
  assert.equal((original as WorkerPoolExecutor).stats().workers.total, 0, "it was not used");
});

Deno.test("setDefaultExecutor() throws TypeError for what is not an executor", () => {
  const original = getDefaultExecutor();
  for (const bad of [null, undefined, 42, "pool", {}, { submit: 1 }]) {
    assert.throws(
      () => setDefaultExecutor(bad as unknown as Executor),
      (error) => error instanceof TypeError && /'executor' must be an Executor/.test(error.message),
      String(bad),
    );
  }
  assert.equal(getDefaultExecutor(), original, "the default did not change");
});

Deno.test("runInExecutor() and toThread() reject, never throw, and name a bad executor", async () => {
  // Each threw synchronously, so a .catch() on the call missed it; a number was called.
  const bad = runInExecutor(5 as never, () => 1);
  await assert.rejects(
    bad,
    (e: unknown) =>
      e instanceof TypeError && /'executor' must be an executor .*received 5/.test(e.message),
  );
  const notFn = toThread(42 as never);
  await assert.rejects(notFn, (e: unknown) => e instanceof TypeError && /'fn'/.test(e.message));
  const pool = new AsyncPoolExecutor();
  await pool.shutdown();
  const closed = runInExecutor(pool, () => 1);
  await assert.rejects(closed, (e: unknown) => e instanceof Error && /shut/.test(e.message));
});

Deno.test("runInExecutor() calls the submit() of a subclass of an executor", async () => {
  const seen: unknown[][] = [];
  class Logged extends AsyncPoolExecutor {
    override submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: FuturesOr<A>) {
      seen.push(args);
      return super.submit(fn, ...args);
    }
  }
  await using pool = new Logged();
  assert.equal(await runInExecutor(pool, (a: number, b: number) => a + b, 2, 3), 5);
  assert.deepEqual(seen, [[2, 3]]);
});

Deno.test("runInExecutor() refused rejects a microtask later (many collected before they are handled stay linear)", async () => {
  const pool = new AsyncPoolExecutor();
  await pool.shutdown();
  const refused = runInExecutor(pool, () => 1);
  assert.match(Deno.inspect(refused), /<pending>/);
  await assert.rejects(refused, { name: "InvalidStateError" });
});

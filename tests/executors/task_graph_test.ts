import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  CancelledError,
  DependencyError,
  type Executor,
  Future,
  ProcessPoolExecutor,
  QueueFullError,
  TimeoutError,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { add } from "../fixtures/tasks.ts";
import { workerPool } from "./_worker_helpers.ts";

Deno.test("submit() awaits a future argument and passes its value", async () => {
  await using pool = new AsyncPoolExecutor();
  const order: string[] = [];
  const text = pool.submit(async () => {
    await Promise.resolve();
    order.push("download");
    return "a b c";
  });
  const count = pool.submit((s: string) => {
    order.push("parse");
    return s.split(" ").length;
  }, text);
  assert.equal(await count, 3);
  assert.deepEqual(order, ["download", "parse"]);
});

Deno.test("a failed dependency rejects the dependent with DependencyError whose cause is its error", async () => {
  await using pool = new AsyncPoolExecutor();
  let ran = false;
  const failing = pool.submit((): number => {
    throw new RangeError("bad input");
  });
  const dependent = pool.submit(
    (a: number, b: number) => {
      ran = true;
      return a + b;
    },
    1,
    failing,
  );
  const error = await dependent.exception();
  assert.ok(error instanceof DependencyError);
  assert.equal(error.argument, 1);
  assert.ok(error.cause instanceof RangeError);
  assert.match(error.message, /argument 1 failed: bad input/);
  assert.equal(ran, false);
});

Deno.test("a dependency failed with a value that has no text still rejects the dependent with DependencyError", async () => {
  await using pool = new AsyncPoolExecutor();
  // String() of an object without a prototype throws: building the message threw inside the
  // engine, and the dependent never settled.
  const bare = Object.create(null);
  const failing = pool.submit((): number => {
    throw bare;
  });
  const error = await pool.submit((a: number) => a, failing).exception();
  assert.ok(error instanceof DependencyError);
  assert.equal(error.cause, bare);
  assert.match(error.message, /argument 0 failed: \[object Object\]$/);
});

Deno.test("cancelling a dependency cancels what depends on it", async () => {
  await using pool = new AsyncPoolExecutor();
  const input = new Future<number>();
  const first = pool.submit((x: number) => x, input);
  const second = pool.submit((x: number) => x, first);
  assert.equal(input.cancel(), true);
  assert.equal(first.cancelled(), true);
  assert.equal(second.cancelled(), true);
  await assert.rejects(() => second.result(), CancelledError);
});

Deno.test("a task waiting for its inputs takes no worker slot", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const input = new Future<number>();
  const waiting = pool.submit((x: number) => x * 2, input);
  // With the only slot held by the waiting task, this one could never run.
  assert.equal(await pool.submit(() => "ran meanwhile"), "ran meanwhile");
  assert.equal(waiting.done(), false);
  input.setResult(21);
  assert.equal(await waiting, 42);
});

Deno.test("a future from one executor feeds a task on another", async () => {
  await using io = new AsyncPoolExecutor();
  await using cpu = workerPool({ maxWorkers: 1 });
  const a = io.submit(() => Promise.resolve(40));
  const sum = cpu.submit(add, a, 2);
  assert.equal(await sum, 42);
});

Deno.test("map() awaits futures among its items", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  await using io = new AsyncPoolExecutor();
  const items = [1, 2, 3].map((i) => io.submit(() => Promise.resolve(i * 10)));
  const out: number[] = [];
  for await (const v of pool.map((x: number) => x + 1, items, { chunksize: 2 })) out.push(v);
  assert.deepEqual(out, [11, 21, 31]);
});

Deno.test("a dependent's signal, deadline and cancel() act while it waits for inputs", async () => {
  await using pool = new AsyncPoolExecutor();
  const never = new Future<number>();
  const controller = new AbortController();
  const aborted = pool.with({ signal: controller.signal }).submit((x: number) => x, never);
  controller.abort(new Error("stop"));
  assert.equal(((await aborted.exception()) as Error).message, "stop");
  const late = pool.with({ deadline: Date.now() + 20 }).submit((x: number) => x, never);
  assert.ok((await late.exception()) instanceof TimeoutError);
  const cancelled = pool.submit((x: number) => x, never);
  assert.equal(cancelled.cancel(), true);
  await assert.rejects(() => cancelled.result(), CancelledError);
  await pool.onIdle();
});

Deno.test("an input that failed or was cancelled before submit() settles the dependent at once", async () => {
  await using pool = new AsyncPoolExecutor();
  const failed = new Future<number>();
  failed.setException(new RangeError("bad input"));
  const cancelled = new Future<number>();
  cancelled.cancel();
  const onFailed = pool.submit((x: number) => x, failed);
  const onCancelled = pool.submit((x: number) => x, cancelled);
  // Both were left pending (and counted as live, so onIdle() and shutdown() hung).
  assert.equal(onFailed.done(), true);
  assert.ok((await onFailed.exception()) instanceof DependencyError);
  assert.equal(onCancelled.cancelled(), true);
  await pool.onIdle();
  assert.deepEqual(pool.stats().futures, { completed: 0, failed: 1, cancelled: 1 });
  // In map(), at the failed item's place.
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const x of pool.map((n: number) => n * 2, [1, failed, 3])) seen.push(x);
  }, DependencyError);
  assert.deepEqual(seen, [2]);
});

Deno.test("a task whose inputs were done at submit() is counted once when it is stopped", async () => {
  await using pool = new AsyncPoolExecutor();
  const ready = new Future<number>();
  ready.setResult(1);
  const controller = new AbortController();
  const started = Promise.withResolvers<void>();
  const task = pool.with({ signal: controller.signal }).submit(async (x: number) => {
    started.resolve();
    await new Promise(() => {});
    return x;
  }, ready);
  await started.promise;
  controller.abort(new Error("stop"));
  assert.equal(((await task.exception()) as Error).message, "stop");
  // The abort settled it a second time through a stale hook: failed counted 2.
  assert.deepEqual(pool.stats().futures, { completed: 0, failed: 1, cancelled: 0 });
});

Deno.test("tasks waiting for their inputs hold no place in the queue until the inputs are done", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
  const input = new Future<number>();
  try {
    const a = pool.submit((x: number) => x, input);
    const b = pool.submit((x: number) => x + 1, input);
    // One for the free slot and one waiting behind it fill the queue, whatever waits for inputs.
    const first = pool.submit(() => "first");
    const second = pool.submit(() => "second");
    assert.throws(() => pool.submit(() => "third"), QueueFullError);
    // Their input done, they are queued past maxQueued: they were accepted already.
    input.setResult(1);
    assert.deepEqual(await Promise.all([a, b, first, second]), [1, 2, "first", "second"]);
  } finally {
    // A failed check would leave them waiting for ever, and the pool's disposal with them.
    input.cancel();
  }
});

Deno.test("a failure or a cancellation at the head of a chain of 10,000 tasks settles every one, without deep recursion", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 4 });
  const chain = (head: Future<number>) => {
    const futures = [head];
    for (let i = 1; i < 10_000; i++) {
      futures.push(pool.submit((x: number) => x + 1, futures.at(-1)!));
    }
    return futures;
  };
  const failed = chain(pool.submit((): number => {
    throw new RangeError("the head failed");
  }));
  const errors = await Promise.all(failed.map((future) => future.exception()));
  assert.ok(errors[0] instanceof RangeError);
  for (const error of errors.slice(1)) assert.ok(error instanceof DependencyError, String(error));
  // Each says where the failure came from once: the messages do not grow down the chain.
  const last = errors.at(-1) as DependencyError;
  assert.match(
    last.message,
    /did not run either \(a failure 9999 tasks up the graph\): the head failed$/,
  );
  assert.ok(last.message.length < 200, `${last.message.length} characters`);
  // A cancelled head cancels them all.
  let open!: () => void;
  const blocker = pool.submit(() => new Promise<number>((resolve) => open = () => resolve(0)));
  const cancelled = chain(pool.submit((x: number) => x, blocker));
  assert.ok(cancelled[0]!.cancel());
  await Promise.all(cancelled.map((future) => future.exception().catch(() => {})));
  assert.ok(cancelled.every((future) => future.cancelled()));
  open();
});

/** What `map(x => x * 10, items)` yields, and the error it then throws. */
async function timesTen(
  pool: Executor,
  items: (number | Future<number>)[],
  chunksize: number,
): Promise<{ got: unknown[]; error: unknown }> {
  const got: unknown[] = [];
  try {
    for await (const value of pool.map((x: number) => x * 10, items, { chunksize })) {
      got.push(value);
    }
  } catch (error) {
    return { got, error };
  }
  return { got, error: undefined };
}

Deno.test("map() with chunksize on worker and process pools: an item that is a failed or cancelled future raises at its place, after the items before it in its chunk", async () => {
  const failed = new Future<number>();
  const cause = new RangeError("bad input");
  failed.setException(cause);
  const cancelled = new Future<number>();
  cancelled.cancel();
  for (const Pool of [WorkerPoolExecutor, ProcessPoolExecutor]) {
    await using pool = new Pool({ maxWorkers: 1 });
    for (const [bad, Class] of [[failed, DependencyError], [cancelled, CancelledError]] as const) {
      const items = [0, 1, 2, 3, bad, 5, 6];
      const alone = await timesTen(pool, items, 1);
      assert.deepEqual(alone.got, [0, 10, 20, 30]);
      assert.ok(alone.error instanceof Class, String(alone.error));
      // Item 3 shares its chunk with the failed one: the whole chunk was rejected unrun.
      const chunked = await timesTen(pool, items, 3);
      const what = `${Pool.name}, ${Class.name}`;
      assert.deepEqual(chunked.got, alone.got, what);
      assert.ok(chunked.error instanceof Class, `${what}: ${chunked.error}`);
      if (alone.error instanceof DependencyError && chunked.error instanceof DependencyError) {
        // The position in the chunk (1) was reported, where a chunk of one says argument 0.
        assert.equal(chunked.error.argument, alone.error.argument, what);
        assert.equal(chunked.error.message, alone.error.message, what);
        assert.equal(chunked.error.cause, cause, what);
      }
    }
    assert.equal(await pool.submit(() => "alive"), "alive");
  }
});

Deno.test("map() with chunksize: the futures before a failed item in its chunk are awaited, and the first to fail is raised", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  for (const lateFails of [false, true]) {
    const late = new Future<number>();
    const bad = new Future<number>();
    const results = timesTen(pool, [0, 1, 2, late, bad, 5], 3);
    // Submitted at the call: the chunk [late, bad, 5] waits for its inputs.
    bad.setException(new RangeError("bad"));
    if (lateFails) late.setException(new RangeError("late"));
    else late.setResult(3);
    const { got, error } = await results;
    assert.deepEqual(got, lateFails ? [0, 10, 20] : [0, 10, 20, 30]);
    assert.ok(error instanceof DependencyError, String(error));
    assert.equal((error.cause as Error).message, lateFails ? "late" : "bad");
  }
});

Deno.test("a future inside an argument is refused on a worker pool with a DataCloneError, not sent as {}", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const inner = new Future<number>();
  inner.setResult(1);
  // Structured clone copied it as an empty object: the task got {} in its place, silently.
  for (const arg of [[inner], { value: inner }, new Map([["k", inner]])]) {
    await assert.rejects(
      pool.submit(add, arg as never, 1),
      (error) =>
        error instanceof DOMException && error.name === "DataCloneError" &&
        /Cannot send a Future to a Web Worker: a copy of it is an empty object/.test(error.message),
    );
  }
  // The future itself, as an argument, is awaited.
  assert.equal(await pool.submit(add, inner, 1), 2);
});

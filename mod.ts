/**
 * `@concurrent/futures`: Python's `concurrent.futures` for Deno.
 *
 * Read it in this order:
 *
 * 1. **{@linkcode Future}**: the handle to a result that is not there yet. `await future` gives
 *    the value or throws the task's error; `future.result({ timeout })` waits a bounded time;
 *    `cancel()` drops work that has not started; `addDoneCallback()` runs code when it is done.
 * 2. **Executors**, one interface ({@linkcode Executor}) for three places to run work:
 *    {@linkcode AsyncPoolExecutor} (async functions on the event loop, a bounded number at once:
 *    for I/O), {@linkcode WorkerPoolExecutor} (Web Workers: for CPU-bound work) and
 *    {@linkcode ProcessPoolExecutor} (Deno subprocesses: for work that must be killable and
 *    contained). `submit(fn, ...args)` returns a `Future`; `map(fn, items)` yields results in
 *    input order; `await using` shuts the executor down. `with({ timeout, retry, signal, … })`
 *    gives a view whose tasks carry those {@linkcode TaskOptions}.
 * 3. **Waiting on many futures**: {@linkcode wait} (all, the first, or the first error) and
 *    {@linkcode asCompleted} (each as it finishes).
 * 4. **Errors**: {@linkcode CancelledError}, {@linkcode TimeoutError},
 *    {@linkcode WorkerCrashedError}, {@linkcode BrokenExecutorError}, and the others, each a class
 *    to test with `instanceof`. {@linkcode registerErrorClass} keeps your own error classes across
 *    a worker boundary.
 * 5. **From a running task**: {@linkcode taskSignal} (its abort signal), {@linkcode proxy}
 *    (callbacks to the caller).
 * 6. **The event-loop bridge**: {@linkcode runInExecutor}, {@linkcode toThread} and the default
 *    executor ({@linkcode getDefaultExecutor}).
 * 7. **Actors**: {@linkcode spawn} a worker that owns its state, and call its methods with types.
 * 8. **Shared state** between workers: {@linkcode Lock}, {@linkcode Semaphore},
 *    {@linkcode Event}, {@linkcode Barrier}, {@linkcode Condition}, {@linkcode SharedQueue}.
 *
 * The executor across machines, `DistributedExecutor`, has its own entry point,
 * `@concurrent/futures/distributed`, so that users of the local executors never load its client.
 *
 * @example A future from an executor
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, TimeoutError } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 10 });
 * const future = pool.submit(async (x: number) => x * x, 7);
 * assert.equal(await future, 49);
 * assert.equal(future.done(), true);
 *
 * // Python's future.result(timeout=0.01): times are { timeout } objects, in milliseconds.
 * const gate = Promise.withResolvers<void>();
 * const slow = pool.submit(() => gate.promise);
 * await assert.rejects(slow.result({ timeout: 10 }), TimeoutError);
 * assert.equal(slow.running(), true); // the wait ran out; the task runs on
 * gate.resolve();
 * await slow;
 * ```
 *
 * @example Many futures, as they complete
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 10 });
 * const futures = [1, 2, 3].map((n) => pool.submit(async (x: number) => x * x, n));
 * let sum = 0;
 * for await (const future of asCompleted(futures)) sum += await future;
 * assert.equal(sum, 14);
 * ```
 *
 * @module
 */

export * from "./future/mod.ts";
export * from "./executors/mod.ts";
export * from "./actors/mod.ts";
export * from "./sync/mod.ts";

/**
 * The {@linkcode Executor} interface that every executor implements, and its options.
 *
 * @module
 */

import type { Future } from "../future/future.ts";
import type { RetryOptions } from "./retry.ts";

/**
 * Options that apply to each task. Give them to an executor with `executor.with(options)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const quick = pool.with({ timeout: 1_000 });
 * assert((await quick.submit(async () => 1)) === 1);
 * ```
 */
export interface TaskOptions {
  /**
   * Milliseconds the task may run, counted from the moment it starts running. Past it the future
   * rejects with `TimeoutError` and the work is stopped.
   */
  timeout?: number;
  /** An absolute time (`Date.now()` milliseconds) by which the task must be done, queue time included. */
  deadline?: number;
  /** Aborting it drops a queued task and stops a running one; the future rejects with its reason. */
  signal?: AbortSignal;
  /** Retry failed attempts; see {@linkcode RetryOptions}. */
  retry?: RetryOptions;
  /** The circuit-breaker key, such as a host name; used when the executor has a `circuitBreaker`. */
  domain?: string;
  /**
   * Objects to transfer (not copy) to a worker with the arguments. It acts on
   * `WorkerPoolExecutor` only: `AsyncPoolExecutor` copies nothing (the task runs on this thread),
   * and `ProcessPoolExecutor` and `DistributedExecutor` serialize every byte to another process,
   * so there it is accepted and has no effect.
   */
  transfer?: Transferable[];
}

/**
 * A task's arguments as `submit()` takes them: each may also be a {@linkcode Future} of the value,
 * which the executor awaits before the task is queued (a task graph). The task receives the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const text = pool.submit(async () => "hello world");
 * const words = pool.submit((s: string) => s.split(" ").length, text);
 * assert.equal(await words, 2);
 * ```
 */
export type FuturesOr<A extends unknown[]> = {
  [K in keyof A]: A[K] | Future<A[K]>;
};

/**
 * Options for {@linkcode Executor.map}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const squares = [];
 * for await (const x of pool.map((n: number) => n * n, [1, 2, 3], { buffersize: 2 })) squares.push(x);
 * assert(squares.join() === "1,4,9");
 * ```
 */
export interface MapOptions {
  /**
   * Milliseconds, counted from the `map()` call, after which iteration throws `TimeoutError`. It
   * bounds the caller's wait (as `result()`'s does), unlike `TaskOptions.timeout`, which bounds
   * each task's run.
   */
  timeout?: number;
  /**
   * Items sent to a worker in one message (worker and process pools; ignored elsewhere).
   * @default {1}
   */
  chunksize?: number;
  /**
   * At most this many chunks outstanding; items are pulled as results are consumed, so an
   * endless iterable works. Without it, a sync iterable is submitted eagerly at the call.
   */
  buffersize?: number;
  /** Aborting it stops the iteration (it throws the reason) and cancels what has not started. */
  signal?: AbortSignal;
}

/**
 * Options for {@linkcode Executor.shutdown}.
 *
 * @example
 * ```ts
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * const pool = new AsyncPoolExecutor();
 * await pool.shutdown({ wait: true, cancelFutures: true });
 * ```
 */
export interface ShutdownOptions {
  /**
   * Resolve only when all running work has settled and every worker has exited.
   * @default {true}
   */
  wait?: boolean;
  /**
   * Cancel the futures that have not started.
   * @default {false}
   */
  cancelFutures?: boolean;
}

/**
 * What every executor does: run functions and hand back futures. Switching executor is changing
 * one identifier.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, type Executor } from "@concurrent/futures";
 *
 * async function total(executor: Executor, items: number[]): Promise<number> {
 *   let sum = 0;
 *   for await (const x of executor.map((n: number) => n * 2, items)) sum += x;
 *   return sum;
 * }
 * await using pool = new AsyncPoolExecutor();
 * assert((await total(pool, [1, 2, 3])) === 12);
 * ```
 */
export interface Executor {
  /**
   * Schedules `fn(...args)` and returns a future for its result.
   *
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {BrokenExecutorError} when the executor is broken
   * @throws {TypeError} when `fn` is not a function this executor can run
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>>;
  /**
   * Applies `fn` to every item; results come in input order. An error is thrown at the failing
   * item's position and the remaining tasks are cancelled; leaving the loop early cancels the
   * tasks that have not started.
   */
  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T | Future<T>> | AsyncIterable<T | Future<T>>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>>;
  /**
   * A view of the same executor that gives every task these options. On a view, they narrow its
   * own: signals combine (either one aborts), the shorter `timeout` and the earlier `deadline`
   * hold, the other options replace the view's; the view owns the new one (its `shutdown()`
   * closes it, and `cancelFutures` cancels the futures submitted through it).
   */
  with(options: TaskOptions): Executor;
  /** Stops accepting work; see {@linkcode ShutdownOptions}. Calling it twice is fine. */
  shutdown(options?: ShutdownOptions): Promise<void>;
  /** `shutdown({ wait: true })`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Futures an executor has settled, by outcome: what a caller sees. Each `submit()` is one future;
 * on worker and process pools each `map()` chunk is one too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * await pool.submit(() => 1);
 * await pool.submit(() => Promise.reject(new Error("no"))).exception();
 * assert.deepEqual(pool.stats().futures, { completed: 1, failed: 1, cancelled: 0 });
 * ```
 */
export interface FutureCounts {
  /** Futures that finished with a value. */
  completed: number;
  /** Futures that finished with an error (after any retries). */
  failed: number;
  /** Futures cancelled before they ran. */
  cancelled: number;
}

/**
 * Attempts at running tasks, by outcome: a task retried twice counts three attempts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * let calls = 0;
 * const flaky = () => ++calls < 2 ? Promise.reject(new Error("flaky")) : Promise.resolve("ok");
 * const retry = { maxAttempts: 3, backoff: { initial: 1 }, retryOn: () => true };
 * assert.equal(await pool.with({ retry }).submit(flaky), "ok");
 * assert.deepEqual(pool.stats().attempts, { completed: 1, failed: 1 });
 * assert.equal(pool.stats().futures.completed, 1);
 * ```
 */
export interface AttemptCounts {
  /** Attempts that finished with a value. */
  completed: number;
  /** Attempts that finished with an error (thrown, timed out, aborted, crashed). */
  failed: number;
}

/**
 * What every executor's `stats()` reports; each executor's stats extend it with their own
 * fields (`WorkerPoolStats.workers`, `DistributedStats.redelivered`, …).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, type ExecutorStats } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * await pool.submit(() => 1);
 * const stats: ExecutorStats = pool.stats();
 * assert.equal(stats.futures.completed, 1);
 * ```
 */
export interface ExecutorStats {
  /** Tasks submitted that have not started. */
  queued: number;
  /** Tasks running now. */
  running: number;
  /** Attempts that finished with a value (as `attempts.completed`). */
  completed: number;
  /** Attempts that finished with an error (as `attempts.failed`). */
  failed: number;
  /** Futures settled, by outcome: what callers saw. */
  futures: FutureCounts;
  /** Attempts by outcome: a retried task counts each. */
  attempts: AttemptCounts;
}

/**
 * An executor as the library's executors and their `with()` views are: an {@linkcode Executor}
 * with backpressure (`whenReady()`), idleness (`onIdle()`), its size and its `stats()`. A view
 * answers for the executor it was made from. (`Executor` itself stays the small interface that
 * `setDefaultExecutor()` accepts, so that code implementing it keeps compiling.)
 *
 * @typeParam S the executor's stats
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 3 });
 * const bounded = pool.with({ timeout: 1_000 });
 * await bounded.submit(() => 1);
 * await bounded.onIdle();
 * assert.equal(bounded.maxWorkers, 3);
 * assert.equal(bounded.stats().futures.completed, 1);
 * ```
 */
export interface ExecutorView<S extends ExecutorStats = ExecutorStats> extends Executor {
  /** A view with these task options added; see {@linkcode Executor.with}. */
  with(options: TaskOptions): ExecutorView<S>;
  /** Resolves when a task can be submitted without `QueueFullError` (a hint). */
  whenReady(): Promise<void>;
  /** Resolves when every task submitted to the executor so far has settled. */
  onIdle(): Promise<void>;
  /** A snapshot of the executor's counters. */
  stats(): S;
  /** How many tasks the executor runs at once, at most. */
  readonly maxWorkers: number;
}

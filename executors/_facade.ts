// The one facade of every executor class: the methods that only hand over to the executor's core.
// Each executor class adds its constructor, stats(), maxWorkers and its own extras.

import type { Future } from "../future/future.ts";
import { type AnyFn, type ExecutorCore, submitToView } from "./_core.ts";
import type {
  Executor,
  ExecutorStats,
  ExecutorView,
  FuturesOr,
  MapOptions,
  ShutdownOptions,
  TaskOptions,
} from "./executor.ts";
import type { DomainCircuitStats } from "./circuit_breaker.ts";

/** Gives an executor its core; internal to the library (each executor's constructor calls it). */
export let attachCore: (executor: ExecutorBase<ExecutorStats>, core: ExecutorCore) => void;

/**
 * `executor.submit(fn, ...args)` with the arguments as an array: spread no more on the way for the
 * library's own executors and their views (see `ExecutorCore.submitArgs`), spread once for any
 * other.
 */
export let submitArgs: (executor: Executor, fn: AnyFn, args: unknown[]) => Future<unknown>;

/**
 * What `AsyncPoolExecutor`, `WorkerPoolExecutor`, `ProcessPoolExecutor` and `DistributedExecutor`
 * share: `submit()`, `map()`, `with()`, `whenReady()`, `onIdle()`, `shutdown()`,
 * `circuitStats()`, `stats()` and `maxWorkers`. It is not meant to be extended outside the
 * library; implement {@linkcode Executor} for an executor of your own.
 *
 * @typeParam S the executor's stats
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, type ExecutorBase, type ExecutorStats } from "@concurrent/futures";
 *
 * async function doubled(executor: ExecutorBase<ExecutorStats>, x: number): Promise<number> {
 *   await executor.whenReady();
 *   return await executor.submit((n: number) => n * 2, x);
 * }
 * await using pool = new AsyncPoolExecutor();
 * assert.equal(await doubled(pool, 21), 42);
 * ```
 */
export abstract class ExecutorBase<S extends ExecutorStats> implements ExecutorView<S> {
  #core!: ExecutorCore;

  static {
    attachCore = (executor, core) => {
      executor.#core = core;
      core.facade = executor;
    };
    // A subclass's own submit() (not that the library's classes are meant to be extended) is
    // called as it is.
    submitArgs = (executor, fn, args) =>
      executor instanceof ExecutorBase && executor.submit === ExecutorBase.prototype.submit
        ? executor.#core.submitArgs(fn, args)
        : submitToView(executor, fn, args) ?? executor.submit(fn, ...args);
  }

  /**
   * A snapshot of the executor's counters: {@linkcode ExecutorStats} and the executor's own.
   *
   * @returns the counters now
   */
  abstract stats(): S;

  /** How many tasks the executor runs at once, at most. */
  abstract get maxWorkers(): number;

  /**
   * Schedules `fn(...args)`; returns its future.
   *
   * @param fn the function to run (on a worker pool: an export of a task module, or a
   * self-contained function)
   * @param args its arguments; a future among them is awaited first and its value passed
   * @returns the task's future
   * @throws {TypeError} when `fn` cannot run on this executor (a class, a bound or a built-in
   * function on a worker pool), saying why
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {BrokenExecutorError} once the executor is broken
   * @throws {QueueFullError} when `maxQueued` tasks already wait to start
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * assert.equal(await pool.submit((a: number, b: number) => a * b, 6, 7), 42);
   * ```
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>> {
    return this.#core.submitArgs(fn as AnyFn, args) as Future<Awaited<R>>;
  }

  /**
   * Applies `fn` to each item; results in input order (see `Executor.map`). Worker and process
   * pools send `chunksize` items per message.
   *
   * @param fn the function to apply to each item
   * @param items the items, sync or async; futures among them are awaited first
   * @param options `timeout` (from this call), `chunksize`, `buffersize`, `signal`
   * @returns an async iterator of the results, in input order
   * @throws {InvalidStateError} after `shutdown()`
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * const out = [];
   * for await (const y of pool.map((x: number) => x * 2, [1, 2, 3])) out.push(y);
   * assert.deepEqual(out, [2, 4, 6]);
   * ```
   */
  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T | Future<T>> | AsyncIterable<T | Future<T>>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#core.map(fn, items, options);
  }

  /**
   * A view of this executor whose tasks get `options` (timeout, deadline, signal, retry, domain,
   * transfer). Its `shutdown()` closes the view only; its `whenReady()`, `onIdle()`, `stats()`
   * and `maxWorkers` are the executor's.
   *
   * @param options the task options the view's tasks get
   * @returns a view that submits to this executor with those options
   * @throws {TypeError} for an option of the wrong type or an unknown key, naming it
   * @throws {RangeError} for an option out of range, naming it and the value
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * const bounded = pool.with({ timeout: 5_000 });
   * assert.equal(await bounded.submit(() => "done"), "done");
   * assert.equal(bounded.stats().futures.completed, 1);
   * ```
   */
  with(options: TaskOptions): ExecutorView<S> {
    return this.#core.with(options) as ExecutorView<S>;
  }

  /**
   * Resolves when a task can be submitted without `QueueFullError` (at once without
   * `maxQueued`, or once the executor is shut down). Another caller may take the room first: it
   * is a hint.
   *
   * @returns a promise that resolves when fewer than `maxQueued` tasks wait to start
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 2 });
   * const results = [];
   * for (let i = 0; i < 10; i++) {
   *   await pool.whenReady();
   *   results.push(pool.submit((x: number) => x * 2, i));
   * }
   * assert.equal((await Promise.all(results)).at(-1), 18);
   * ```
   */
  whenReady(): Promise<void> {
    return this.#core.whenReady();
  }

  /**
   * Resolves when every task submitted so far has settled (at once if none is left).
   *
   * @returns a promise that resolves when the executor is idle
   *
   * @example
   * ```ts
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * pool.submit(() => 1);
   * await pool.onIdle();
   * ```
   */
  onIdle(): Promise<void> {
    return this.#core.onIdle();
  }

  /**
   * The state of each domain's circuit, when the executor was given `circuitBreaker` (empty if
   * not).
   *
   * @returns a map from domain to its circuit's state
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor({ circuitBreaker: { threshold: 1, halfOpenAfter: 1000 } });
   * await pool.with({ domain: "db" }).submit(() => {
   *   throw new Error("down");
   * }).exception();
   * assert.equal(pool.circuitStats().get("db")?.state, "open");
   * ```
   */
  circuitStats(): Map<string, DomainCircuitStats> {
    return this.#core.breakers?.stats() ?? new Map();
  }

  /**
   * Stops accepting work; with `wait` (the default) resolves once all work has settled and every
   * worker has ended.
   *
   * @param options `wait` (default true): resolve once the work has settled; `cancelFutures`
   * (default false): cancel the tasks that have not started
   * @returns a promise that resolves when the executor has shut down (at once without `wait`)
   *
   * @example
   * ```ts
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * const pool = new AsyncPoolExecutor();
   * await pool.shutdown();
   * ```
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#core.shutdown(options);
  }

  /**
   * `shutdown({ wait: true })`, for `await using`.
   *
   * @returns a promise that resolves once the executor has shut down
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.shutdown({ wait: true });
  }
}

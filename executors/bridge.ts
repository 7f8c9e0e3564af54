/**
 * The bridge between the event loop and executors: {@linkcode runInExecutor},
 * {@linkcode toThread}, and the default executor.
 *
 * @module
 */

import type { Executor, ShutdownOptions } from "./executor.ts";
import { WorkerPoolExecutor } from "./worker_pool.ts";
import type { AnyFn } from "./_core.ts";
import { submitArgs } from "./_facade.ts";
import { refuse, show } from "../future/_options.ts";
import { rejectSoon } from "../future/_reject_soon.ts";

let defaultExecutor: Executor | undefined;

/** The lazily created default: once shut down, the next use creates a new one. */
class DefaultWorkerPool extends WorkerPoolExecutor {
  override shutdown(options?: ShutdownOptions): Promise<void> {
    if (defaultExecutor === this) defaultExecutor = undefined;
    return super.shutdown(options);
  }

  override [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }
}

/**
 * The executor that `runInExecutor(null, …)` and `toThread()` use: unless one was set with
 * {@linkcode setDefaultExecutor}, a `WorkerPoolExecutor` created on first use, whose idle workers
 * exit after 250 ms (`idleTimeout`; a pool you create defaults to 1000 ms): it is created
 * implicitly, so nobody shuts it down, and the process should be free to exit almost as soon as
 * the work is done. Shutting it down is
 * allowed (to end its workers at once); the next use creates a new one.
 *
 * @returns the default executor
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultExecutor } from "@concurrent/futures";
 *
 * const executor = getDefaultExecutor();
 * assert((await executor.submit((x: number) => x + 1, 1)) === 2);
 * await executor.shutdown(); // optional: ends its workers now rather than when idle
 * ```
 */
export function getDefaultExecutor(): Executor {
  defaultExecutor ??= new DefaultWorkerPool({ name: "default", idleTimeout: 250 });
  return defaultExecutor;
}

/**
 * Replaces the default executor. The previous one is not shut down: that is the caller's call.
 *
 * @param executor the new default
 * @throws {TypeError} when `executor` does not look like an executor
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, runInExecutor, setDefaultExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * setDefaultExecutor(pool);
 * assert((await runInExecutor(null, () => "on the pool")) === "on the pool");
 * ```
 */
export function setDefaultExecutor(executor: Executor): void {
  if (
    executor === null || typeof executor !== "object" ||
    typeof (executor as Executor).submit !== "function"
  ) {
    throw new TypeError(
      `Cannot set the default executor as 'executor' must be an Executor: received ${
        show(executor)
      }`,
    );
  }
  defaultExecutor = executor;
}

/**
 * Runs `fn(...args)` on `executor` (the default executor for `null` or `undefined`) and returns a
 * promise of its result, as asyncio's `loop.run_in_executor`.
 *
 * @param executor where to run it
 * @param fn the function
 * @param args its arguments
 * @returns the result
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, runInExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * assert((await runInExecutor(pool, (a: number, b: number) => a + b, 2, 3)) === 5);
 * ```
 */
export function runInExecutor<A extends unknown[], R>(
  executor: Executor | null | undefined,
  fn: (...args: A) => R,
  ...args: A
): Promise<Awaited<R>> {
  return run(executor, fn as AnyFn, args) as Promise<Awaited<R>>;
}

/** `runInExecutor()` with the arguments as an array (spread once, in the user's call). */
function run(executor: Executor | null | undefined, fn: AnyFn, args: unknown[]): Promise<unknown> {
  // A promise-returning function: what the submit refuses (a bad function, a shut-down
  // executor) rejects it, as the task's own failure would.
  try {
    if (executor != null && typeof (executor as Partial<Executor>).submit !== "function") {
      refuse(
        { action: "run in an executor", path: "executor" },
        "an executor (or null for the default one)",
        executor,
        false,
      );
    }
    return submitArgs(executor ?? getDefaultExecutor(), fn, args).result();
  } catch (error) {
    return rejectSoon(error);
  }
}

/**
 * Runs a blocking function off the main thread, on the default executor, as Python's
 * `asyncio.to_thread`. The function is sent to a worker: it must be self-contained or exported
 * from a task module of the default executor.
 *
 * @param fn the function
 * @param args its arguments
 * @returns the result
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getDefaultExecutor, toThread } from "@concurrent/futures";
 *
 * // Runs in a worker: a self-contained function, sent by source. (A named function may call
 * // itself; an arrow function stored in a const may not, as its name is a free variable.)
 * function fib(n: number): number {
 *   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * }
 * assert.equal(await toThread(fib, 20), 6765);
 * await getDefaultExecutor().shutdown(); // optional: ends its workers now rather than when idle
 * ```
 */
export function toThread<A extends unknown[], R>(
  fn: (...args: A) => R,
  ...args: A
): Promise<Awaited<R>> {
  return run(null, fn as AnyFn, args) as Promise<Awaited<R>>;
}

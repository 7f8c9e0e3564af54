/**
 * Errors of executors' own features: backpressure ({@linkcode QueueFullError}) and task graphs
 * ({@linkcode DependencyError}).
 *
 * @module
 */

/**
 * `submit()` was called while an executor created with `maxQueued` already had that many tasks
 * waiting to start. Nothing was queued; wait for room with `await executor.whenReady()` and submit
 * again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, QueueFullError } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
 * const { promise: gate, resolve: open } = Promise.withResolvers<void>();
 * pool.submit(() => gate); // running
 * pool.submit(() => 1); // queued: the queue is now full
 * assert.throws(() => pool.submit(() => 2), QueueFullError);
 * open();
 * await pool.whenReady();
 * assert.equal(await pool.submit(() => 3), 3);
 * ```
 */
export class QueueFullError extends Error {
  /** The executor's `maxQueued`. */
  readonly maxQueued: number;

  /**
   * Creates the error.
   *
   * @param maxQueued the limit that was reached
   * @param message what could not be done
   */
  constructor(maxQueued: number, message = `the queue is full (maxQueued: ${maxQueued})`) {
    super(message);
    this.name = "QueueFullError";
    this.maxQueued = maxQueued;
  }
}

/**
 * A task did not run because a future passed as one of its arguments failed. `cause` is that
 * future's error and `argument` its position among the task's arguments (for a `map()` item sent
 * in a chunk, its position in the chunk). A cancelled input cancels the task instead.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, DependencyError } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const download = pool.submit(async (): Promise<string> => {
 *   throw new Error("404");
 * });
 * const parsed = pool.submit((text: string) => text.length, download);
 * const error = await parsed.exception();
 * assert(error instanceof DependencyError);
 * assert.equal((error.cause as Error).message, "404");
 * ```
 */
export class DependencyError extends Error {
  /** The position of the failed future among the task's arguments. */
  readonly argument: number;

  /**
   * Creates the error.
   *
   * @param argument the position of the failed future among the task's arguments
   * @param cause the future's error
   */
  constructor(argument: number, cause: unknown) {
    super(
      `the task did not run: the future passed as argument ${argument} failed: ${
        cause instanceof Error ? cause.message : String(cause)
      }`,
      { cause },
    );
    this.name = "DependencyError";
    this.argument = argument;
  }
}

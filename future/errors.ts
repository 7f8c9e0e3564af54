/**
 * Every error class of this library, in one module: those futures and executors reject with,
 * backpressure's and task graphs', and the sync primitives'. Each entry point re-exports the
 * ones it can throw.
 *
 * @module
 */

import { messageOf } from "./_text.ts";

/**
 * The future was cancelled before it ran.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CancelledError, Future } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * future.cancel();
 * await future.result().catch((error) => {
 *   assert(error instanceof CancelledError);
 * });
 * ```
 */
export class CancelledError extends Error {
  /** Creates the error; the message defaults to `"the future was cancelled"`. */
  constructor(message = "the future was cancelled", options?: ErrorOptions) {
    super(message, options);
    this.name = "CancelledError";
  }
}

/**
 * A wait ran out of time, or a task ran longer than its `timeout` (or past its `deadline`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Future, TimeoutError } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * await future.result({ timeout: 0 }).catch((error) => {
 *   assert(error instanceof TimeoutError);
 * });
 * ```
 */
export class TimeoutError extends Error {
  /** Creates the error; the message defaults to `"timed out"`. */
  constructor(message = "timed out", options?: ErrorOptions) {
    super(message, options);
    this.name = "TimeoutError";
  }
}

/**
 * A producer call (`setResult`, `setException`, `setRunningOrNotifyCancel`) was made in a state
 * that does not allow it, or an executor was used after `shutdown()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Future, InvalidStateError } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * future.setResult(1);
 * try {
 *   future.setResult(2);
 * } catch (error) {
 *   assert(error instanceof InvalidStateError);
 * }
 * ```
 */
export class InvalidStateError extends Error {
  /** Creates the error. */
  constructor(message = "invalid state", options?: ErrorOptions) {
    super(message, options);
    this.name = "InvalidStateError";
  }
}

/**
 * The executor can no longer run work: an initializer failed, a task module could not be loaded,
 * the restart limit was exceeded, or `onCrash: "break"` and a worker died. Every pending future
 * rejects with it and `submit()` throws it. The reason is in `message` and `cause`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BrokenExecutorError } from "@concurrent/futures";
 *
 * const error = new BrokenExecutorError("initializer failed", { cause: new Error("boom") });
 * assert(error.name === "BrokenExecutorError");
 * ```
 */
export class BrokenExecutorError extends Error {
  /** Creates the error. */
  constructor(message = "the executor is broken", options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenExecutorError";
  }
}

/**
 * Details of a worker's death, for {@linkcode WorkerCrashedError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerCrashedError, type WorkerCrashedErrorOptions } from "@concurrent/futures";
 *
 * const details: WorkerCrashedErrorOptions = { exitCode: 137, signal: "SIGKILL" };
 * const error = new WorkerCrashedError("worker 2 was killed", details);
 * assert.equal(error.exitCode, 137);
 * assert.equal(error.signal, "SIGKILL");
 * ```
 */
export interface WorkerCrashedErrorOptions extends ErrorOptions {
  /** The exit code the worker gave (`Deno.exit(n)`), or the process exit code. */
  exitCode?: number;
  /** The signal that ended a worker process, such as `"SIGKILL"`. */
  signal?: string;
}

/**
 * The worker (thread or process) running this task died while running it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerCrashedError } from "@concurrent/futures";
 *
 * const error = new WorkerCrashedError("worker 1 exited", { exitCode: 3 });
 * assert(error.exitCode === 3);
 * ```
 */
export class WorkerCrashedError extends Error {
  /** The worker's exit code, when it gave one. */
  exitCode?: number;
  /** The signal that ended a worker process, when one did. */
  signal?: string;

  /** Creates the error. */
  constructor(
    message = "the worker died while running the task",
    options?: WorkerCrashedErrorOptions,
  ) {
    super(message, options);
    this.name = "WorkerCrashedError";
    if (options?.exitCode !== undefined) this.exitCode = options.exitCode;
    if (options?.signal !== undefined) this.signal = options.signal;
  }
}

/**
 * The circuit of the task's `domain` is open: the task was not run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitOpenError } from "@concurrent/futures";
 *
 * const error = new CircuitOpenError("api.example", 1500);
 * assert(error.domain === "api.example" && error.retryAfter === 1500);
 * ```
 */
export class CircuitOpenError extends Error {
  /** The domain whose circuit is open. */
  domain: string;
  /** Milliseconds until the circuit lets a probe through. */
  retryAfter: number;

  /**
   * Creates the error for `domain`, which lets a probe through in `retryAfter` ms (0: it is
   * half-open, and the probes it lets through are out).
   */
  constructor(domain: string, retryAfter: number, options?: ErrorOptions) {
    super(
      retryAfter > 0
        ? `the circuit for domain '${domain}' is open: retry after ${Math.ceil(retryAfter)} ms`
        : `the circuit for domain '${domain}' is half-open and its probes are out: retry once they have settled`,
      options,
    );
    this.name = "CircuitOpenError";
    this.domain = domain;
    this.retryAfter = retryAfter;
  }
}

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
    // Down a chain of tasks, each says where the failure came from once, not each message above.
    const levels = cause instanceof DependencyError ? cause.#levels + 1 : 0;
    const root = cause instanceof DependencyError ? cause.#root : cause;
    // A failure with no text (an object without a prototype, say) must not make this throw.
    const what = messageOf(root);
    super(
      levels === 0
        ? `the task did not run: the future passed as argument ${argument} failed: ${what}`
        : `the task did not run: the future passed as argument ${argument} did not run either (a failure ${
          levels + 1
        } tasks up the graph): ${what}`,
      { cause },
    );
    this.name = "DependencyError";
    this.argument = argument;
    this.#levels = levels;
    this.#root = root;
  }

  /** Tasks between this one and the failure (0: its input itself failed). */
  readonly #levels: number;
  /** The failure at the top of the chain. */
  readonly #root: unknown;
}

/**
 * The `Barrier` is broken: a waiter timed out, or `abort()` was called. Every waiter,
 * and every later `wait()`, throws it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Barrier, BrokenBarrierError } from "@concurrent/futures";
 *
 * const barrier = new Barrier(2);
 * barrier.abort();
 * await assert.rejects(barrier.wait(), BrokenBarrierError);
 * ```
 */
export class BrokenBarrierError extends Error {
  /**
   * Creates the error.
   *
   * @param message what broke it
   * @param options the `cause`
   */
  constructor(message = "the Barrier is broken", options?: ErrorOptions) {
    super(message, options);
    this.name = "BrokenBarrierError";
  }
}

/**
 * The `SharedQueue` is closed: `put()` throws it at once, `get()` once the queue is
 * empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { QueueClosedError, SharedQueue } from "@concurrent/futures";
 *
 * const queue = new SharedQueue();
 * queue.close();
 * await assert.rejects(queue.put(1), QueueClosedError);
 * ```
 */
export class QueueClosedError extends Error {
  /**
   * Creates the error.
   *
   * @param message what was refused
   */
  constructor(message = "the SharedQueue is closed") {
    super(message);
    this.name = "QueueClosedError";
  }
}

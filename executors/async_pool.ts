/**
 * {@linkcode AsyncPoolExecutor}: runs functions on the current event loop, a bounded number at
 * once. The analogue of Python's `ThreadPoolExecutor`, for I/O-bound work.
 *
 * @module
 */

import type { Future } from "../future/future.ts";
import type {
  AttemptCounts,
  Executor,
  FutureCounts,
  FuturesOr,
  MapOptions,
  ShutdownOptions,
  TaskOptions,
} from "./executor.ts";
import { COMMON_OPTION_KEYS, type CommonExecutorOptions, ExecutorCore } from "./_core.ts";
import type { Job } from "./_task.ts";
import { JobQueue } from "./_job_queue.ts";
import { checkKnownKeys, checkPositiveInt } from "./_options.ts";
import { show } from "./_check.ts";
import type { DomainCircuitStats } from "./circuit_breaker.ts";
import { callWithSignal } from "../actors/task_signal.ts";

/** Options for {@linkcode AsyncPoolExecutor}. */
export interface AsyncPoolExecutorOptions extends CommonExecutorOptions {
  /**
   * How many tasks run at once.
   * @default {Math.min(32, navigator.hardwareConcurrency + 4)}
   */
  maxWorkers?: number;
}

/** A snapshot of an {@linkcode AsyncPoolExecutor}'s counters. */
export interface AsyncPoolStats {
  /** Tasks waiting for a slot. */
  queued: number;
  /** Tasks running now. */
  running: number;
  /** Attempts that finished with a value. */
  completed: number;
  /** Attempts that finished with an error (timeouts and aborts included). */
  failed: number;
  /** Futures settled, by outcome: what callers saw. */
  futures: FutureCounts;
  /** Attempts by outcome (the same as `completed` and `failed`): retries count each attempt. */
  attempts: AttemptCounts;
}

/**
 * Runs (async) functions on the current event loop with at most `maxWorkers` running at once.
 *
 * It is the analogue of `ThreadPoolExecutor` for I/O-bound work: 100 tasks that each wait 300 ms
 * finish in about 3 s with `maxWorkers: 10`. CPU-bound work gains nothing here (one event loop);
 * use `WorkerPoolExecutor` for it.
 *
 * A task's `timeout` or `signal` rejects its future at once and frees its slot; the function sees
 * the abort through {@linkcode taskSignal} (call it before the first `await`) and should stop,
 * as JavaScript cannot stop it from outside.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 10 });
 * const sleep = (ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms));
 * const results = [];
 * for await (const ms of pool.map(sleep, [30, 10, 20])) results.push(ms);
 * assert(results.join() === "30,10,20");
 * ```
 */
export class AsyncPoolExecutor implements Executor {
  readonly #core: ExecutorCore;
  readonly #maxWorkers: number;
  /** Jobs waiting for a slot; a job that settles while it waits leaves at once. */
  readonly #queue = new JobQueue<Job>();
  #running = 0;
  #completed = 0;
  #failed = 0;
  #pumpScheduled = false;
  #pumping = false;

  /**
   * Creates the pool.
   *
   * @param options `maxWorkers`, `name`, `circuitBreaker`
   * @throws {RangeError} when `maxWorkers` is not a positive integer
   */
  constructor(options?: AsyncPoolExecutorOptions) {
    const what = "create AsyncPoolExecutor";
    if (options !== undefined && (options === null || typeof options !== "object")) {
      throw new TypeError(
        `Cannot ${what} as 'options' must be an object: received ${show(options)}`,
      );
    }
    checkKnownKeys(what, options ?? {}, ["maxWorkers", ...COMMON_OPTION_KEYS]);
    this.#maxWorkers = checkPositiveInt(what, "maxWorkers", options?.maxWorkers) ??
      Math.min(32, (navigator.hardwareConcurrency || 1) + 4);
    this.#core = new ExecutorCore("AsyncPoolExecutor", options, {
      chunks: false,
      validateFunction(fn) {
        if (typeof fn !== "function") {
          throw new TypeError(
            `Cannot submit a task as 'fn' must be a function: received ${
              fn === null ? "null" : typeof fn
            }`,
          );
        }
      },
      freeSlots: () => Math.max(0, this.#maxWorkers - this.#running),
      schedule: (job) => {
        this.#queue.push(job);
        this.#schedulePump();
      },
      close: () => Promise.resolve(),
      // The job policy: one object for every job.
      jobEnded: () => {
        this.#running--;
        this.#pump();
      },
      jobAborted: () => {
        this.#failed++;
      },
      jobDropped: (job) => {
        this.#queue.remove(job);
      },
    });
  }

  /** How many tasks run at once. */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * Counters: queued, running, `futures` (settled futures by outcome) and `attempts` (tries by
   * outcome: a retried task counts each attempt; `completed` and `failed` are the same numbers).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * await pool.submit(() => 1);
   * assert(pool.stats().futures.completed === 1 && pool.stats().attempts.completed === 1);
   * ```
   */
  stats(): AsyncPoolStats {
    return {
      queued: this.#queue.length,
      running: this.#running,
      completed: this.#completed,
      failed: this.#failed,
      futures: this.#core.futureCounts(),
      attempts: { completed: this.#completed, failed: this.#failed },
    };
  }

  /**
   * The state of each domain's circuit, when the pool was given `circuitBreaker` (empty if not).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor({ circuitBreaker: { threshold: 1, halfOpenAfter: 1000 } });
   * await pool.with({ domain: "api" }).submit(() => Promise.reject(new Error("down"))).exception();
   * assert.equal(pool.circuitStats().get("api")?.state, "open");
   * ```
   */
  circuitStats(): Map<string, DomainCircuitStats> {
    return this.#core.breakers?.stats() ?? new Map();
  }

  /**
   * Schedules `fn(...args)`; returns its future.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * assert((await pool.submit((a: number, b: number) => a + b, 1, 2)) === 3);
   * ```
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>> {
    return this.#core.submit(fn, ...args);
  }

  /**
   * Applies `fn` to each item, yielding results in input order (see `Executor.map`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * const out = [];
   * for await (const v of pool.map(async (x: number) => x + 1, [1, 2])) out.push(v);
   * assert(out.join() === "2,3");
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
   * A view of this pool whose tasks get `options` (timeout, deadline, signal, retry, domain).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * const patient = pool.with({ retry: { maxAttempts: 3 } });
   * assert((await patient.submit(() => "ok")) === "ok");
   * ```
   */
  with(options: TaskOptions): Executor {
    return this.#core.with(options);
  }

  /**
   * Resolves when a task can be submitted without `QueueFullError` (at once without `maxQueued`,
   * or once the executor is shut down). Another caller may take the room first: it is a hint.
   *
   * @returns a promise that resolves when fewer than `maxQueued` tasks wait to start
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 10 });
   * const results = [];
   * for (let i = 0; i < 100; i++) {
   *   await pool.whenReady(); // the producer never holds more than 10 queued tasks
   *   results.push(pool.submit(async (x: number) => x * 2, i));
   * }
   * assert.equal((await Promise.all(results)).length, 100);
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
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * await using pool = new AsyncPoolExecutor();
   * const done: number[] = [];
   * for (const i of [1, 2, 3]) pool.submit(async () => void done.push(i));
   * await pool.onIdle();
   * assert.equal(done.length, 3);
   * ```
   */
  onIdle(): Promise<void> {
    return this.#core.onIdle();
  }

  /**
   * Stops accepting work; by default waits for the work already submitted.
   *
   * @example
   * ```ts
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * const pool = new AsyncPoolExecutor();
   * pool.submit(() => 1);
   * await pool.shutdown();
   * ```
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#core.shutdown(options);
  }

  /** `shutdown({ wait: true })`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.shutdown({ wait: true });
  }

  #schedulePump(): void {
    if (this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    queueMicrotask(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  // Not reentrant: a synchronous task that ends inside the loop frees its slot and the same
  // loop takes the next job, so a long queue of sync tasks never deepens the stack.
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#running < this.#maxWorkers && this.#queue.length > 0) {
        const job = this.#queue.shift()!;
        this.#running++;
        if (!job.start()) {
          this.#running--;
          continue;
        }
        this.#run(job);
      }
    } finally {
      this.#pumping = false;
    }
  }

  // An attempt that was aborted (timeout, signal) has been counted as failed already; what its
  // function does afterwards is not counted again.
  #run(job: Job): void {
    let result: unknown;
    try {
      result = callWithSignal(job, job.fn, job.args);
    } catch (error) {
      if (job.settled) return;
      this.#failed++;
      return job.reject(error);
    }
    if (result !== null && typeof (result as PromiseLike<unknown>)?.then === "function") {
      (result as PromiseLike<unknown>).then(
        (value) => {
          if (job.settled) return;
          this.#completed++;
          job.resolve(value);
        },
        (error) => {
          if (job.settled) return;
          this.#failed++;
          job.reject(error);
        },
      );
    } else if (!job.settled) {
      this.#completed++;
      job.resolve(result);
    }
  }
}

/**
 * {@linkcode AsyncPoolExecutor}: runs functions on the current event loop, a bounded number at
 * once. The analogue of Python's `ThreadPoolExecutor`, for I/O-bound work.
 *
 * @module
 */

import { BrokenExecutorError } from "../future/errors.ts";
import { messageOf } from "../future/_text.ts";
import type { AttemptCounts, ExecutorStats, FutureCounts } from "./executor.ts";
import { attachCore, ExecutorBase } from "./_facade.ts";
import { COMMON_OPTION_KEYS, type CommonExecutorOptions, ExecutorCore } from "./_core.ts";
import { makeObservable } from "./_observe.ts";
import { inTraceContext } from "../actors/_trace_context.ts";
import type { Job } from "./_task.ts";
import { JobQueue } from "./_job_queue.ts";
import { Queue } from "../future/_queue.ts";
import { checkKnownKeys, checkPositiveInt } from "./_options.ts";
import { check, show } from "./_check.ts";
import { callWithSignal } from "../actors/task_signal.ts";
import { asyncHooks } from "../actors/_node_builtin.ts";
import type * as AsyncHooks from "node:async_hooks";

/**
 * A task that awaits a future of its own pool: it gives back its slot while it waits (secedes),
 * and takes one again before it goes on (rejoins).
 */
class Secession {
  readonly job: Job;
  /** Whether the task holds a slot now. */
  holding = true;
  /** Awaits of this pool's futures that have not ended. */
  waits = 0;
  /** Resolves the rejoin waiting for a slot. */
  grant: (() => void) | undefined;
  ended = false;

  constructor(job: Job) {
    this.job = job;
  }
}

/**
 * Options for {@linkcode AsyncPoolExecutor}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 *
 * const slots: string[] = [];
 * await using pool = new AsyncPoolExecutor({
 *   maxWorkers: 2,
 *   initializer: (prefix: string) => void slots.push(`${prefix}${slots.length}`),
 *   initargs: ["slot-"],
 * });
 * await Promise.all([pool.submit(() => 1), pool.submit(() => 2)]);
 * assert.deepEqual(slots, ["slot-0", "slot-1"]);
 * ```
 */
export interface AsyncPoolExecutorOptions extends CommonExecutorOptions {
  /**
   * How many tasks run at once.
   * @default {Math.min(32, navigator.hardwareConcurrency + 4)}
   */
  maxWorkers?: number;
  /**
   * Runs once for each slot (each of the `maxWorkers` concurrent tasks), when the slot is first
   * needed, before its first task; the slot waits for it when it returns a promise. As Python's
   * `ThreadPoolExecutor` runs it once per thread. If it throws (or rejects), the pool is broken:
   * every pending future rejects with `BrokenExecutorError` and `submit()` throws it.
   */
  // deno-lint-ignore no-explicit-any
  initializer?: (...args: any[]) => unknown;
  /** The initializer's arguments. */
  initargs?: unknown[];
}

/**
 * A snapshot of an {@linkcode AsyncPoolExecutor}'s counters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, type AsyncPoolStats } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
 * const during: AsyncPoolStats = await pool.submit(() => pool.stats());
 * assert.equal(during.running, 1); // read by the task itself
 * const after = pool.stats();
 * assert.equal(after.running, 0);
 * assert.equal(after.completed, 1);
 * ```
 */
export interface AsyncPoolStats extends ExecutorStats {
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
 * A task that awaits a pending future of this pool gives its slot back while it waits and takes
 * one again before it goes on, so nested submits never deadlock, even with `maxWorkers: 1`.
 * A task that returns its own future fails with a `TypeError` (an `async` one that returns or
 * awaits it waits for itself, as promises that wait for each other do).
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
export class AsyncPoolExecutor extends ExecutorBase<AsyncPoolStats> {
  readonly #core: ExecutorCore;
  readonly #maxWorkers: number;
  readonly #initializer: ((...args: unknown[]) => unknown) | undefined;
  readonly #initargs: unknown[];
  /** Slots started (their initializer called); every slot counts once there is no initializer. */
  #slots = 0;
  /** Slots whose initializer has not finished; they count as running. */
  #initializing = 0;
  /** Jobs waiting for a slot; a job that settles while it waits leaves at once. */
  readonly #queue = new JobQueue<Job>();
  #running = 0;
  #completed = 0;
  #failed = 0;
  #pumpScheduled = false;
  #pumping = false;
  /**
   * The job whose function is running, across its awaits; made when the first task starts.
   * `node:async_hooks` is not imported with this module, so that importing the library does not
   * load Deno's Node compatibility layer: the constructor preloads it (see `_node_builtin.ts`),
   * and the first task takes it, loading it at once if need be, so no task starts later.
   */
  #current: AsyncHooks.AsyncLocalStorage<Job> | undefined;
  /** Tasks that gave back their slot while awaiting this pool's futures. */
  readonly #seceded = new Map<Job, Secession>();
  /** Seceded tasks whose futures are done, waiting for a slot; served before queued jobs. */
  readonly #rejoins = new Queue<Secession>();

  /**
   * Creates the pool.
   *
   * @param options `maxWorkers` (tasks running at once), `maxQueued` (tasks waiting beyond the
   * free slots before `submit()` throws `QueueFullError`), `circuitBreaker` (one breaker per task
   * `domain`) and `name`; see {@linkcode AsyncPoolExecutorOptions}
   * @throws {RangeError} when `maxWorkers` or `maxQueued` is not a positive integer, or
   * `circuitBreaker` is out of range, naming the option and the value
   * @throws {TypeError} when `options` or an option has the wrong type, or `options` has a key
   * that is not an option
   */
  constructor(options?: AsyncPoolExecutorOptions) {
    super();
    const what = "create AsyncPoolExecutor";
    if (options !== undefined && (options === null || typeof options !== "object")) {
      // Python's ThreadPoolExecutor(10): the number is max_workers.
      const hint = typeof options === "number" ? ` (did you mean { maxWorkers: ${options} }?)` : "";
      throw new TypeError(
        `Cannot ${what} as 'options' must be an object: received ${show(options)}${hint}`,
      );
    }
    checkKnownKeys(what, options ?? {}, [
      "maxWorkers",
      "initializer",
      "initargs",
      ...COMMON_OPTION_KEYS,
    ]);
    this.#maxWorkers = checkPositiveInt(what, "maxWorkers", options?.maxWorkers) ??
      Math.min(32, (navigator.hardwareConcurrency || 1) + 4);
    const { initializer, initargs } = options ?? {};
    check(
      initializer === undefined || typeof initializer === "function",
      what,
      "initializer",
      "a function",
      initializer,
      false,
    );
    check(
      initargs === undefined || Array.isArray(initargs),
      what,
      "initargs",
      "an array",
      initargs,
      false,
    );
    this.#initializer = initializer;
    this.#initargs = initargs ?? [];
    if (!initializer) this.#slots = this.#maxWorkers;
    this.#core = new ExecutorCore("AsyncPoolExecutor", options, {
      chunks: false,
      validateFunction(fn) {
        if (typeof fn !== "function") {
          throw new TypeError(
            `Cannot submit a task as 'fn' must be a function: received ${show(fn)}`,
          );
        }
      },
      // A slot running its initializer takes a task as soon as it is ready: it is free.
      freeSlots: () => Math.max(0, this.#maxWorkers - this.#runningTasks),
      schedule: (job) => {
        this.#queue.push(job);
        this.#schedulePump();
      },
      close: () => Promise.resolve(),
      awaiting: () => this.#awaiting(),
      // The job policy: one object for every job.
      jobEnded: (job) => {
        const secession = this.#seceded.get(job);
        if (secession !== undefined) return this.#endSeceded(secession);
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
    attachCore(this, this.#core);
    makeObservable(this, this.#core);
    void asyncHooks.preload();
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
  override stats(): AsyncPoolStats {
    return {
      queued: this.#queue.length,
      running: this.#runningTasks,
      completed: this.#completed,
      failed: this.#failed,
      futures: this.#core.futureCounts(),
      attempts: { completed: this.#completed, failed: this.#failed },
    };
  }

  /** Slots running a task: those held, less those still running their initializer. */
  get #runningTasks(): number {
    return this.#running - this.#initializing;
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
      this.#startSlots();
      while (this.#running < this.#slots && this.#rejoins.length > 0) {
        const secession = this.#rejoins.shift()!;
        if (secession.ended) continue;
        secession.holding = true;
        this.#running++;
        secession.grant!();
        secession.grant = undefined;
      }
      // A broken pool starts nothing: breaking it stops its running tasks one by one, and each
      // frees a slot that the next queued task (rejected a moment later) must not take.
      while (
        this.#running < this.#slots && this.#queue.length > 0 && this.#core.broken === undefined
      ) {
        const job = this.#queue.shift()!;
        this.#running++;
        if (!job.start()) {
          this.#running--;
          continue;
        }
        this.#core.observer?.started(job, undefined);
        // A task with a trace context (a tracer's attempt, or one a distributed worker carried)
        // runs in it, as on a Web Worker: spans its code starts join that trace.
        const { traceparent } = job.task;
        if (traceparent === undefined) this.#run(job);
        else inTraceContext(traceparent, () => this.#run(job));
      }
    } finally {
      this.#pumping = false;
    }
  }

  // Starts as many new slots as the work waiting needs (a new slot runs the initializer first).
  #startSlots(): void {
    const waiting = this.#queue.length + this.#rejoins.length;
    // More work waits than free slots and slots being initialized can take: one more slot. (A
    // synchronous initializer leaves its slot free at once, and the next is started as well.)
    while (
      this.#slots < this.#maxWorkers &&
      waiting > this.#slots - this.#running + this.#initializing && !this.#core.broken
    ) {
      this.#slots++;
      this.#initializing++;
      this.#running++;
      let result: unknown;
      try {
        result = this.#initializer!(...this.#initargs);
      } catch (error) {
        this.#initFailed(error);
        return;
      }
      if (
        result !== null && (typeof result === "object" || typeof result === "function") &&
        typeof (result as PromiseLike<unknown>).then === "function"
      ) {
        Promise.resolve(result).then(() => this.#slotReady(), (error) => this.#initFailed(error));
      } else {
        this.#initializing--;
        this.#running--;
      }
    }
  }

  #slotReady(): void {
    this.#initializing--;
    this.#running--;
    this.#pump();
  }

  #initFailed(error: unknown): void {
    this.#initializing--;
    this.#running--;
    this.#core.breakWith(
      new BrokenExecutorError(
        `the initializer of ${this.#core.label} threw: ${messageOf(error)}`,
        { cause: error },
      ),
    );
  }

  // A task of this pool awaits one of its futures: it gives back its slot (the queued task it
  // waits for can then run) and rejoins once the futures it awaits are done.
  #awaiting(): (() => Promise<void>) | undefined {
    // There is no context before the first task: no task of this pool can be awaiting.
    const job = this.#current?.getStore();
    if (job === undefined || job.settled) return undefined;
    let secession = this.#seceded.get(job);
    if (secession === undefined) {
      secession = new Secession(job);
      this.#seceded.set(job, secession);
    }
    const waiting = secession;
    waiting.waits++;
    if (waiting.holding) {
      waiting.holding = false;
      this.#running--;
      this.#pump();
    }
    return () => this.#rejoin(waiting);
  }

  // While other awaits of the task are pending it goes on without a slot (what runs then is the
  // continuation of one await, such as Promise.all collecting a value); the last one takes a slot.
  #rejoin(secession: Secession): Promise<void> {
    secession.waits--;
    if (secession.holding || secession.ended || secession.waits > 0) return Promise.resolve();
    if (this.#running < this.#slots && this.#rejoins.length === 0) {
      secession.holding = true;
      this.#running++;
      return Promise.resolve();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    secession.grant = resolve;
    this.#rejoins.push(secession);
    return promise;
  }

  #endSeceded(secession: Secession): void {
    secession.ended = true;
    this.#seceded.delete(secession.job);
    // An aborted task waiting to rejoin goes on without a slot: it has no claim to one any more.
    secession.grant?.();
    secession.grant = undefined;
    if (secession.holding) {
      secession.holding = false;
      this.#running--;
    }
    this.#pump();
  }

  // An attempt that was aborted (timeout, signal) has been counted as failed already; what its
  // function does afterwards is not counted again.
  #run(job: Job): void {
    let result: unknown;
    try {
      const current = this.#current ??= new (asyncHooks.get().AsyncLocalStorage)<Job>();
      result = current.run(job, callWithSignal, job, job.fn, job.args);
    } catch (error) {
      if (job.settled) return;
      this.#failed++;
      return job.reject(error);
    }
    // A thenable's `then` is user code too: reading it or calling it may throw, which rejects
    // the task like a throw from the function itself (and never escapes the pump).
    let then: unknown;
    try {
      then = result !== null && (typeof result === "object" || typeof result === "function")
        ? (result as PromiseLike<unknown>).then
        : undefined;
      if (typeof then === "function") {
        if (result === job.task.future) {
          this.#failed++;
          return job.reject(waitsForItself());
        }
        (then as PromiseLike<unknown>["then"]).call(
          result,
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
        return;
      }
    } catch (error) {
      if (job.settled) return;
      this.#failed++;
      return job.reject(error);
    }
    if (!job.settled) {
      this.#completed++;
      job.resolve(result);
    }
  }
}

/** What a task that waits for its own future fails with: it could never settle. */
function waitsForItself(): TypeError {
  return new TypeError(
    "Cannot finish a task that returned its own future: it would wait for itself forever",
  );
}

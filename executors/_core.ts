// The shared half of every executor: submit, map, with(), shutdown and breaking. The public
// executor classes are thin facades over an ExecutorCore and an Engine that queues and runs jobs.

import { type Future, outcomeOf } from "../future/future.ts";
import { type BrokenExecutorError, InvalidStateError } from "../future/errors.ts";
import { CircuitBreakers } from "./circuit_breaker.ts";
import type { CircuitBreakerOptions } from "./circuit_breaker.ts";
import type {
  Executor,
  FutureCounts,
  MapOptions,
  ShutdownOptions,
  TaskOptions,
} from "./executor.ts";
import { type Job, type JobKind, Task, type TaskHost } from "./_task.ts";
import { mapTasks } from "./_map.ts";
import { validateTaskOptions } from "./_options.ts";

/** A function as the core sees it. */
export type AnyFn = (...args: unknown[]) => unknown;

/** How an executor queues and runs jobs. */
export interface Engine {
  /** Throws the `TypeError` that explains why this executor cannot run `fn`. */
  validateFunction(fn: unknown): void;
  /** Queues a job; the engine starts it (`job.start()`), settles it, or drops it once settled. */
  schedule(job: Job): void;
  /** Whether map() sends chunks of items in one job. */
  readonly chunks: boolean;
  /** Ends every worker; called once every task has settled after `shutdown()`. */
  close(): Promise<void>;
}

/** Options every executor accepts. */
export interface CommonExecutorOptions {
  /** A name, used in messages. */
  name?: string;
  /** One circuit breaker per task `domain`. */
  circuitBreaker?: CircuitBreakerOptions;
}

/** The logic every executor shares. */
export class ExecutorCore implements TaskHost, Executor {
  readonly label: string;
  readonly breakers: CircuitBreakers | undefined;
  #engine: Engine;
  #broken: BrokenExecutorError | undefined;
  #shutdown = false;
  #closing: Promise<void> | undefined;
  #live = new Set<Task>();
  #idle: PromiseWithResolvers<void> | undefined;
  #futures: FutureCounts = { completed: 0, failed: 0, cancelled: 0 };

  constructor(kindName: string, options: CommonExecutorOptions | undefined, engine: Engine) {
    const name = options?.name;
    if (name !== undefined && typeof name !== "string") {
      throw new TypeError(
        `Cannot create ${kindName} as 'name' must be a string: received ${String(name)}`,
      );
    }
    this.label = name ? `${kindName} '${name}'` : kindName;
    this.breakers = options?.circuitBreaker === undefined
      ? undefined
      : new CircuitBreakers(options.circuitBreaker);
    this.#engine = engine;
  }

  get broken(): BrokenExecutorError | undefined {
    return this.#broken;
  }

  get isShutdown(): boolean {
    return this.#shutdown;
  }

  /** Futures settled so far, by outcome. */
  futureCounts(): FutureCounts {
    return { ...this.#futures };
  }

  /** Tasks submitted and not yet settled. */
  get liveTasks(): number {
    return this.#live.size;
  }

  schedule(job: Job): void {
    this.#engine.schedule(job);
  }

  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    return this.submitWith({}, "call", fn as AnyFn, args) as Future<Awaited<R>>;
  }

  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T> | AsyncIterable<T>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.mapWith({}, fn as AnyFn, items, options) as AsyncIterableIterator<Awaited<R>>;
  }

  with(options: TaskOptions): Executor {
    return new ExecutorView(this, validateTaskOptions(options));
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    this.#shutdown = true;
    if (options?.cancelFutures) {
      for (const task of this.#live) task.future.cancel();
    }
    this.#closing ??= this.#drain().then(() => this.#engine.close());
    return (options?.wait ?? true) ? this.#closing : Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  submitWith(options: TaskOptions, kind: JobKind, fn: AnyFn, args: unknown[]): Future<unknown> {
    this.#checkOpen("submit a task");
    this.#engine.validateFunction(fn);
    const task = new Task(this, kind, fn, args, options);
    this.#live.add(task);
    task.run();
    return task.future;
  }

  mapWith(
    options: TaskOptions,
    fn: AnyFn,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    mapOptions: MapOptions | undefined,
  ): AsyncIterableIterator<unknown> {
    this.#checkOpen("map");
    this.#engine.validateFunction(fn);
    const chunks = this.#engine.chunks;
    let withMapSignal: TaskOptions | undefined;
    return mapTasks(
      (chunk, signal) => {
        // The map's signal joins the view's own signal: either one stops the tasks.
        withMapSignal ??= signal && {
          ...options,
          signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal,
        };
        const taskOptions = withMapSignal ?? options;
        return chunks
          ? this.submitWith(taskOptions, "chunk", fn, [chunk])
          : this.submitWith(taskOptions, "call", fn, chunk);
      },
      chunks,
      items,
      mapOptions,
    );
  }

  taskDone(task: Task): void {
    const future = task.future;
    if (future.cancelled()) this.#futures.cancelled++;
    else if (outcomeOf(future).failed) this.#futures.failed++;
    else this.#futures.completed++;
    this.#live.delete(task);
    if (this.#live.size === 0) this.#idle?.resolve();
  }

  /**
   * Breaks the executor: `submit()` throws `error` from now on and every unsettled future rejects
   * with it. Engines call it when they can no longer run work.
   */
  breakWith(error: BrokenExecutorError): void {
    if (this.#broken) return;
    this.#broken = error;
    for (const task of this.#live) task.stop(error);
  }

  #checkOpen(what: string): void {
    if (this.#broken) throw this.#broken;
    if (this.#shutdown) {
      throw new InvalidStateError(`Cannot ${what} after shutdown of ${this.label}`);
    }
  }

  #drain(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    this.#idle = Promise.withResolvers();
    return this.#idle.promise;
  }
}

/** `executor.with(options)`: the same executor, with task options applied to every task. */
class ExecutorView implements Executor {
  readonly #core: ExecutorCore;
  readonly #options: TaskOptions;

  constructor(core: ExecutorCore, options: TaskOptions) {
    this.#core = core;
    this.#options = options;
  }

  submit<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Future<Awaited<R>> {
    return this.#core.submitWith(this.#options, "call", fn as AnyFn, args) as Future<
      Awaited<R>
    >;
  }

  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T> | AsyncIterable<T>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#core.mapWith(this.#options, fn as AnyFn, items, options) as AsyncIterableIterator<
      Awaited<R>
    >;
  }

  with(options: TaskOptions): Executor {
    return new ExecutorView(this.#core, { ...this.#options, ...validateTaskOptions(options) });
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#core.shutdown(options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.shutdown({ wait: true });
  }
}

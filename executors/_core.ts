// The shared half of every executor: submit, map, with(), shutdown and breaking. The public
// executor classes are thin facades over an ExecutorCore and an Engine that queues and runs jobs.

import type { Future } from "../future/future.ts";
import { type AwaitHook, setAwaitHook } from "../future/_hooks.ts";
import { type BrokenExecutorError, InvalidStateError } from "../future/errors.ts";
import { CircuitBreakers } from "./circuit_breaker.ts";
import type { CircuitBreakerOptions } from "./circuit_breaker.ts";
import type {
  Executor,
  ExecutorStats,
  ExecutorView as ExecutorViewShape,
  FutureCounts,
  FuturesOr,
  MapOptions,
  ShutdownOptions,
  TaskOptions,
} from "./executor.ts";
import { type Job, type JobKind, type JobPolicy, Task, type TaskHost } from "./_task.ts";
import { mapTasks } from "./_map.ts";
import {
  checkMapOptions,
  checkPositiveInt,
  checkShutdownOptions,
  validateTaskOptions,
} from "./_options.ts";
import { QueueFullError } from "./errors.ts";
import { Queue } from "../future/_queue.ts";
import { show } from "./_check.ts";
import { carriedTraceparent, type ExecutorObserver } from "./_observe.ts";

// Once the program unloads, nothing submitted would ever run: the event loop is done. Python
// refuses to schedule new futures after interpreter shutdown; so do we. Registered when this
// module loads, so it runs before the program's own `unload` listeners.
let unloading = false;
globalThis.addEventListener?.("unload", () => {
  unloading = true;
});

/** The options of a task submitted without any: one object shared by all of them. */
const NO_OPTIONS: TaskOptions = Object.freeze({});

/** A function as the core sees it. */
export type AnyFn = (...args: unknown[]) => unknown;

/** How an executor queues and runs jobs; it hears of their ends through its job policy. */
export interface Engine extends JobPolicy {
  /** Throws the `TypeError` that explains why this executor cannot run `fn`. */
  validateFunction(fn: unknown): void;
  /** Queues a job; the engine starts it (`job.start()`), settles it, or drops it once settled. */
  schedule(job: Job): void;
  /** Whether map() sends chunks of items in one job. */
  readonly chunks: boolean;
  /** How many more tasks would start at once (free slots, workers idle or not yet spawned). */
  freeSlots(): number;
  /** Ends every worker; called once every task has settled after `shutdown()`. */
  close(): Promise<void>;
  /**
   * For an engine whose tasks can await the executor's own futures (on the same thread): called
   * when a pending future of this executor is awaited; see {@linkcode AwaitHook}.
   */
  awaiting?(): (() => Promise<void>) | undefined;
}

/**
 * Options every executor accepts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, QueueFullError } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ name: "io", maxWorkers: 1, maxQueued: 1 });
 * const running = pool.submit(() => new Promise((r) => setTimeout(r, 10))); // takes the free slot
 * const queued = pool.submit(() => 2); // waits: the one place in the queue
 * assert.throws(() => pool.submit(() => 3), QueueFullError);
 * await Promise.all([running, queued]);
 * ```
 */
export interface CommonExecutorOptions {
  /** A name, used in messages. */
  name?: string;
  /** One circuit breaker per task `domain`. */
  circuitBreaker?: CircuitBreakerOptions;
  /**
   * The most tasks that may wait to start (submitted, not yet running). Past it `submit()` throws
   * `QueueFullError` at once, `map()` waits for room before it submits more, and `whenReady()`
   * resolves when there is room. A task waiting for its future arguments counts only once they are
   * done.
   * @default {Infinity}
   */
  maxQueued?: number;
}

/** The keys of {@linkcode CommonExecutorOptions}, for the constructors' unknown-key checks. */
export const COMMON_OPTION_KEYS = ["name", "circuitBreaker", "maxQueued"] as const;

/** The common options of an executor, checked: see {@linkcode commonSettings}. */
export interface CommonSettings {
  label: string;
  breakers: CircuitBreakers | undefined;
  maxQueued: number;
}

/**
 * Checks the options every executor takes (`name`, `circuitBreaker`, `maxQueued`). An executor
 * whose engine starts processes as it is built calls it first: once they run, a bad option that
 * throws from the constructor leaves nobody able to stop them.
 */
export function commonSettings(
  kindName: string,
  options: CommonExecutorOptions | undefined,
): CommonSettings {
  const name = options?.name;
  if (name !== undefined && typeof name !== "string") {
    throw new TypeError(
      `Cannot create ${kindName} as 'name' must be a string: received ${show(name)}`,
    );
  }
  const breakers = options?.circuitBreaker === undefined
    ? undefined
    : new CircuitBreakers(options.circuitBreaker);
  // Infinity, the default, may be given too.
  const maxQueued = options?.maxQueued;
  return {
    label: name ? `${kindName} '${name}'` : kindName,
    breakers,
    maxQueued: maxQueued === Infinity
      ? Infinity
      : checkPositiveInt(`create ${kindName}`, "maxQueued", maxQueued) ?? Infinity,
  };
}

/** The logic every executor shares. */
export class ExecutorCore implements TaskHost, Executor {
  readonly label: string;
  readonly breakers: CircuitBreakers | undefined;
  /** Set by observe/ (see _observe.ts). */
  observer: ExecutorObserver | undefined;
  #engine: Engine;
  readonly #awaitHook: AwaitHook | undefined;
  #broken: BrokenExecutorError | undefined;
  #shutdown = false;
  #closing: Promise<void> | undefined;
  #live = new LiveTasks();
  readonly #idle = new Queue<{ upTo: number; resolve: () => void }>();
  readonly #maxQueued: number;
  /** Tasks scheduled (their inputs ready) that have not started (nor settled). */
  #queued = 0;
  /**
   * Waiters of `whenReady()`, first come first woken: only as many as there are places are woken
   * at a time (waking them all at every event made each event cost one wake per waiter).
   */
  readonly #roomWaiters = new Queue<() => void>();
  /** A later look for room not taken by the waiters woken last (see `#wakeForRoom`). */
  #roomCheck: ReturnType<typeof setTimeout> | undefined;
  #futures: FutureCounts = { completed: 0, failed: 0, cancelled: 0 };
  /** The public executor over this core, whose stats() and size its views report. */
  facade: Facade | undefined;

  /**
   * @param settings the common options checked already, by an executor that must check them
   * before it builds its engine (see {@linkcode commonSettings})
   */
  constructor(
    kindName: string,
    options: CommonExecutorOptions | undefined,
    engine: Engine,
    settings: CommonSettings = commonSettings(kindName, options),
  ) {
    this.label = settings.label;
    this.breakers = settings.breakers;
    this.#engine = engine;
    this.#awaitHook = engine.awaiting ? (engine as AwaitHook) : undefined;
    this.#maxQueued = settings.maxQueued;
  }

  /**
   * Whether `submit()` would throw `QueueFullError` now: tasks that will start as soon as the
   * engine gets to them (free slots) do not count as waiting.
   */
  get full(): boolean {
    return this.#queued >= this.#maxQueued &&
      this.#queued - this.#engine.freeSlots() >= this.#maxQueued;
  }

  /** The most tasks that may wait to start (`Infinity` when unbounded). */
  get maxQueued(): number {
    return this.#maxQueued;
  }

  /** Whether the executor takes no more tasks (shut down or broken): `whenReady()` returns then. */
  get closed(): boolean {
    return this.#shutdown || this.#broken !== undefined;
  }

  /**
   * Resolves when a task can be submitted without `QueueFullError` (or the executor closed).
   */
  async whenReady(): Promise<void> {
    if (!this.full || this.closed) return;
    // A task of this executor that waits for room gives back its slot meanwhile, as it does when
    // it awaits one of its futures: the queued task that would make room may need that slot.
    const rejoin = this.#awaitHook?.awaiting();
    try {
      // Checked again on waking: an engine tells of room while it is still handing out tasks.
      while (this.full && !this.closed) {
        await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
      }
    } finally {
      await rejoin?.();
    }
  }

  /**
   * Wakes as many waiters of `whenReady()` as there are places now (one at least: a task that ends
   * frees its slot just after it tells). A woken waiter that does not submit leaves its place
   * unused: a later look wakes the next ones then, so that none waits while there is room.
   */
  #wakeForRoom(): void {
    const places = this.#maxQueued - (this.#queued - this.#engine.freeSlots());
    for (let n = Math.max(1, places); n > 0 && this.#roomWaiters.length > 0; n--) {
      this.#roomWaiters.shift()!();
    }
    // Looked at again after this turn, whether waiters remain or a woken one waits again (found
    // no place: the slot of the task that ended was not free yet).
    if (this.#roomCheck === undefined) {
      this.#roomCheck = setTimeout(() => {
        this.#roomCheck = undefined;
        if (this.#roomWaiters.length > 0 && !this.full) this.#wakeForRoom();
      }, 0);
    }
  }

  #wakeAll(): void {
    for (const wake of this.#roomWaiters.drain()) wake();
    // Only when one was set: a pool that never waited must not load Deno's timers.
    if (this.#roomCheck === undefined) return;
    clearTimeout(this.#roomCheck);
    this.#roomCheck = undefined;
  }

  /** Resolves when every task submitted so far has settled (later ones are not waited for). */
  onIdle(): Promise<void> {
    if (this.#live.size === 0) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#idle.push({ upTo: this.#live.newest, resolve });
    return promise;
  }

  taskQueued(_task: Task): void {
    this.#queued++;
  }

  taskLeftQueue(_task: Task): void {
    this.#queued--;
    if (this.#roomWaiters.length > 0 && !this.full) this.#wakeForRoom();
  }

  get jobs(): JobPolicy {
    return this.#engine;
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
    const observer = this.observer;
    if (observer) {
      // When it was queued, for the observer's wait times (a worker pool keeps this stamp).
      job.queuedAt = performance.now();
      observer.queued(job);
    }
    this.#engine.schedule(job);
  }

  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>> {
    return this.submitArgs(fn as AnyFn, args) as Future<Awaited<R>>;
  }

  /**
   * `submit(fn, ...args)` with the arguments as an array: what the facades and the bridge call, so
   * that the arguments are spread once, in the user's call (a call with 100k arguments takes most
   * of a thread's stack: spread again on the way, it would overflow where a plain call does not).
   */
  submitArgs(fn: AnyFn, args: unknown[]): Future<unknown> {
    return this.submitWith(NO_OPTIONS, "call", fn, args);
  }

  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T | Future<T>> | AsyncIterable<T | Future<T>>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.mapWith({}, fn as AnyFn, items, options) as AsyncIterableIterator<Awaited<R>>;
  }

  with(options: TaskOptions): ExecutorViewShape {
    return new ExecutorView(this, this.taskOptions(options));
  }

  /** Checks task options for this executor: a `domain` needs circuit breakers to mean anything. */
  taskOptions(options: unknown): TaskOptions {
    const checked = validateTaskOptions(options);
    if (checked.domain !== undefined && !this.breakers) {
      throw new TypeError(
        `Cannot apply task options as 'domain' needs ${this.label} to be created with 'circuitBreaker': received ${
          show(checked.domain)
        }`,
      );
    }
    return checked;
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    checkShutdownOptions(options);
    this.#shutdown = true;
    this.#wakeAll();
    if (options?.cancelFutures) {
      for (const task of this.#live.list()) task.future.cancel();
    }
    this.#closing ??= this.#drain().then(() => this.#engine.close());
    return (options?.wait ?? true) ? this.#closing : Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown({ wait: true });
  }

  submitWith(
    options: TaskOptions,
    kind: JobKind,
    fn: AnyFn,
    args: unknown[],
    scope?: ViewScope,
  ): Future<unknown> {
    this.#checkOpen("submit a task");
    scope?.checkOpen();
    this.#engine.validateFunction(fn);
    if (this.full) {
      throw new QueueFullError(
        this.#maxQueued,
        `Cannot submit a task as ${this.label} has ${this.#maxQueued} tasks waiting to start, its 'maxQueued'`,
      );
    }
    const task = new Task(this, kind, fn, args, options);
    const traceparent = carriedTraceparent();
    if (traceparent !== undefined) task.traceparent = traceparent;
    if (this.#awaitHook) setAwaitHook(task.future, this.#awaitHook);
    this.#live.add(task);
    scope?.add(task.future);
    this.observer?.submitted(task);
    task.run();
    return task.future;
  }

  mapWith(
    options: TaskOptions,
    fn: AnyFn,
    items: Iterable<unknown> | AsyncIterable<unknown>,
    mapOptions: MapOptions | undefined,
    scope?: ViewScope,
  ): AsyncIterableIterator<unknown> {
    checkMapOptions(mapOptions);
    this.#checkOpen("map");
    scope?.checkOpen();
    if (typeof fn !== "function") {
      throw new TypeError(`Cannot map as 'fn' must be a function: received ${show(fn)}`);
    }
    this.#engine.validateFunction(fn);
    const chunks = this.#engine.chunks;
    let withMapSignal: TaskOptions | undefined;
    return mapTasks(
      (items, signal, chunk) => {
        // The map's signal joins the view's own signal: either one stops the tasks.
        withMapSignal ??= signal && {
          ...options,
          signal: options.signal ? AbortSignal.any([options.signal, signal]) : signal,
        };
        const taskOptions = withMapSignal ?? options;
        return chunk
          ? this.submitWith(taskOptions, "chunk", fn, [items], scope)
          : this.submitWith(taskOptions, "call", fn, items, scope);
      },
      chunks,
      items,
      mapOptions,
      this,
      this.observer?.context?.(),
    );
  }

  taskDone(task: Task, failed: boolean): void {
    const outcome = task.future.cancelled() ? 2 : failed ? 1 : 0;
    if (outcome === 2) this.#futures.cancelled++;
    else if (outcome === 1) this.#futures.failed++;
    else this.#futures.completed++;
    this.observer?.settled(task, outcome);
    this.#live.remove(task);
    // A task that ends frees its slot (just after this), which can make room as well: a waiter
    // checks again.
    if (this.#roomWaiters.length > 0) this.#wakeForRoom();
    // The waiters of onIdle(), oldest first: each waits for the tasks submitted before it.
    const idle = this.#idle;
    if (idle.length > 0) {
      const oldest = this.#live.oldest;
      while (idle.length > 0 && idle.peek()!.upTo < oldest) idle.shift()!.resolve();
    }
  }

  /**
   * Breaks the executor: `submit()` throws `error` from now on and every unsettled future rejects
   * with it. Engines call it when they can no longer run work.
   */
  breakWith(error: BrokenExecutorError): void {
    if (this.#broken) return;
    this.#broken = error;
    this.#wakeAll();
    for (const task of this.#live.list()) task.stop(error);
  }

  #checkOpen(what: string): void {
    if (unloading) {
      throw new InvalidStateError(
        `Cannot ${what} on ${this.label} as the program is exiting (an 'unload' listener is running): it would never run`,
      );
    }
    if (this.#broken) throw this.#broken;
    if (this.#shutdown) {
      throw new InvalidStateError(`Cannot ${what} after shutdown of ${this.label}`);
    }
  }

  #drain(): Promise<void> {
    return this.onIdle();
  }
}

/**
 * The tasks of an executor that have not settled, as a list threaded through the tasks
 * themselves: adding and removing allocate nothing, which matters at a million tasks.
 */
class LiveTasks {
  /** The newest task; each links to the one added before it (`nextLive`). */
  #head: Task | undefined;
  /** The oldest task. */
  #tail: Task | undefined;
  size = 0;
  /** The number of the newest task added: tasks are numbered 1, 2, … as they are added. */
  newest = 0;

  add(task: Task): void {
    task.liveSeq = ++this.newest;
    task.nextLive = this.#head;
    if (this.#head) this.#head.previousLive = task;
    else this.#tail = task;
    this.#head = task;
    this.size++;
  }

  remove(task: Task): void {
    const { previousLive, nextLive } = task;
    if (previousLive === undefined && this.#head !== task) return;
    if (previousLive) previousLive.nextLive = nextLive;
    else this.#head = nextLive;
    if (nextLive) nextLive.previousLive = previousLive;
    else this.#tail = previousLive;
    task.previousLive = task.nextLive = undefined;
    this.size--;
  }

  /** The number of the oldest task left, or Infinity when none is. */
  get oldest(): number {
    return this.#tail?.liveSeq ?? Infinity;
  }

  /** A snapshot, oldest first: stopping a task removes it from the list. */
  list(): Task[] {
    const tasks: Task[] = [];
    for (let task = this.#head; task; task = task.nextLive) tasks.push(task);
    return tasks.reverse();
  }
}

/**
 * The futures submitted through one view, so that disposing the view waits for them (and
 * `cancelFutures` cancels them) without shutting down the executor the view belongs to.
 */
class ViewScope {
  readonly #label: string;
  /** The scope of the view this one was made from: it owns this view's futures too. */
  readonly #parent: ViewScope | undefined;
  readonly #live = new Set<Future<unknown>>();
  #closed = false;
  #idle: PromiseWithResolvers<void> | undefined;
  #onDone = (future: Future<unknown>) => {
    this.#live.delete(future);
    if (this.#live.size === 0) this.#idle?.resolve();
  };

  constructor(label: string, parent?: ViewScope) {
    this.#label = label;
    this.#parent = parent;
  }

  checkOpen(): void {
    if (this.#closed) {
      throw new InvalidStateError(
        `Cannot submit a task through a view of ${this.#label} after its shutdown`,
      );
    }
    this.#parent?.checkOpen();
  }

  add(future: Future<unknown>): void {
    this.#live.add(future);
    future.addDoneCallback(this.#onDone);
    this.#parent?.add(future);
  }

  close(options: ShutdownOptions | undefined): Promise<void> {
    this.#closed = true;
    if (options?.cancelFutures) { for (const future of [...this.#live]) future.cancel(); }
    if (!(options?.wait ?? true) || this.#live.size === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers();
    return this.#idle.promise;
  }
}

/** What a view asks of the public executor. */
export interface Facade {
  stats(): ExecutorStats;
  readonly maxWorkers: number;
}

/**
 * `view.submit(fn, ...args)` with the arguments as an array (see `ExecutorCore.submitArgs`), or
 * undefined when `view` is not a view of this library's executors.
 */
export let submitToView: (view: unknown, fn: AnyFn, args: unknown[]) => Future<unknown> | undefined;

/**
 * `executor.with(options)`: the same executor, with task options applied to every task. Its
 * `shutdown()` closes the view only: it takes no more tasks and waits for the ones submitted
 * through it, while the executor and its other views carry on.
 */
class ExecutorView implements ExecutorViewShape {
  readonly #core: ExecutorCore;
  readonly #options: TaskOptions;
  readonly #scope: ViewScope;

  static {
    submitToView = (view, fn, args) =>
      view instanceof ExecutorView
        ? view.#core.submitWith(view.#options, "call", fn, args, view.#scope)
        : undefined;
  }

  constructor(core: ExecutorCore, options: TaskOptions, parent?: ViewScope) {
    this.#core = core;
    this.#options = options;
    this.#scope = new ViewScope(core.label, parent);
  }

  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>> {
    return this.#core.submitWith(this.#options, "call", fn as AnyFn, args, this.#scope) as Future<
      Awaited<R>
    >;
  }

  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T | Future<T>> | AsyncIterable<T | Future<T>>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#core.mapWith(
      this.#options,
      fn as AnyFn,
      items,
      options,
      this.#scope,
    ) as AsyncIterableIterator<Awaited<R>>;
  }

  /**
   * A view of this view: signals combine (either aborts the task), the shorter timeout and the
   * earlier deadline hold, other options replace this view's. This view owns it: closing this
   * view closes it, and `cancelFutures` here cancels the futures submitted through it.
   */
  with(options: TaskOptions): ExecutorViewShape {
    return new ExecutorView(
      this.#core,
      combineTaskOptions(this.#options, this.#core.taskOptions(options)),
      this.#scope,
    );
  }

  whenReady(): Promise<void> {
    return this.#core.whenReady();
  }

  /** The executor's: every task submitted to it, through any view, has settled. */
  onIdle(): Promise<void> {
    return this.#core.onIdle();
  }

  stats(): ExecutorStats {
    return this.#facade().stats();
  }

  get maxWorkers(): number {
    return this.#facade().maxWorkers;
  }

  #facade(): Facade {
    const facade = this.#core.facade;
    if (facade === undefined) throw new TypeError(`${this.#core.label} has no stats()`);
    return facade;
  }

  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#scope.close(checkShutdownOptions(options));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.#scope.close({ wait: true });
  }
}

/** The options of a view made from a view: `inner` narrows `outer`, it never widens it. */
function combineTaskOptions(outer: TaskOptions, inner: TaskOptions): TaskOptions {
  const combined = { ...outer, ...inner };
  if (outer.signal && inner.signal && outer.signal !== inner.signal) {
    combined.signal = AbortSignal.any([outer.signal, inner.signal]);
  }
  if (outer.timeout !== undefined && inner.timeout !== undefined) {
    combined.timeout = Math.min(outer.timeout, inner.timeout);
  }
  if (outer.deadline !== undefined && inner.deadline !== undefined) {
    combined.deadline = Math.min(outer.deadline, inner.deadline);
  }
  return combined;
}

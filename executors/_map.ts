// The one implementation of Executor.map() that every executor shares.

import { Future } from "../future/future.ts";
import { startTimer } from "../future/_timer.ts";
import { TimeoutError } from "../future/errors.ts";
import { Queue } from "../future/_queue.ts";
import { removeDoneCallback } from "../future/_hooks.ts";
import type { MapOptions } from "./executor.ts";
import type { InContext } from "./_observe.ts";
import { checkMillis, checkPositiveInt, checkSignal } from "./_options.ts";
import { show } from "./_check.ts";

/**
 * A chunk of a map() that failed at item `index`: the values before it are still yielded, then
 * `error` is thrown. Engines that run chunks reject the chunk's future with it.
 */
export class ChunkFailure extends Error {
  readonly values: unknown[];
  readonly error: unknown;
  constructor(values: unknown[], error: unknown) {
    super("a map() chunk failed");
    this.name = "ChunkFailure";
    this.values = values;
    this.error = error;
  }
}

/**
 * Submits one unit, with the map's signal: with `chunk`, a list of items as one job whose future
 * gives an array of results (and rejects with ChunkFailure); otherwise one item, as a call.
 */
export type SubmitUnit = (
  items: unknown[],
  signal: AbortSignal | undefined,
  chunk: boolean,
) => Future<unknown>;

/** An executor's queue limit, which map() waits on instead of failing. */
export interface Backpressure {
  readonly full: boolean;
  /** Shut down or broken: a submit raises why, and `whenReady()` returns at once. */
  readonly closed: boolean;
  /** The most tasks that may wait to start; map() holds its units waiting for inputs to it too. */
  readonly maxQueued: number;
  whenReady(): Promise<void>;
}

/**
 * Runs `submit` over `items` and yields the results in input order.
 *
 * @param submit submits one unit of work
 * @param chunked whether the executor runs chunks of items as one job (then `chunksize` applies)
 */
export function mapTasks(
  submit: SubmitUnit,
  chunked: boolean,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  options: MapOptions | undefined,
  backpressure?: Backpressure,
  inCallerContext?: InContext,
): AsyncIterableIterator<unknown> {
  const what = "map";
  const timeout = checkMillis(what, "timeout", options?.timeout) ?? Infinity;
  const chunksize = checkPositiveInt(what, "chunksize", options?.chunksize) ?? 1;
  // Infinity, the default (no bound), may be given too, as for maxQueued.
  const buffersize = options?.buffersize === Infinity
    ? Infinity
    : checkPositiveInt(what, "buffersize", options?.buffersize) ?? Infinity;
  const signal = checkSignal(what, "signal", options?.signal);
  let source: Iterator<unknown> | AsyncIterator<unknown>;
  let isAsync: boolean;
  if (
    items != null && typeof (items as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
  ) {
    source = (items as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    isAsync = true;
  } else if (items != null && typeof (items as Iterable<unknown>)[Symbol.iterator] === "function") {
    source = (items as Iterable<unknown>)[Symbol.iterator]();
    isAsync = false;
  } else {
    throw new TypeError(
      `Cannot map as 'items' must be an iterable or an async iterable: received ${show(items)}`,
    );
  }
  // A chunk of one item goes as a plain call: no array around its item or around its result.
  return new MapIterator(submit, chunked && chunksize > 1, source, isAsync, {
    deadline: performance.now() + timeout,
    timeout,
    chunksize: chunked ? chunksize : 1,
    limit: buffersize,
    signal,
    backpressure,
    inCallerContext,
  });
}

interface Settings {
  deadline: number;
  timeout: number;
  chunksize: number;
  limit: number;
  signal: AbortSignal | undefined;
  backpressure: Backpressure | undefined;
  /** The caller's context, for the chunks submitted after the call (see `#refill()`). */
  inCallerContext: InContext | undefined;
}

class MapIterator implements AsyncIterableIterator<unknown> {
  #submit: SubmitUnit;
  #chunked: boolean;
  #source: Iterator<unknown> | AsyncIterator<unknown>;
  #isAsync: boolean;
  #settings: Settings;
  #units = new Queue<Future<unknown>>();
  // The values ready to yield: a finished unit's array, read from `#at` on (a unit is taken only
  // when the previous one's values are all yielded, so one array at a time is enough).
  #values: unknown[] = [];
  #at = 0;
  // next() calls not yet settled: with none, a ready value is returned without queueing.
  #calls = 0;
  #failure: { error: unknown } | undefined;
  #exhausted = false;
  #closed = false;
  #pumping = false;
  #wake: (() => void) | undefined;
  /**
   * Units whose items hold futures not done yet. Their tasks wait for those and hold no place in
   * the executor's queue, so its `full` never turns true for them: this map holds them to
   * `maxQueued` itself, or an endless source of pending futures would be read at once.
   */
  #waitingForInputs = 0;
  /** Wakes the pump waiting for one of those units to stop waiting. */
  #inputsMoved: (() => void) | undefined;
  #last: Promise<unknown> = Promise.resolve();

  constructor(
    submit: SubmitUnit,
    chunked: boolean,
    source: Iterator<unknown> | AsyncIterator<unknown>,
    isAsync: boolean,
    settings: Settings,
  ) {
    this.#submit = submit;
    this.#chunked = chunked;
    this.#source = source;
    this.#isAsync = isAsync;
    this.#settings = settings;
    // A sync source is pulled here, synchronously: without buffersize every item is submitted
    // at the call, as Python does; an async source starts filling in the background.
    void this.#pump();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  // Calls are served one at a time, as an async generator serves them: each takes the head unit.
  next(): Promise<IteratorResult<unknown, undefined>> {
    // The common case of a chunked map: a value is ready and no earlier call is pending.
    if (this.#calls === 0 && this.#at < this.#values.length) {
      return Promise.resolve({ done: false, value: this.#take() });
    }
    this.#calls++;
    const result = this.#last.then(() => this.#next());
    // Not `result.catch()`: that would keep the value yielded last alive until the next call.
    this.#last = result.then(() => {
      this.#calls--;
    }, () => {
      this.#calls--;
    });
    return result;
  }

  #take(): unknown {
    const value = this.#values[this.#at];
    this.#values[this.#at++] = undefined; // yielded values are not kept alive by the iterator
    if (this.#at === this.#values.length) {
      this.#values = [];
      this.#at = 0;
    }
    return value;
  }

  #ready(values: unknown[]): void {
    this.#values = values;
    this.#at = 0;
  }

  async #next(): Promise<IteratorResult<unknown, undefined>> {
    while (true) {
      if (this.#at < this.#values.length) return { done: false, value: this.#take() };
      if (this.#failure) {
        const { error } = this.#failure;
        this.#failure = undefined;
        throw error;
      }
      if (this.#closed) return { done: true, value: undefined };
      const { signal } = this.#settings;
      if (signal?.aborted) this.#fail(signal.reason);
      else if (this.#units.length === 0) await this.#awaitUnit();
      else await this.#takeUnit(this.#units.peek()!);
    }
  }

  return(): Promise<IteratorResult<unknown, undefined>> {
    this.#ready([]);
    this.#failure = undefined;
    this.#close();
    return Promise.resolve({ done: true, value: undefined });
  }

  async #takeUnit(unit: Future<unknown>): Promise<void> {
    let result: unknown;
    try {
      result = await unit.result(this.#waitOptions());
    } catch (error) {
      if (!unit.done()) return this.#fail(this.#timeoutOrAbort());
      this.#units.shift();
      if (error instanceof ChunkFailure) {
        this.#ready(error.values);
        return this.#fail(error.error);
      }
      return this.#fail(error);
    }
    this.#units.shift();
    this.#ready(this.#chunked ? result as unknown[] : [result]);
    this.#refill();
  }

  async #awaitUnit(): Promise<void> {
    if (this.#exhausted) return this.#close();
    this.#refill();
    if (this.#units.length > 0 || this.#failure || this.#closed) return;
    const { signal, deadline } = this.#settings;
    const left = deadline - performance.now();
    if (left <= 0) return this.#fail(this.#timeoutOrAbort());
    let timedOut = false;
    await new Promise<void>((resolve) => {
      const stopTimer = left === Infinity ? undefined : startTimer(() => {
        timedOut = true;
        resolve();
      }, left);
      const onAbort = () => resolve();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => {
        stopTimer?.();
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
    });
    this.#wake?.();
    this.#wake = undefined;
    if (timedOut) this.#fail(this.#timeoutOrAbort());
  }

  #waitOptions(): { timeout?: number; signal?: AbortSignal } {
    const { deadline, signal } = this.#settings;
    const options: { timeout?: number; signal?: AbortSignal } = {};
    if (deadline !== Infinity) options.timeout = Math.max(0, deadline - performance.now());
    if (signal) options.signal = signal;
    return options;
  }

  #timeoutOrAbort(): unknown {
    const { signal, timeout } = this.#settings;
    if (signal?.aborted) return signal.reason;
    return new TimeoutError(`map() did not finish within its timeout of ${timeout} ms`);
  }

  /**
   * Pulls more after a unit was taken: in the caller's context where an observer captured one, so
   * that the chunks submitted now have the parent that those submitted at the call have.
   */
  #refill(): void {
    const inContext = this.#settings.inCallerContext;
    if (inContext) inContext(() => void this.#pump());
    else void this.#pump();
  }

  /** Pulls items and submits units until `limit` units are outstanding or the source ends. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    const { chunksize, limit, signal, backpressure } = this.#settings;
    // The items pulled for the next unit: when the source throws, those before it still run.
    let chunk: unknown[] = [];
    try {
      while (!this.#closed && !this.#exhausted && this.#units.length < limit) {
        // A full executor queue makes map() wait, where submit() would throw. Another map() or
        // submit() may take the room first: it waits again. A closed executor (whenReady()
        // returns at once then) is left to the submit below, which raises why at this position.
        while (backpressure && !this.#hasRoom(backpressure)) await this.#room(backpressure);
        if (this.#closed) break;
        chunk = [];
        while (chunk.length < chunksize) {
          const next = this.#isAsync ? await this.#source.next() : this.#source.next();
          // As in for…of: a result that is not an object is the source's error, not an item
          // (read as one, undefined and never done, it kept map() pulling for ever).
          if (Object(next) !== next) {
            throw new TypeError(`Iterator result ${show(next)} is not an object`);
          }
          if ((next as IteratorResult<unknown>).done) {
            this.#exhausted = true;
            break;
          }
          chunk.push((next as IteratorResult<unknown>).value);
        }
        if (this.#closed || chunk.length === 0) break;
        // The source may have yielded while it gave these items: the room may be gone again.
        while (backpressure && !this.#hasRoom(backpressure)) await this.#room(backpressure);
        if (this.#closed) break;
        const unit = chunk;
        chunk = [];
        const future = this.#submit(unit, signal, this.#chunked);
        this.#units.push(future);
        if (backpressure && backpressure.maxQueued !== Infinity) this.#watchInputs(unit, future);
        this.#wake?.();
      }
    } catch (error) {
      // The source threw, or submit() refused (shutdown, broken): raise it at this position.
      this.#exhausted = true;
      if (chunk.length > 0 && !this.#closed) {
        try {
          this.#units.push(this.#submit(chunk, signal, this.#chunked));
        } catch {
          // Refused too: the error below is raised in their place.
        }
      }
      this.#units.push(rejected(error));
      this.#wake?.();
    } finally {
      this.#pumping = false;
      // The source may have ended while the consumer waits for a unit that will not come.
      this.#wake?.();
    }
  }

  /** Whether a unit may be submitted now; a closed executor is left to the submit to refuse. */
  #hasRoom(backpressure: Backpressure): boolean {
    return backpressure.closed ||
      (!backpressure.full && this.#waitingForInputs < backpressure.maxQueued);
  }

  /** Waits for what `#hasRoom()` found missing: room in the executor, or a unit's inputs. */
  #room(backpressure: Backpressure): Promise<void> {
    if (backpressure.full) return backpressure.whenReady();
    return new Promise((resolve) => this.#inputsMoved = resolve);
  }

  /**
   * Counts `unit` among those waiting for their inputs until the futures among `items` are done,
   * or it settles first (cancelled with the map, stopped, an input failed).
   */
  #watchInputs(items: unknown[], unit: Future<unknown>): void {
    let pending = 0;
    for (const item of items) if (item instanceof Future && !item.done()) pending++;
    if (pending === 0 || unit.done()) return;
    this.#waitingForInputs++;
    const moved = () => {
      if (pending === 0 || (!unit.done() && --pending > 0)) return;
      pending = 0;
      // Inputs that never settle must not keep this map alive through their callbacks.
      for (const item of items) if (item instanceof Future) removeDoneCallback(item, moved);
      removeDoneCallback(unit, moved);
      this.#waitingForInputs--;
      const wake = this.#inputsMoved;
      this.#inputsMoved = undefined;
      wake?.();
    };
    for (const item of items) {
      if (item instanceof Future && !item.done()) item.addDoneCallback(moved);
    }
    unit.addDoneCallback(moved);
  }

  #fail(error: unknown): void {
    this.#failure = { error };
    this.#close();
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const unit of this.#units.drain()) unit.cancel();
    this.#wake?.();
    if (!this.#exhausted) {
      this.#exhausted = true;
      try {
        const done = this.#source.return?.();
        if (done instanceof Promise) done.catch(() => {});
      } catch {
        // A source that fails to close has nothing more to give.
      }
    }
  }
}

/** A settled future that failed with `error`, to raise a source's error in input order. */
function rejected(error: unknown): Future<unknown> {
  const future = new Future<unknown>();
  future.setException(error);
  return future;
}

/**
 * {@linkcode Future}: the handle to the outcome of work that may not have finished yet.
 *
 * @module
 */

import { CancelledError, InvalidStateError, TimeoutError } from "./errors.ts";
import { checkOptionsArgument, checkSignal, checkTimeout, show } from "./_options.ts";
import { type AwaitHook, type FutureOwner, installHooks, joined, type Outcome } from "./_hooks.ts";
import { startTimer } from "./_timer.ts";
import { subscribeAbort, unsubscribeAbort } from "./_abort_registry.ts";
import { rejectSoon } from "./_reject_soon.ts";

/**
 * The life of a future: `pending` → `running` → `finished`, or `pending` → `cancelled`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Future, type FutureState } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * const before: FutureState = future.state;
 * future.setResult(1);
 * assert.equal(before, "pending");
 * assert.equal(future.state, "finished");
 * ```
 */
export type FutureState = "pending" | "running" | "cancelled" | "finished";

/**
 * Options for {@linkcode Future.result} and {@linkcode Future.exception}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Future, TimeoutError } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * await assert.rejects(future.result({ timeout: 10 }), TimeoutError);
 * await assert.rejects(future.result({ signal: AbortSignal.abort(new Error("stop")) }), /stop/);
 * assert.equal(future.state, "pending"); // only the wait ended
 * ```
 */
export interface WaitOptions {
  /**
   * Milliseconds to wait before rejecting with `TimeoutError`; `0` means "do not wait".
   * The future itself is untouched and keeps running.
   * @default {Infinity}
   */
  timeout?: number;
  /** Stops waiting (not the work) when aborted, rejecting with the signal's reason. */
  signal?: AbortSignal;
}

// Declared with method syntax so the parameter is checked bivariantly: that keeps `Future<T>`
// covariant in `T` (a `Future<string>` is a `Future<unknown>`, as with promises).
type DoneCallback<T> = { call(future: Future<T>): void }["call"];

// A future's callbacks in the order added; one removed from a long list leaves REMOVED in its
// place (a hole that does nothing when called: the loop that calls them checks nothing).
type Callbacks<T> = DoneCallback<T>[];

// Shared by every future without callbacks; never pushed to (see #addCallback).
// deno-lint-ignore no-explicit-any
const NO_CALLBACKS: Callbacks<any> = [];

const REMOVED = (): void => {};

// A list longer than this gets an index (below) on its first removal: many waiters that give up
// on one future, or many dependents cancelled, each remove their callback in O(1) instead of
// searching the list and splicing it. Shorter lists (nearly every future has one or two
// callbacks) are searched, and have no holes; a long list nothing is removed from has no index.
const INDEXED_ABOVE = 8;

/** Where each callback of a long list is, so that removing one need not search the list. */
interface CallbackIndex {
  /** A callback's index, or its indices in ascending order when it was added more than once. */
  at: Map<unknown, number | number[]>;
  /** How many entries are holes (REMOVED): the list is compacted when they are the most. */
  removed: number;
}

// Keyed by the list: only a long list something was removed from has one, and a future has no
// field for it.
const INDEXES = new WeakMap<Callbacks<unknown>, CallbackIndex>();

/**
 * For a future finished with a future: a later point of the chain it finished with (see
 * `#leadsBack`), so that the chain is not walked again from its start.
 */
const chainEnds = new WeakMap<Future<unknown>, unknown>();

/** Indexes a long list (without holes) on its first removal. */
function indexCallbacks(callbacks: Callbacks<unknown>): CallbackIndex {
  const index: CallbackIndex = { at: new Map(), removed: 0 };
  for (let i = 0; i < callbacks.length; i++) indexAt(index, callbacks[i], i);
  INDEXES.set(callbacks, index);
  return index;
}

function indexAt(index: CallbackIndex, fn: unknown, i: number): void {
  const at = index.at.get(fn);
  if (at === undefined) index.at.set(fn, i);
  else if (typeof at === "number") index.at.set(fn, [at, i]);
  else at.push(i);
}

/** Appends to a list of INDEXED_ABOVE callbacks or more, and to its index if it has one. */
function pushLong<T>(callbacks: Callbacks<T>, fn: DoneCallback<T>): void {
  const index = INDEXES.get(callbacks);
  if (index !== undefined) indexAt(index, fn, callbacks.length);
  callbacks.push(fn);
}

/**
 * Removes the first registration of `fn` from a long list, leaving a hole; returns the list to
 * keep: a compacted copy once holes are more than half of it. Indexing a list costs what adding
 * its callbacks did, and a compaction (with the index made after it) less than the removals that
 * led to it: O(1) amortized per callback added or removed.
 */
function removeLong<T>(callbacks: Callbacks<T>, fn: DoneCallback<T>): Callbacks<T> {
  const index = INDEXES.get(callbacks) ?? indexCallbacks(callbacks);
  const at = index.at.get(fn);
  if (at === undefined) return callbacks;
  let i: number;
  if (typeof at === "number") {
    i = at;
    index.at.delete(fn);
  } else {
    i = at.shift()!;
    if (at.length === 1) index.at.set(fn, at[0]!);
  }
  callbacks[i] = REMOVED;
  if (++index.removed * 2 <= callbacks.length) return callbacks;
  const kept: Callbacks<T> = [];
  for (const callback of callbacks) if (callback !== REMOVED) kept.push(callback);
  return kept.length === 0 ? NO_CALLBACKS : kept;
}

const WAIT_OPTION_KEYS = ["timeout", "signal"];

/**
 * The outcome of work that may not have finished yet, as in Python's `concurrent.futures`.
 *
 * Executors create futures and return them from `submit()`; consumers read them with
 * `await future`, {@linkcode Future.result}, or {@linkcode Future.exception}, and wait on many with
 * `wait()` and `asCompleted()`. A future whose error nobody reads never causes an unhandled
 * promise rejection.
 *
 * @typeParam T the type of the value
 *
 * @example Producer and consumer
 * ```ts
 * import assert from "node:assert/strict";
 * import { Future } from "@concurrent/futures";
 *
 * const future = new Future<string>();
 * setTimeout(() => future.setResult("hello"), 10);
 * assert((await future) === "hello");
 * assert(future.state === "finished");
 * ```
 */
export class Future<T> implements PromiseLike<T> {
  // Few fields, each used by every future: a million queued tasks hold a million futures.
  /** The state, where `failed` is `finished` with an error. */
  #state: FutureState | "failed" = "pending";
  /** The value, or the error once failed or cancelled. */
  #outcome: unknown;
  #callbacks: Callbacks<T> = NO_CALLBACKS;
  // The promise awaiters share, made on the first `then()`, with its resolvers while it is
  // pending. Typed without T: a field that takes a T would make Future<T> invariant in T.
  #awaited: Partial<PromiseWithResolvers<unknown>> | undefined;

  static #settlePromise(future: Future<unknown>): void {
    const awaited = future.#awaited!;
    if (future.#failed) awaited.reject!(future.#outcome);
    else awaited.resolve!(future.#outcome);
    awaited.resolve = awaited.reject = undefined;
  }
  #owner: FutureOwner | undefined;
  #awaitHook: AwaitHook | undefined;

  get #failed(): boolean {
    return this.#state === "failed" || this.#state === "cancelled";
  }

  static {
    installHooks({
      setAwaitHook: (future, hook) => {
        future.#awaitHook = hook;
      },
      awaitHookOf: (future) => future.#awaitHook,
      removeDoneCallback: (future, fn) => future.#removeCallback(fn),
      setOwner: (future, owner) => {
        future.#owner = owner;
      },
      outcomeOf: <V>(future: Future<V>): Outcome<V> => {
        const failed = future.#failed;
        return {
          failed,
          value: failed ? undefined : future.#outcome as V,
          error: failed ? future.#outcome : undefined,
        };
      },
    });
  }

  /** Creates a pending future; the producer settles it with `setResult` or `setException`. */
  constructor() {}

  /** `"pending"`, `"running"`, `"cancelled"` or `"finished"` (with a value or an error). */
  get state(): FutureState {
    return this.#state === "failed" ? "finished" : this.#state;
  }

  /**
   * Whether the future is cancelled or finished.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.setResult(1);
   * assert(future.done());
   * ```
   */
  done(): boolean {
    const state = this.#state;
    return state === "finished" || state === "failed" || state === "cancelled";
  }

  /**
   * Whether the work is running now.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.setRunningOrNotifyCancel();
   * assert(future.running());
   * ```
   */
  running(): boolean {
    return this.#state === "running";
  }

  /**
   * Whether the future was cancelled.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.cancel();
   * assert(future.cancelled());
   * ```
   */
  cancelled(): boolean {
    return this.#state === "cancelled";
  }

  /**
   * Cancels the future if it has not started: pending → cancelled and `true`; already cancelled →
   * `true`; running or finished → `false` and nothing changes. Running work is stopped with a
   * task's `signal` or `timeout`, never with `cancel()`.
   *
   * @returns whether the future is now cancelled
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * assert(future.cancel() === true);
   * const running = new Future<number>();
   * running.setRunningOrNotifyCancel();
   * assert(running.cancel() === false);
   * ```
   */
  cancel(): boolean {
    if (this.#state === "cancelled") return true;
    if (this.#state === "running" && this.#owner?.cancelRunning() === true) {
      this.#state = "pending";
    }
    if (this.#state !== "pending") return false;
    this.#state = "cancelled";
    this.#outcome = new CancelledError();
    const owner = this.#owner;
    this.#owner = undefined;
    owner?.cancelled();
    this.#invokeCallbacks();
    return true;
  }

  /**
   * Waits for the value.
   *
   * @param options `timeout` and `signal` bound the wait, not the work
   * @returns the value
   * @throws the task's own error; `CancelledError` if the future was cancelled; `TimeoutError`
   * if not done within `timeout`; the signal's reason if `signal` aborts first
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future, TimeoutError } from "@concurrent/futures";
   * const future = new Future<number>();
   * await future.result({ timeout: 0 }).catch((e) => assert(e instanceof TimeoutError));
   * future.setResult(7);
   * assert((await future.result({ timeout: 0 })) === 7);
   * ```
   */
  result(options?: WaitOptions): Promise<T> {
    // Without options it is `await future`: one shared promise, no waiter of its own.
    if (options === undefined) return this.#joined();
    return this.#result(options);
  }

  async #result(options: WaitOptions): Promise<T> {
    const start = performance.now();
    await this.#waitJoined(options);
    if (this.#failed) throw this.#outcome;
    const outcome = this.#outcome;
    // A value that is a promise is awaited as well (as `await` does): within what is left of the
    // timeout, and until the signal, not for ever.
    if (
      outcome !== null && (typeof outcome === "object" || typeof outcome === "function") &&
      typeof (outcome as PromiseLike<unknown>).then === "function"
    ) {
      const adopted = new Future<T>();
      Promise.resolve(outcome as PromiseLike<T>).then(
        (value) => adopted.setResult(value),
        (error) => adopted.setException(error),
      );
      const { timeout = Infinity, signal } = options;
      const left = Math.max(0, timeout - (performance.now() - start));
      try {
        return await adopted.result(signal ? { timeout: left, signal } : { timeout: left });
      } catch (error) {
        // Named with the timeout the caller gave.
        if (!(error instanceof TimeoutError) || adopted.done()) throw error;
        throw new TimeoutError(`the future was not done within ${timeout} ms`);
      }
    }
    return outcome as T;
  }

  /**
   * Waits like {@linkcode Future.result}, but resolves with the error instead of throwing it.
   *
   * @param options `timeout` and `signal` bound the wait, not the work
   * @returns the task's error, or `undefined` if it succeeded
   * @throws `CancelledError` if the future was cancelled; `TimeoutError` or the signal's reason
   * as for `result()`
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.setException(new Error("boom"));
   * assert((await future.exception() as Error).message === "boom");
   * ```
   */
  async exception(options?: WaitOptions): Promise<unknown> {
    await this.#waitJoined(options);
    if (this.#state === "cancelled") throw this.#outcome;
    return this.#failed ? this.#outcome : undefined;
  }

  /**
   * Runs `fn(future)` when the future is done, in the order added; at once (synchronously) if it
   * is done already. A callback that throws is reported with `reportError()` (a global `error`
   * listener sees it) and never stops the producer or the other callbacks.
   *
   * @param fn the callback
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * const seen: string[] = [];
   * future.addDoneCallback((f) => seen.push(f.state));
   * future.setResult(1);
   * assert(seen[0] === "finished");
   * ```
   */
  addDoneCallback(fn: (future: Future<T>) => void): void {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot add done callback as 'fn' must be a function: received ${show(fn)}`,
      );
    }
    if (this.done()) this.#call(fn);
    else this.#addCallback(fn);
  }

  /** Removes the first registration of `fn`, if any; callbacks run as they would have. */
  #removeCallback(fn: DoneCallback<T>): void {
    const callbacks = this.#callbacks;
    if (callbacks.length > INDEXED_ABOVE) {
      const kept = removeLong(callbacks, fn);
      if (kept !== callbacks) this.#callbacks = kept;
      return;
    }
    const index = callbacks.indexOf(fn);
    if (index >= 0) callbacks.splice(index, 1);
  }

  // Most futures get one or two callbacks (their task's and an awaiting promise's): arrays of
  // exactly that size, where push() on an empty array would reserve room for 17.
  #addCallback(fn: DoneCallback<T>): void {
    const callbacks = this.#callbacks;
    const length = callbacks.length;
    if (length === 0) this.#callbacks = [fn];
    else if (length === 1) this.#callbacks = [callbacks[0]!, fn];
    else if (length < INDEXED_ABOVE) callbacks.push(fn);
    else pushLong(callbacks, fn);
  }

  /**
   * Makes a future awaitable: `await future` gives the value or throws the error.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.setResult(2);
   * assert((await future.then((v) => v * 2)) === 4);
   * ```
   */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#joined().then(onfulfilled, onrejected);
  }

  /**
   * Handles the error, as `Promise.prototype.catch`: a future handled this way never reports an
   * unhandled rejection.
   *
   * @param onrejected called with the error when the future fails (or is cancelled)
   * @returns a promise of the value, or of what `onrejected` returns
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.setException(new Error("boom"));
   * assert((await future.catch((e) => (e as Error).message)) === "boom");
   * ```
   */
  catch<R = never>(
    onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null,
  ): Promise<T | R> {
    return this.#joined().catch(onrejected);
  }

  /**
   * Runs `onfinally` once the future is done, as `Promise.prototype.finally`.
   *
   * @param onfinally called with no argument when the future settles
   * @returns a promise that settles as the future does
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * future.setResult(1);
   * let ran = false;
   * assert((await future.finally(() => ran = true)) === 1 && ran);
   * ```
   */
  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#joined().finally(onfinally);
  }

  /**
   * `"Future"`: `Object.prototype.toString.call(future)` is `"[object Future]"`. With `then`,
   * `catch` and `finally` it makes a `Future<T>` assignable to `Promise<T>`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const promise: Promise<number> = new Future<number>();
   * assert(Object.prototype.toString.call(promise) === "[object Future]");
   * ```
   */
  get [Symbol.toStringTag](): string {
    return "Future";
  }

  /** The promise an awaiter waits on: inside a task of this future's executor, it rejoins first. */
  #joined(): Promise<T> {
    const promise = this.#asPromise();
    if (this.#awaitHook === undefined || this.done()) return promise;
    return joined(promise, this.#awaitHook.awaiting());
  }

  /**
   * How `Deno.inspect()` and `console.log()` show a future: its state, and its value or error
   * once finished, as Python's `repr()` of a future does.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * assert.equal(Deno.inspect(future), 'Future { state: "pending" }');
   * future.setResult(42);
   * assert.equal(Deno.inspect(future), 'Future { state: "finished", result: 42 }');
   * ```
   */
  [Symbol.for("Deno.customInspect")](
    inspect: (value: unknown, options?: unknown) => string,
    options?: unknown,
  ): string {
    const state = `state: ${JSON.stringify(this.state)}`;
    if (this.#state === "finished") {
      return `Future { ${state}, result: ${inspect(this.#outcome, options)} }`;
    }
    if (this.#state !== "failed") return `Future { ${state} }`;
    const error = this.#outcome;
    // An error's stack would fill the screen: its class and message say what it raised.
    const shown = error instanceof Error
      ? `${error.name}: ${JSON.stringify(error.message)}`
      : inspect(error, options);
    return `Future { ${state}, error: ${shown} }`;
  }

  // One promise per future, made on the first `then()`: awaiting is the hot path of every
  // consumer. It exists only once someone awaits, so an unread failure rejects nothing.
  #asPromise(): Promise<T> {
    if (!this.#awaited) {
      if (this.done()) {
        this.#awaited = {
          promise: this.#failed ? rejectSoon(this.#outcome) : Promise.resolve(this.#outcome),
        };
      } else {
        // The resolvers wait in a field and one shared callback settles them: no closure per
        // awaited future.
        this.#awaited = Promise.withResolvers<unknown>();
        this.#addCallback(Future.#settlePromise);
      }
    }
    return this.#awaited.promise as Promise<T>;
  }

  /**
   * Marks the future as running. Executors call it just before running the work.
   *
   * @returns `true` if the future was pending and is now running; `false` if it was cancelled
   * @throws {InvalidStateError} if it is already running or finished
   *
   * @example
   * ```ts
   * import { Future } from "@concurrent/futures";
   * const future = new Future<number>();
   * if (future.setRunningOrNotifyCancel()) future.setResult(42);
   * ```
   */
  setRunningOrNotifyCancel(): boolean {
    if (this.#state === "cancelled") return false;
    if (this.#state !== "pending") {
      throw new InvalidStateError(`Cannot set a ${this.#state} future running`);
    }
    this.#state = "running";
    return true;
  }

  /**
   * Finishes the future with a value (allowed from pending or running).
   * A value that is this future, or a future finished with it, fails it with a `TypeError`
   * instead (awaiting it would wait for itself), as a promise resolved with itself rejects.
   *
   * @param value the value
   * @throws {InvalidStateError} if the future is cancelled or finished; the first outcome is kept
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<string>();
   * future.setResult("ok");
   * assert(future.done());
   * ```
   */
  setResult(value: T): void {
    this.#settle(false, value);
  }

  /**
   * Finishes the future with an error (allowed from pending or running).
   *
   * @param error the error the consumers will see
   * @throws {InvalidStateError} if the future is cancelled or finished; the first outcome is kept
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Future } from "@concurrent/futures";
   * const future = new Future<string>();
   * future.setException(new RangeError("bad"));
   * assert((await future.exception()) instanceof RangeError);
   * ```
   */
  setException(error: unknown): void {
    this.#settle(true, error);
  }

  #settle(failed: boolean, outcome: unknown): void {
    if (this.done()) {
      throw new InvalidStateError(
        `Cannot settle a ${this.#state} future: it keeps its outcome`,
      );
    }
    // Only a future can lead back here: any other value costs a check or two.
    if (
      !failed && typeof outcome === "object" && outcome !== null && #state in outcome &&
      this.#leadsBack(outcome)
    ) {
      failed = true;
      outcome = new TypeError(
        `Cannot finish a future with ${
          outcome === this ? "itself" : "a future finished with it"
        }: awaiting it would wait for itself forever`,
      );
    }
    this.#state = failed ? "failed" : "finished";
    this.#owner = undefined;
    this.#outcome = outcome;
    this.#invokeCallbacks();
  }

  /**
   * Whether awaiting `future` would wait for this one: it is this future, or a future finished
   * with one that is. No cycle of finished futures can form, so the walk ends.
   */
  #leadsBack(future: Future<unknown>): boolean {
    let next: unknown = future;
    const walked: Future<unknown>[] = [];
    while (typeof next === "object" && next !== null && #state in next) {
      if (next === this || next.#state !== "finished") break;
      walked.push(next);
      next = chainEnds.get(next) ?? next.#outcome;
    }
    // Each future walked leads to where the walk stopped: a chain of n futures, each finished
    // with the one before, is walked in O(n) in all, not O(n²).
    for (const step of walked) chainEnds.set(step, next);
    return next === this;
  }

  #invokeCallbacks(): void {
    const callbacks = this.#callbacks;
    this.#callbacks = NO_CALLBACKS;
    for (const fn of callbacks) this.#call(fn);
  }

  #call(fn: DoneCallback<T>): void {
    try {
      fn(this);
    } catch (error) {
      // Reported once the producer's step and the other callbacks are done: in Deno an error
      // nobody listens for ends the program at once, inside setResult() or cancel() else.
      queueMicrotask(() => reportError(error));
    }
  }

  #waitJoined(options: WaitOptions | undefined): Promise<void> | void {
    const wait = this.#wait(options);
    if (wait === undefined || this.#awaitHook === undefined) return wait;
    // A wait that ends before it begins (`timeout: 0`, a signal aborted already) gives no slot
    // up: taking one back could take as long as the longest task running.
    if (options?.timeout === 0 || options?.signal?.aborted) return wait;
    return joined(wait, this.#awaitHook.awaiting());
  }

  #wait(options: WaitOptions | undefined): Promise<void> | void {
    checkOptionsArgument("wait for the future", options, WAIT_OPTION_KEYS, "timeout");
    const timeout = checkTimeout(
      "wait for the future",
      "timeout",
      options?.timeout,
    );
    const signal = checkSignal("wait for the future", "signal", options?.signal);
    if (this.done()) return;
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (timeout === 0) {
      return Promise.reject(new TimeoutError("the future is not done"));
    }
    const { promise, resolve, reject } = Promise.withResolvers<void>();
    let stopTimer: (() => void) | undefined;
    const finish = () => {
      stopTimer?.();
      if (signal) unsubscribeAbort(signal, onAbort);
      this.#removeCallback(onDone);
    };
    const onDone = () => {
      finish();
      resolve();
    };
    const onAbort = () => {
      finish();
      reject(signal!.reason);
    };
    this.#addCallback(onDone);
    // One listener on the signal serves every waiter sharing it (see _abort_registry.ts).
    if (signal) subscribeAbort(signal, onAbort);
    if (timeout !== Infinity) {
      stopTimer = startTimer(() => {
        finish();
        reject(
          new TimeoutError(`the future was not done within ${timeout} ms`),
        );
      }, timeout);
    }
    return promise;
  }
}

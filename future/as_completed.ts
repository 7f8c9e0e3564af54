/**
 * {@linkcode asCompleted}: iterate over futures as they complete.
 *
 * @module
 */

import { TimeoutError } from "./errors.ts";
import { Future } from "./future.ts";
import { startTimer } from "./_timer.ts";
import { checkTimeout } from "./_options.ts";
import { PendingHooks, removeDoneCallback } from "./_hooks.ts";
import { Queue } from "./_queue.ts";
import { checkOptionsArgument, futureSet, refuse } from "./_options.ts";

/**
 * Options for {@linkcode asCompleted}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, Future, TimeoutError } from "@concurrent/futures";
 *
 * const [done, never] = [new Future<number>(), new Future<number>()];
 * done.setResult(1);
 * const seen: number[] = [];
 * const iterate = async () => {
 *   for await (const { future } of asCompleted([done, never], { timeout: 10, wrap: true })) {
 *     seen.push(await future.result());
 *   }
 * };
 * await assert.rejects(iterate(), TimeoutError);
 * assert.deepEqual(seen, [1]);
 * ```
 */
export interface AsCompletedOptions {
  /**
   * Milliseconds, counted from the first `next()`, after which iteration throws `TimeoutError`
   * whose message is `"N (of M) futures unfinished"`.
   * @default {Infinity}
   */
  timeout?: number;
  /**
   * Yield `{ future }` records instead of the futures themselves. TypeScript types the variable of
   * `for await` as the awaited value of each item, so over futures (which are thenables) it
   * cannot be typed as a `Future`; over records it can:
   * `for await (const { future } of asCompleted(fs, { wrap: true })) await future.result()`.
   * @default {false}
   */
  wrap?: boolean;
}

/**
 * An item of {@linkcode asCompleted} with `wrap: true`: a future that is done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, type Completed, Future } from "@concurrent/futures";
 *
 * const future = new Future<number>();
 * future.setResult(7);
 * const step = await asCompleted([future], { wrap: true }).next();
 * const item = step.value as Completed<number>;
 * assert.equal(await item.future.result(), 7);
 * ```
 */
export interface Completed<T> {
  /** The future, done. */
  future: Future<T>;
}

/**
 * Yields the futures as they complete (finished or cancelled): those already done first, then each
 * as it completes. Duplicates are yielded once. It never cancels anything.
 *
 * @param futures the futures
 * @param options `timeout`, and `wrap` to get `{ future }` records
 * @returns an async iterator of the same futures (of `{ future }` records with `wrap: true`)
 * @throws {TimeoutError} during iteration, when `timeout` runs out
 * @throws {RangeError} for a negative `timeout`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, asCompleted } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const futures = [30, 10, 20].map((ms) =>
 *   pool.submit((ms: number) => new Promise<number>((r) => setTimeout(() => r(ms), ms)), ms)
 * );
 * const order: number[] = [];
 * for await (const future of asCompleted(futures)) order.push(await future);
 * assert(order.length === 3);
 * ```
 *
 * @example Futures typed as futures in `for await`
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, Future } from "@concurrent/futures";
 *
 * const futures = [new Future<number>(), new Future<number>()];
 * futures[1]!.setResult(2);
 * futures[0]!.setException(new Error("no"));
 * const seen: string[] = [];
 * for await (const { future } of asCompleted(futures, { wrap: true })) {
 *   const error = await future.exception();
 *   seen.push(error ? "failed" : String(await future.result()));
 * }
 * assert.deepEqual(seen.sort(), ["2", "failed"]);
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options: AsCompletedOptions & { wrap: true },
): AsyncIterableIterator<Completed<T>>;
/**
 * Yields the futures themselves as they complete (see the first signature).
 *
 * @param futures the futures
 * @param options `timeout`
 * @returns an async iterator of the same futures
 * @throws {TimeoutError} during iteration, when `timeout` runs out
 * @throws {RangeError} for a negative `timeout`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, Future } from "@concurrent/futures";
 * const future = new Future<number>();
 * future.setResult(1);
 * const step = await asCompleted([future]).next();
 * assert(step.value === future);
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options?: AsCompletedOptions & { wrap?: false },
): AsyncIterableIterator<Future<T>>;
/**
 * Yields the futures, or `{ future }` records when `options.wrap` is true.
 *
 * @param futures the futures
 * @param options `timeout`, `wrap`
 * @returns an async iterator of the futures or of records
 * @throws {TimeoutError} during iteration, when `timeout` runs out
 * @throws {RangeError} for a negative `timeout`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { asCompleted, type AsCompletedOptions, Future } from "@concurrent/futures";
 * const options: AsCompletedOptions = { wrap: false };
 * const future = new Future<number>();
 * future.setResult(1);
 * assert((await asCompleted([future], options).next()).value === future);
 * ```
 */
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options?: AsCompletedOptions,
): AsyncIterableIterator<Future<T>> | AsyncIterableIterator<Completed<T>>;
export function asCompleted<T>(
  futures: Iterable<Future<T>>,
  options?: AsCompletedOptions,
): AsyncIterableIterator<Future<T>> | AsyncIterableIterator<Completed<T>> {
  checkOptionsArgument("iterate as completed", options, ["timeout", "wrap"], "timeout");
  const timeout = checkTimeout(
    "iterate as completed",
    "timeout",
    options?.timeout,
  );
  const wrap = options?.wrap;
  if (wrap !== undefined && typeof wrap !== "boolean") {
    refuse({ action: "iterate as completed", path: "wrap" }, "a boolean", wrap, false);
  }
  const set = futureSet(
    "iterate as completed",
    futures,
    (value): value is Future<T> => value instanceof Future,
  );
  const iterator = new AsCompletedIterator(set, timeout);
  return wrap ? wrapped(iterator) : iterator;
}

function wrapped<T>(inner: AsCompletedIterator<T>): AsyncIterableIterator<Completed<T>> {
  const wrap = (step: IteratorResult<Future<T>, undefined>) =>
    step.done ? step : { done: false as const, value: { future: step.value } };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => inner.next().then(wrap),
    return: () => inner.return().then(wrap),
  };
}

// A hand-written iterator rather than an async generator: `yield` in an async generator awaits a
// thenable, which would unwrap the futures instead of yielding them.
class AsCompletedIterator<T> implements AsyncIterableIterator<Future<T>> {
  #total: number;
  #timeout: number;
  #deadline: number | undefined;
  #ready = new Queue<Future<T>>();
  #pending = new Set<Future<T>>();
  #wake: (() => void) | undefined;
  #closed = false;
  #queue: Promise<unknown> = Promise.resolve();
  #hooks = new PendingHooks();
  #onDone = (future: Future<T>) => {
    this.#pending.delete(future);
    this.#hooks.delete(future);
    this.#ready.push(future);
    this.#wake?.();
  };

  constructor(all: Set<Future<T>>, timeout: number) {
    this.#total = all.size;
    this.#timeout = timeout;
    for (const future of all) {
      if (future.done()) this.#ready.push(future);
      else {
        this.#pending.add(future);
        this.#hooks.add(future);
      }
    }
    for (const future of this.#pending) future.addDoneCallback(this.#onDone);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  // Calls are served one at a time, as an async generator does: a `next()` made before the
  // previous one settled would otherwise replace its wake-up and leave it waiting forever.
  next(): Promise<IteratorResult<Future<T>, undefined>> {
    this.#deadline ??= performance.now() + this.#timeout;
    const result = this.#queue.then(() => this.#next());
    // The chain holds nothing once a call is served: not the future it yielded (issue 14406 in
    // CPython: a consumer that dropped it must see it collected).
    this.#queue = result.then(() => {}, () => {});
    return result;
  }

  async #next(): Promise<IteratorResult<Future<T>, undefined>> {
    const deadline = this.#deadline!;
    while (!this.#closed) {
      const future = this.#ready.shift();
      if (future) return { done: false, value: future };
      if (this.#pending.size === 0) break;
      const left = deadline - performance.now();
      if (left <= 0) {
        const unfinished = this.#pending.size;
        this.#close();
        throw new TimeoutError(
          `${unfinished} (of ${this.#total}) futures unfinished`,
        );
      }
      // Inside a task of the futures' executor, the task gives back its slot while it waits.
      const rejoin = this.#hooks.awaiting();
      await new Promise<void>((resolve) => {
        const stopTimer = left === Infinity ? undefined : startTimer(resolve, left);
        this.#wake = () => {
          stopTimer?.();
          resolve();
        };
      });
      this.#wake = undefined;
      await rejoin?.();
    }
    this.#close();
    return { done: true, value: undefined };
  }

  return(): Promise<IteratorResult<Future<T>, undefined>> {
    this.#close();
    this.#wake?.();
    return Promise.resolve({ done: true, value: undefined });
  }

  #close(): void {
    this.#closed = true;
    this.#ready = new Queue();
    for (const future of this.#pending) {
      removeDoneCallback(future, this.#onDone);
    }
    this.#pending.clear();
    this.#hooks = new PendingHooks();
  }
}

/**
 * {@linkcode wait}: wait for many futures at once, as Python's `concurrent.futures.wait`.
 *
 * @module
 */

import { Future } from "./future.ts";
import { joined, PendingHooks } from "./_hooks.ts";
import { startTimer } from "./_timer.ts";
import { checkTimeout } from "./_options.ts";
import { outcomeOf, removeDoneCallback } from "./_hooks.ts";
import { checkOptionsArgument, futureSet, show } from "./_options.ts";

/**
 * `wait()` returns when any future finishes or is cancelled.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIRST_COMPLETED, Future, wait } from "@concurrent/futures";
 *
 * const [a, b] = [new Future<number>(), new Future<number>()];
 * a.setResult(1);
 * const { done, notDone } = await wait([a, b], { returnWhen: FIRST_COMPLETED });
 * assert(done.has(a) && notDone.has(b));
 * ```
 */
export const FIRST_COMPLETED = "FIRST_COMPLETED";
/**
 * `wait()` returns when any future finishes with an error, or when all are done.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIRST_EXCEPTION, Future, wait } from "@concurrent/futures";
 *
 * const [ok, bad, later] = [new Future<number>(), new Future<number>(), new Future<number>()];
 * ok.setResult(1);
 * bad.setException(new Error("no"));
 * const { done, notDone } = await wait([ok, bad, later], { returnWhen: FIRST_EXCEPTION });
 * assert(done.has(bad) && notDone.has(later));
 * ```
 */
export const FIRST_EXCEPTION = "FIRST_EXCEPTION";
/**
 * `wait()` returns when all futures are done (the default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ALL_COMPLETED, AsyncPoolExecutor, wait } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const futures = [10, 20].map((ms) => pool.submit(() => new Promise((r) => setTimeout(r, ms))));
 * const { done, notDone } = await wait(futures, { returnWhen: ALL_COMPLETED });
 * assert.equal(done.size, 2);
 * assert.equal(notDone.size, 0);
 * ```
 */
export const ALL_COMPLETED = "ALL_COMPLETED";

/**
 * When {@linkcode wait} returns: {@linkcode FIRST_COMPLETED}, {@linkcode FIRST_EXCEPTION} or
 * {@linkcode ALL_COMPLETED}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FIRST_COMPLETED, Future, type ReturnWhen, wait } from "@concurrent/futures";
 *
 * const returnWhen: ReturnWhen = FIRST_COMPLETED;
 * const future = new Future<string>();
 * future.setResult("done");
 * assert.equal((await wait([future], { returnWhen })).done.size, 1);
 * ```
 */
export type ReturnWhen =
  | typeof FIRST_COMPLETED
  | typeof FIRST_EXCEPTION
  | typeof ALL_COMPLETED;

/**
 * Options for {@linkcode wait}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ALL_COMPLETED, Future, wait } from "@concurrent/futures";
 *
 * const never = new Future<number>();
 * const { done, notDone } = await wait([never], { timeout: 10, returnWhen: ALL_COMPLETED });
 * assert.equal(done.size, 0); // it returned at the timeout, without rejecting
 * assert(notDone.has(never));
 * ```
 */
export interface WaitForOptions {
  /**
   * Milliseconds to wait at most; when it runs out, `wait()` returns what is done (it never
   * rejects on timeout).
   * @default {Infinity}
   */
  timeout?: number;
  /**
   * When to return.
   * @default {"ALL_COMPLETED"}
   */
  returnWhen?: ReturnWhen;
}

/**
 * The futures that are done and those that are not, as returned by {@linkcode wait}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DoneAndNotDone, Future, wait } from "@concurrent/futures";
 *
 * const [a, b] = [new Future<string>(), new Future<string>()];
 * a.setResult("a");
 * const result: DoneAndNotDone<string> = await wait([a, b], { timeout: 0 });
 * assert.deepEqual([...result.done], [a]);
 * assert.deepEqual([...result.notDone], [b]);
 * ```
 */
export interface DoneAndNotDone<T> {
  /** The futures that are finished or cancelled. */
  done: Set<Future<T>>;
  /** The others. */
  notDone: Set<Future<T>>;
}

const RETURN_WHEN = new Set<unknown>([
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  ALL_COMPLETED,
]);

function hasException<T>(future: Future<T>): boolean {
  return future.state === "finished" && outcomeOf(future).failed;
}

/**
 * Waits for the futures to complete, as Python's `concurrent.futures.wait`.
 *
 * Duplicates count once. A cancelled future counts as done at once. It never rejects on timeout:
 * it returns what is done by then.
 *
 * @param futures the futures to wait for
 * @param options `timeout` and `returnWhen`
 * @returns the sets of done and not-done futures
 * @throws {TypeError} for an unknown `returnWhen`
 * @throws {RangeError} for a negative `timeout`
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, FIRST_COMPLETED, wait } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor();
 * const fast = pool.submit(async () => "fast");
 * const slow = pool.submit((ms: number) => new Promise((r) => setTimeout(r, ms)), 50);
 * const { done, notDone } = await wait([fast, slow], { returnWhen: FIRST_COMPLETED });
 * assert(done.has(fast) && notDone.has(slow));
 * ```
 */
export function wait<T>(
  futures: Iterable<Future<T>>,
  options?: WaitForOptions,
): Promise<DoneAndNotDone<T>> {
  checkOptionsArgument("wait", options, ["timeout", "returnWhen"], "timeout");
  // Python's wait(fs, None, FIRST_COMPLETED): a third argument would be ignored.
  if (arguments.length > 2) {
    throw new TypeError(
      `Cannot wait as it takes the futures and one options object: received ${arguments.length} arguments (did you mean { returnWhen: ${
        typeof arguments[2] === "string" ? arguments[2] : show(arguments[2])
      } }?)`,
    );
  }
  const returnWhen = options?.returnWhen ?? ALL_COMPLETED;
  if (!RETURN_WHEN.has(returnWhen)) {
    throw new TypeError(
      `Cannot wait as 'returnWhen' must be FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED: received ${
        show(returnWhen)
      }`,
    );
  }
  const timeout = checkTimeout("wait", "timeout", options?.timeout);
  const all = futureSet("wait", futures, (value): value is Future<T> => value instanceof Future);
  const done = new Set<Future<T>>();
  const notDone = new Set<Future<T>>();
  for (const future of all) (future.done() ? done : notDone).add(future);

  const satisfied = (): boolean => {
    if (notDone.size === 0) return true;
    if (returnWhen === FIRST_COMPLETED) return done.size > 0;
    if (returnWhen === FIRST_EXCEPTION) return [...done].some(hasException);
    return false;
  };
  if (satisfied() || timeout === 0) return Promise.resolve({ done, notDone });

  const { promise, resolve } = Promise.withResolvers<DoneAndNotDone<T>>();
  let stopTimer: (() => void) | undefined;
  const finish = () => {
    stopTimer?.();
    for (const future of notDone) removeDoneCallback(future, onDone);
    resolve({ done, notDone });
  };
  const onDone = (future: Future<T>) => {
    notDone.delete(future);
    done.add(future);
    if (notDone.size === 0 || returnWhen === FIRST_COMPLETED) finish();
    else if (returnWhen === FIRST_EXCEPTION && hasException(future)) finish();
  };
  for (const future of notDone) future.addDoneCallback(onDone);
  if (timeout !== Infinity) stopTimer = startTimer(finish, timeout);
  // Inside a task of the futures' executor, the task gives back its slot while it waits.
  const hooks = new PendingHooks();
  for (const future of notDone) hooks.add(future);
  return joined(promise, hooks.awaiting());
}

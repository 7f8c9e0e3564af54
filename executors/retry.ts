/**
 * Retry policy for tasks: options, their validation, which errors are retried, the backoff delay
 * and an abortable sleep.
 *
 * @module
 */

import { TimeoutError, WorkerCrashedError } from "../future/errors.ts";
import { startTimer } from "../future/_timer.ts";
import { check as checkOption } from "./_check.ts";
import { checkKnownKeys } from "../future/_options.ts";

const RETRY_KEYS = ["maxAttempts", "backoff", "retryOn"] as const;
import { type Backoff, backoffDelay, checkBackoff } from "../actors/_backoff.ts";

export type { Backoff };

/**
 * How a task is retried (`TaskOptions.retry`). After the last attempt the future rejects with that
 * attempt's error.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RetryOptions } from "@concurrent/futures";
 *
 * const retry: RetryOptions = {
 *   maxAttempts: 3,
 *   backoff: { initial: 200, max: 5_000 },
 * };
 * assert(retry.maxAttempts === 3);
 * ```
 */
export interface RetryOptions {
  /** The most attempts made, counting the first one: `1` means no retry. */
  maxAttempts: number;
  /**
   * The delay before each retry (see {@linkcode Backoff}): the n-th retry waits up to
   * `min(max, initial * multiplier ** (n - 1))` ms, a random part of it with `jitter: "full"`.
   * `resetAfter` means nothing here and is ignored.
   * @default {{ initial: 100, max: 10_000, multiplier: 2, jitter: "full" }}
   */
  backoff?: Backoff;
  /**
   * Whether an attempt that rejected with `error` is retried. By default only
   * `WorkerCrashedError` and `TimeoutError` are: errors the task itself threw are not.
   */
  retryOn?: (error: unknown) => boolean;
}

/** The backoff used for fields that {@linkcode RetryOptions.backoff} leaves out. */
const DEFAULT_BACKOFF = {
  initial: 100,
  max: 10_000,
  multiplier: 2,
  jitter: "full",
} as const;

/** Throws unless `ok`, naming the option `retry${name}`. */
function check(
  ok: boolean,
  name: string,
  rule: string,
  value: unknown,
  range = typeof value === "number",
) {
  checkOption(ok, "retry", `retry${name}`, rule, value, range);
}

/**
 * Checks retry options given by a caller and returns a copy of them.
 *
 * @param value The `retry` task option.
 * @returns The options, copied (later changes to `value` have no effect).
 * @throws {TypeError} If `value` or one of its fields has the wrong type.
 * @throws {RangeError} If a number is out of range, such as `maxAttempts: 0`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { validateRetryOptions } from "./retry.ts";
 *
 * try {
 *   validateRetryOptions({ maxAttempts: 0 });
 * } catch (error) {
 *   assert(error instanceof RangeError);
 * }
 * ```
 */
export function validateRetryOptions(value: unknown): RetryOptions {
  check(
    typeof value === "object" && value !== null,
    "",
    "an object",
    value,
    false,
  );
  checkKnownKeys("retry", value as object, RETRY_KEYS, "a retry option", "retry.");
  const { maxAttempts, backoff, retryOn } = value as Record<string, unknown>;
  check(
    Number.isSafeInteger(maxAttempts) && (maxAttempts as number) >= 1,
    ".maxAttempts",
    "a positive integer",
    maxAttempts,
  );
  check(
    retryOn === undefined || typeof retryOn === "function",
    ".retryOn",
    "a function",
    retryOn,
    false,
  );
  const options: RetryOptions = { maxAttempts: maxAttempts as number };
  if (retryOn !== undefined) {
    options.retryOn = retryOn as RetryOptions["retryOn"];
  }
  if (backoff === undefined) return options;
  // A field given as `undefined` takes its default, as one left out does; old field names are
  // read as their new ones.
  options.backoff = checkBackoff({ action: "retry", path: "retry.backoff" }, backoff);
  return options;
}

/**
 * The default `retryOn`: retries only failures of the machinery, not errors the task threw.
 *
 * @param error What the attempt rejected with.
 * @returns `true` for a {@linkcode WorkerCrashedError} or a {@linkcode TimeoutError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultRetryOn } from "./retry.ts";
 * import { TimeoutError } from "../future/errors.ts";
 *
 * assert(defaultRetryOn(new TimeoutError()));
 * assert(!defaultRetryOn(new Error("bad input")));
 * ```
 */
export function defaultRetryOn(error: unknown): boolean {
  return error instanceof WorkerCrashedError || error instanceof TimeoutError;
}

/**
 * The delay before the next attempt: capped exponential backoff, with full jitter by default.
 * Without jitter it is `min(max, initial * multiplier ** (attempt - 1))`; with full jitter it is
 * `random()` times that.
 *
 * @param attempt The number of the attempt that just failed: `1` after the first attempt.
 * @param backoff The backoff options; missing fields take their defaults.
 * @param random A source of numbers in `[0, 1)`.
 * @returns The delay in milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { retryDelay } from "./retry.ts";
 *
 * const backoff = { initial: 100, max: 1_000, jitter: "none" } as const;
 * assert(retryDelay(1, backoff) === 100);
 * assert(retryDelay(3, backoff) === 400);
 * assert(retryDelay(10, backoff) === 1_000);
 * ```
 */
export function retryDelay(
  attempt: number,
  backoff: RetryOptions["backoff"],
  random: () => number = Math.random,
): number {
  // `backoff` has been through validateRetryOptions: new field names only.
  const { initial, max, multiplier, jitter } = { ...DEFAULT_BACKOFF, ...backoff };
  return backoffDelay(attempt, { initial, max, multiplier, jitter, resetAfter: Infinity }, random);
}

/**
 * Waits `ms` milliseconds, or until `signal` aborts. Either way its timer and its abort listener
 * are removed, so nothing is left behind.
 *
 * @param ms How long to wait.
 * @param signal Cancels the wait.
 * @returns A promise that resolves after `ms`.
 * @throws The signal's `reason` (the promise rejects with it) when `signal` aborts first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sleep } from "./retry.ts";
 *
 * const controller = new AbortController();
 * const waiting = sleep(60_000, controller.signal);
 * controller.abort(new Error("stop"));
 * await waiting.catch((error) => assert(error.message === "stop"));
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      stopTimer();
      reject(signal?.reason);
    };
    const stopTimer = startTimer(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

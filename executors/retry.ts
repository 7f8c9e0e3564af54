/**
 * Retry policy for tasks: options, their validation, which errors are retried, the backoff delay
 * and an abortable sleep.
 *
 * @module
 */

import { TimeoutError, WorkerCrashedError } from "../future/errors.ts";
import { startTimer } from "../future/future.ts";
import { check as checkOption } from "./_check.ts";

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
   * The delay before each retry: the n-th retry waits up to
   * `min(max, initial * multiplier ** (n - 1))` ms, a random part of it with `jitter: "full"`.
   */
  backoff?: {
    /**
     * The delay (ms) before the first retry, before jitter.
     * @default {100}
     */
    initial?: number;
    /**
     * The cap (ms) on any delay, before jitter.
     * @default {10_000}
     */
    max?: number;
    /**
     * The factor by which the delay grows after each retry.
     * @default {2}
     */
    multiplier?: number;
    /**
     * `"full"` waits a uniformly random time between 0 and the delay, so that many tasks failing
     * together do not retry together; `"none"` waits the delay itself.
     * @default {"full"}
     */
    jitter?: "full" | "none";
  };
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

function checkDelay(value: unknown, name: string) {
  if (value === undefined) return;
  check(
    typeof value === "number" && value >= 0 && Number.isFinite(value),
    name,
    "a non-negative finite number",
    value,
  );
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
  check(
    typeof backoff === "object" && backoff !== null,
    ".backoff",
    "an object",
    backoff,
    false,
  );
  const { initial, max, multiplier, jitter } = backoff as Record<
    string,
    unknown
  >;
  checkDelay(initial, ".backoff.initial");
  checkDelay(max, ".backoff.max");
  check(
    multiplier === undefined ||
      typeof multiplier === "number" && multiplier >= 1 &&
        Number.isFinite(multiplier),
    ".backoff.multiplier",
    "a finite number of at least 1",
    multiplier,
  );
  check(
    jitter === undefined || jitter === "full" || jitter === "none",
    ".backoff.jitter",
    `"full" or "none"`,
    jitter,
    false,
  );
  // A field given as `undefined` takes its default, as one left out does.
  options.backoff = Object.fromEntries(
    Object.entries(backoff as object).filter(([, field]) => field !== undefined),
  ) as NonNullable<RetryOptions["backoff"]>;
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
  const { initial, max, multiplier, jitter } = {
    ...DEFAULT_BACKOFF,
    ...backoff,
  };
  // With initial 0 the power may overflow to Infinity, and 0 * Infinity is NaN.
  const delay = initial === 0 ? 0 : Math.min(max, initial * multiplier ** Math.max(0, attempt - 1));
  return jitter === "none" ? delay : random() * delay;
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

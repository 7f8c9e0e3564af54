// Validation of task, map() and shutdown() options, built on the library's one validation module
// (future/_options.ts), whose checks are re-exported here for the executors.

import type { MapOptions, ShutdownOptions, TaskOptions } from "./executor.ts";
import { validateRetryOptions } from "./retry.ts";
import { check, show } from "./_check.ts";
import {
  checkKnownKeys,
  checkMillis,
  checkOptionsArgument,
  checkPositiveInt,
  checkSignal,
} from "../future/_options.ts";

export { checkKnownKeys, checkMillis, checkOptionsArgument, checkPositiveInt, checkSignal };

const TASK_OPTION_KEYS = ["timeout", "deadline", "signal", "retry", "domain", "transfer"];

/** Checks task options and returns a copy without the keys left undefined. */
export function validateTaskOptions(options: unknown): TaskOptions {
  const what = "apply task options";
  if (options === null || typeof options !== "object") {
    throw new TypeError(`Cannot ${what} as 'options' must be an object: received ${show(options)}`);
  }
  const o = options as Record<string, unknown>;
  checkKnownKeys(what, o, TASK_OPTION_KEYS, "a task option");
  const result: TaskOptions = {};
  const timeout = checkMillis(what, "timeout", o.timeout);
  if (timeout !== undefined) result.timeout = timeout;
  if (o.deadline !== undefined) {
    if (typeof o.deadline !== "number" || !Number.isFinite(o.deadline)) {
      throw new (typeof o.deadline === "number" ? RangeError : TypeError)(
        `Cannot ${what} as 'deadline' must be a finite Date.now() time in milliseconds: received ${
          show(o.deadline)
        }`,
      );
    }
    result.deadline = o.deadline;
  }
  const signal = checkSignal(what, "signal", o.signal);
  if (signal !== undefined) result.signal = signal;
  if (o.retry !== undefined) result.retry = validateRetryOptions(o.retry);
  if (o.domain !== undefined) {
    if (typeof o.domain !== "string" || o.domain === "") {
      throw new TypeError(
        `Cannot ${what} as 'domain' must be a non-empty string: received ${show(o.domain)}`,
      );
    }
    result.domain = o.domain;
  }
  if (o.transfer !== undefined) {
    if (!Array.isArray(o.transfer)) {
      throw new TypeError(
        `Cannot ${what} as 'transfer' must be an array of transferables: received ${
          show(o.transfer)
        }`,
      );
    }
    result.transfer = o.transfer as Transferable[];
  }
  return result;
}

const MAP_OPTION_KEYS = ["timeout", "chunksize", "buffersize", "signal"];

/**
 * Checks `map()`'s options argument: an object with known keys. Python's `map(fn, xs, ys)` (a
 * second iterable where the options go) is refused with what to do instead.
 */
export function checkMapOptions(options: unknown): MapOptions | undefined {
  if (
    options !== null && typeof options === "object" &&
    (Symbol.iterator in options || Symbol.asyncIterator in options)
  ) {
    throw new TypeError(
      "Cannot map as 'options' must be an object: received an iterable (map() takes one iterable of items; to map over several, zip them into one, such as xs.map((x, i) => [x, ys[i]]), and give fn one parameter)",
    );
  }
  return checkOptionsArgument("map", options as MapOptions | undefined, MAP_OPTION_KEYS, "timeout");
}

/** Checks `shutdown()`'s options argument: `shutdown(false)` is Python's, not ours. */
export function checkShutdownOptions(options: unknown): ShutdownOptions | undefined {
  const what = "shut down";
  const checked = checkOptionsArgument(
    what,
    options as ShutdownOptions | undefined,
    ["wait", "cancelFutures"],
    "wait",
  );
  for (const key of ["wait", "cancelFutures"] as const) {
    const value = checked?.[key];
    if (value !== undefined && typeof value !== "boolean") {
      throw new TypeError(`Cannot ${what} as '${key}' must be a boolean: received ${show(value)}`);
    }
  }
  return checked;
}

/**
 * Checks a `restartLimit` option (`{ max, within }`: more restarts than `max` within `within` ms
 * break); `fallback` when it is not given.
 */
export function checkRestartLimit(
  what: string,
  limit: unknown,
  fallback: { max: number; within: number },
): { max: number; within: number } {
  if (limit === undefined) return fallback;
  check(
    typeof limit === "object" && limit !== null,
    what,
    "restartLimit",
    "{ max, within }",
    limit,
    false,
  );
  const given = limit as { max?: unknown; within?: unknown };
  checkKnownKeys(what, given, ["max", "within"], "a restartLimit field", "restartLimit.");
  const max = given.max === 0 ? 0 : checkPositiveInt(what, "restartLimit.max", given.max);
  const within = checkMillis(what, "restartLimit.within", given.within);
  if (max === undefined || within === undefined) {
    throw new TypeError(`Cannot ${what} as 'restartLimit' needs both 'max' and 'within'`);
  }
  return { max, within };
}

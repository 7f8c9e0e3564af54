// Validation of the options users pass, with messages that name the option and the value.

import type { TaskOptions } from "./executor.ts";
import { validateRetryOptions } from "./retry.ts";
import { show } from "./_check.ts";
import { checkTimeout } from "../future/future.ts";

/** Throws a RangeError unless `value` is an integer ≥ 1 (or `undefined`). */
export function checkPositiveInt(what: string, name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new RangeError(
      `Cannot ${what} as '${name}' must be a positive integer: received ${show(value)}`,
    );
  }
  return value;
}

/** Throws a RangeError unless `value` is a number ≥ 0, `Infinity` allowed (or `undefined`). */
export function checkMillis(what: string, name: string, value: unknown): number | undefined {
  return value === undefined ? undefined : checkTimeout(what, name, value);
}

/** Throws a TypeError unless `value` is an AbortSignal (or `undefined`). */
export function checkSignal(what: string, name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined || value instanceof AbortSignal) return value;
  throw new TypeError(
    `Cannot ${what} as '${name}' must be an AbortSignal: received ${show(value)}`,
  );
}

/**
 * Throws a TypeError naming the first key of `options` that is not in `known`, with the closest
 * known key as a suggestion (`maxWorker`, `max_workers` → `maxWorkers`).
 */
export function checkKnownKeys(
  what: string,
  options: object,
  known: readonly string[],
  kind = "an option",
): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const near = closest(key, known);
    throw new TypeError(
      `Cannot ${what} as '${key}' is not ${kind}${near ? ` (did you mean '${near}'?)` : ""}`,
    );
  }
}

function closest(key: string, known: readonly string[]): string | undefined {
  const plain = (s: string) => s.toLowerCase().replace(/[_-]/g, "");
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const d = distance(plain(key), plain(candidate));
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** Levenshtein distance; option names are short, so the quadratic table is fine. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        next[j - 1]! + 1,
        row[j]! + 1,
        row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length]!;
}

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
      throw new RangeError(
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

// One backoff for retries and restarts: the shape users give, its validation, and the delay.

import { checkAliases, checkKnownKeys, type OptionPath, refuse } from "../future/_options.ts";

/**
 * How a series of delays grows: retries of a task (`RetryOptions.backoff`) and replacements of a
 * crashed worker or actor (`restartBackoff`) take this one shape.
 *
 * The n-th delay is `min(max, initial * multiplier ** (n - 1))`, then jittered. Retries wait it
 * before the (n + 1)-th attempt. Restarts are one step behind: the first restart in a row is
 * immediate (a crash is usually a one-off), the second waits `initial`; a call is retried because
 * it failed, so its first retry waits.
 *
 * @example
 * ```ts
 * import type { Backoff } from "@concurrent/futures";
 * const gentle: Backoff = { initial: 50, max: 2_000, multiplier: 3, jitter: "full" };
 * void gentle;
 * ```
 */
export interface Backoff {
  /** The first delay (ms), before jitter. */
  initial?: number;
  /** The cap (ms) on a delay, before jitter. */
  max?: number;
  /** The factor by which each delay grows over the previous one; at least 1. */
  multiplier?: number;
  /**
   * `"full"`: a uniformly random time between 0 and the delay (many failing together do not
   * retry together); `"none"`: the delay itself; a number `f`: the delay stretched by up to `f`
   * of itself at random (Akka's `randomFactor`).
   */
  jitter?: "full" | "none" | number;
  /**
   * Restarts only: after this long (ms) without a crash, the next restart is immediate again.
   * Retries ignore it (a task's attempts have no stable period between them).
   */
  resetAfter?: number;
  /** @deprecated Use `initial`; removed in 0.3.0. */
  min?: number;
  /** @deprecated Use `jitter` (a number); removed in 0.3.0. */
  randomFactor?: number;
}

/** A backoff with every field set. */
export interface ResolvedBackoff {
  initial: number;
  max: number;
  multiplier: number;
  jitter: "full" | "none" | number;
  resetAfter: number;
}

/** The old names of backoff fields, each read as the new one. */
export const BACKOFF_ALIASES = { min: "initial", randomFactor: "jitter" } as const;

const BACKOFF_KEYS = [
  "initial",
  "max",
  "multiplier",
  "jitter",
  "resetAfter",
  "min",
  "randomFactor",
];

/**
 * Checks a backoff given by a caller: an object of known fields, old names read as new ones.
 * Returns the fields given (new names only), so that defaults can be applied later.
 */
export function checkBackoff(at: OptionPath, value: unknown): Partial<ResolvedBackoff> {
  if (value === undefined) return {};
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    refuse(at, "an object", value, false);
  }
  checkKnownKeys(at.action, value as object, BACKOFF_KEYS, "a backoff field", `${at.path}.`);
  const b = checkAliases(at, value as Record<string, unknown>, BACKOFF_ALIASES);
  const out: Partial<ResolvedBackoff> = {};
  for (const key of ["initial", "max"] as const) {
    const v = b[key];
    if (v === undefined) continue;
    if (!(typeof v === "number" && v >= 0 && Number.isFinite(v))) {
      refuse(sub(at, key), "a non-negative finite number", v);
    }
    out[key] = v as number;
  }
  if (b.resetAfter !== undefined) {
    const v = b.resetAfter;
    // Infinity: restarts in a row never start over (only the restart limit's window ages them).
    if (!(typeof v === "number" && v >= 0)) refuse(sub(at, "resetAfter"), "a number of ms >= 0", v);
    out.resetAfter = v as number;
  }
  if (b.multiplier !== undefined) {
    const v = b.multiplier;
    if (!(typeof v === "number" && v >= 1 && Number.isFinite(v))) {
      refuse(sub(at, "multiplier"), "a finite number of at least 1", v);
    }
    out.multiplier = v as number;
  }
  if (b.jitter !== undefined) {
    const v = b.jitter;
    if (
      !(v === "full" || v === "none" || (typeof v === "number" && v >= 0 && Number.isFinite(v)))
    ) {
      refuse(sub(at, "jitter"), `"full", "none" or a finite number >= 0`, v);
    }
    out.jitter = v as ResolvedBackoff["jitter"];
  }
  return out;
}

/** `given` over `defaults`, refusing a `max` below `initial`. */
export function resolveBackoff(
  at: OptionPath,
  given: Partial<ResolvedBackoff>,
  defaults: ResolvedBackoff,
): ResolvedBackoff {
  const initial = given.initial ?? defaults.initial;
  const max = given.max ?? Math.max(initial, defaults.max);
  if (max < initial) refuse(sub(at, "max"), `at least '${at.path}.initial' (${initial})`, max);
  return { ...defaults, ...given, initial, max };
}

/** The `n`-th delay (n ≥ 1) of `backoff`: `min(max, initial · multiplier^(n-1))`, jittered. */
export function backoffDelay(
  n: number,
  backoff: ResolvedBackoff,
  random: () => number = Math.random,
): number {
  const { initial, max, multiplier, jitter } = backoff;
  // With initial 0 the power may overflow to Infinity, and 0 * Infinity is NaN.
  const delay = initial === 0 ? 0 : Math.min(max, initial * multiplier ** Math.max(0, n - 1));
  if (jitter === "none") return delay;
  if (jitter === "full") return random() * delay;
  return delay * (1 + random() * jitter);
}

/** The delay before the `n`-th restart in a row: the first is immediate, then as retries. */
export function restartDelay(
  n: number,
  backoff: ResolvedBackoff,
  random: () => number = Math.random,
): number {
  return n <= 1 ? 0 : backoffDelay(n - 1, backoff, random);
}

function sub(at: OptionPath, key: string): OptionPath {
  return { action: at.action, path: `${at.path}.${key}` };
}

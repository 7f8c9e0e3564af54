// The restart policy of a supervisor, as a pure object: crash times in, the restart limit's
// verdict and the earliest time of the next start out. Erlang/OTP's intensity limit and Akka's
// backoff. Pools replace crashed workers with it, and spawn() restarts crashed actors with it.

import { type ResolvedBackoff, restartDelay } from "./_backoff.ts";

/** The restart limit: more than `max` crashes within `within` ms give up. */
export interface RestartLimit {
  max: number;
  within: number;
}

/** How replacements of crashed workers back off: the one backoff shape, every field set. */
export type RestartBackoff = ResolvedBackoff;

/** Decides whether a crashed worker may be replaced, and when. */
export class RestartSupervisor {
  readonly #limit: RestartLimit;
  readonly #backoff: RestartBackoff;
  readonly #random: () => number;
  /** Crash times within the limit's window, oldest first (at most `max + 1` of them). */
  #times: number[] = [];
  #inARow = 0;
  #nextSpawnAt = 0;

  constructor(limit: RestartLimit, backoff: RestartBackoff, random: () => number = Math.random) {
    this.#limit = limit;
    this.#backoff = backoff;
    this.#random = random;
  }

  /**
   * Records a crash at `now` (ms). Returns false when it exceeds the restart limit; otherwise
   * pushes the next allowed spawn back: 0, initial, initial·multiplier … up to max, reset after a
   * stable period of `resetAfter` ms.
   */
  crashed(now: number): boolean {
    const { max, within } = this.#limit;
    this.#times = this.#times.filter((t) => now - t < within);
    const previous = this.#times.at(-1);
    this.#times.push(now);
    if (this.#times.length > max) return false;
    if (previous === undefined || now - previous > this.#backoff.resetAfter) this.#inARow = 0;
    const delay = restartDelay(++this.#inARow, this.#backoff, this.#random);
    this.#nextSpawnAt = Math.max(this.#nextSpawnAt, now + delay);
    return true;
  }

  /** Milliseconds from `now` until a worker may be spawned (0 or less: now). */
  waitBeforeSpawn(now: number): number {
    return this.#nextSpawnAt - now;
  }
}

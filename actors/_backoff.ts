// Restart backoff as Akka's backoff supervisor computes it.

/** How restarts back off. */
export interface Backoff {
  /** The delay before the second restart in a row; the first is immediate. */
  min: number;
  /** The longest delay. */
  max: number;
  /** Each delay is stretched by up to this fraction, at random. */
  randomFactor: number;
}

/** The delay before the `n`-th restart in a row: 0, min, 2·min, 4·min … up to max, jittered. */
export function backoffDelay(
  n: number,
  backoff: Backoff,
  random: () => number = Math.random,
): number {
  if (n <= 1) return 0;
  return Math.min(backoff.max, backoff.min * 2 ** (n - 2)) * (1 + random() * backoff.randomFactor);
}

// A Prometheus histogram with fixed buckets: one array increment per observation, no allocation.

/** Upper bounds in seconds: a millisecond to a minute, as task run and wait times spread. */
export const BUCKETS: readonly number[] = [
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
  30,
  60,
];

/** Counts per bucket (not cumulative; the exposition adds them up), their sum and count. */
export class Histogram {
  readonly counts = new Float64Array(BUCKETS.length + 1);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }

  /** Cumulative counts per upper bound, `+Inf` last. */
  cumulative(): { le: string; count: number }[] {
    let running = 0;
    const out: { le: string; count: number }[] = [];
    for (let i = 0; i <= BUCKETS.length; i++) {
      running += this.counts[i]!;
      out.push({ le: i < BUCKETS.length ? String(BUCKETS[i]) : "+Inf", count: running });
    }
    return out;
  }

  /** An estimate of quantile `q` (0..1) in seconds, by linear interpolation in its bucket. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = q * this.count;
    let running = 0;
    for (let i = 0; i <= BUCKETS.length; i++) {
      const c = this.counts[i]!;
      if (running + c >= rank && c > 0) {
        const lo = i === 0 ? 0 : BUCKETS[i - 1]!;
        const hi = i < BUCKETS.length ? BUCKETS[i]! : lo;
        return lo + (hi - lo) * ((rank - running) / c);
      }
      running += c;
    }
    return BUCKETS.at(-1)!;
  }
}

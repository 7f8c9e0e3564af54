// A fixed-size window of recent samples and its percentiles, for stats().

/**
 * Percentiles of recent samples, in milliseconds (`NaN` before the first sample).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Percentiles, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
 * assert(Number.isNaN(pool.stats().runTime.p50));
 * await pool.submit((n: number) => n + 1, 1);
 * const runTime: Percentiles = pool.stats().runTime;
 * assert(runTime.p50 >= 0 && runTime.p50 <= runTime.p90 && runTime.p90 <= runTime.p99);
 * ```
 */
export interface Percentiles {
  /** The median. */
  p50: number;
  /** The 90th percentile. */
  p90: number;
  /** The 99th percentile. */
  p99: number;
}

/** The last `size` samples. */
export class Samples {
  #values: Float64Array;
  #next = 0;
  #count = 0;
  /** Samples added so far, which tells whether the cached percentiles are still right. */
  #added = 0;
  #cached: { count: number; percentiles: Percentiles } | undefined;

  constructor(size = 1024) {
    this.#values = new Float64Array(size);
  }

  add(value: number): void {
    this.#values[this.#next] = value;
    this.#next = (this.#next + 1) % this.#values.length;
    if (this.#count < this.#values.length) this.#count++;
    this.#added++;
  }

  percentiles(): Percentiles {
    // Computed once per change: stats() may be read far more often than tasks end.
    if (this.#cached?.count === this.#added) return { ...this.#cached.percentiles };
    const sorted = this.#values.slice(0, this.#count).sort();
    const at = (q: number) =>
      sorted.length === 0
        ? NaN
        : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    const percentiles = { p50: at(0.5), p90: at(0.9), p99: at(0.99) };
    this.#cached = { count: this.#added, percentiles };
    return { ...percentiles };
  }
}

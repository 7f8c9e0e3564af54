// How bench/distributed_bench.ts and its BullMQ peer (a process of its own) measure: the same
// round-trip median and burst rate on both sides.

import { median } from "./_rounds.ts";

/** Round trips timed by default, after 20 not timed. */
export const TRIPS = 300;

/** The median time of `n` sequential calls of `once`, in ms, after 20 not timed. */
export async function p50(once: () => PromiseLike<unknown>, n = TRIPS): Promise<number> {
  for (let i = 0; i < 20; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** `n` tasks done by `all`, per second. */
export async function rate(n: number, all: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await all();
  return n / ((performance.now() - start) / 1000);
}

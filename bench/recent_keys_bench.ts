/**
 * The cost of a record of keys noted lately, as the count of keys in its window grows: the
 * distributed worker's record of tasks cancelled in the last 10 minutes, and the client's record
 * of outcomes pushed within an ack wait. `RecentKeys` (two generations, the older dropped whole)
 * against the map it replaced in the worker: key → time, walked for what expired once it holds
 * more than 10,000 keys. All keys are noted within the window, as in a burst of cancels (a
 * `map()` whose deadline passed, a shutdown with `cancelFutures`). Figures are µs a note, the
 * median of the rounds; the map is not run past 40k keys (its cost grows with the square: 100k
 * keys took 88 s a round here).
 *
 * ```sh
 * deno run -A bench/recent_keys_bench.ts [--rounds 3]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { RecentKeys } from "../distributed/_recent.ts";

const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 3);
if (!Number.isInteger(rounds) || rounds < 1) {
  throw new TypeError(`'--rounds' must be a positive integer: received ${values.rounds}`);
}
const WINDOW = 600_000;

function walkedMap(n: number): number {
  const cancelled = new Map<string, number>();
  const start = performance.now();
  for (let i = 0; i < n; i++) {
    cancelled.set(`client.${i}`, Date.now());
    if (cancelled.size > 10_000) {
      const old = Date.now() - WINDOW;
      for (const [key, at] of cancelled) if (at < old) cancelled.delete(key);
    }
  }
  return (performance.now() - start) / n * 1000;
}

function recentKeys(n: number): number {
  const cancelled = new RecentKeys(WINDOW);
  const start = performance.now();
  for (let i = 0; i < n; i++) cancelled.note(`client.${i}`);
  return (performance.now() - start) / n * 1000;
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[sorted.length >> 1]!;
}

console.log("| keys in the window | walked map µs/note | RecentKeys µs/note |");
console.log("| --- | --- | --- |");
for (const n of [10_000, 20_000, 40_000, 100_000, 1_000_000]) {
  const map: number[] = [];
  const recent: number[] = [];
  for (let round = 0; round < rounds; round++) {
    if (n <= 40_000) map.push(walkedMap(n));
    recent.push(recentKeys(n));
  }
  const mapCell = map.length ? median(map).toFixed(2) : "(not run)";
  console.log(`| ${n.toLocaleString("en")} | ${mapCell} | ${median(recent).toFixed(2)} |`);
}

#!/usr/bin/env -S deno run -A
/**
 * The costs of `sync/`:
 *
 * (a) An uncontended `Lock`: `acquireSync()` + `release()` and `tryAcquire()` + `release()` in a
 *     worker, in ns; `await acquire()` + `release()` on the main thread, in µs (a promise and a
 *     microtask each).
 * (b) `SharedQueue` throughput between 2 workers (one putting, one getting, blocking forms) at
 *     10k, 100k and 1M items, with each encoding, in items/s. The item is a small object
 *     (`{ id, name, tags, score }`); the queue holds 1024 items at most.
 * (c) The codecs alone on the main thread: ns to encode and decode the same item, with the
 *     queue's own "structured" codec, with JSON, and with `node:v8` (the codec it replaced).
 * (d) A worker's start-up: plain, importing `sync/mod.ts`, and importing `node:v8`, median of 9,
 *     in turn.
 *
 * ```sh
 * deno run -A bench/sync_bench.ts
 * deno run -A bench/sync_bench.ts --quick   # 10k and 100k only
 * ```
 *
 * @module
 */

import { deserialize, serialize } from "node:v8";
import { parseArgs } from "node:util";
import { Lock, SharedQueue, WorkerPoolExecutor } from "../mod.ts";
import { decode, encode } from "../sync/_codec.ts";
import { getMany, item, lockSyncNs, lockTryNs, putMany } from "./_sync_tasks.ts";

const TASKS = new URL("./_sync_tasks.ts", import.meta.url);
const { values } = parseArgs({
  args: Deno.args,
  options: { quick: { type: "boolean", default: false } },
});
const sizes = values.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

console.log("(a) uncontended Lock");
{
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const lock = new Lock();
  const n = 1_000_000;
  await pool.submit(lockSyncNs, lock, 10_000); // warm-up
  const syncNs = [];
  const tryNs = [];
  for (let r = 0; r < 3; r++) {
    syncNs.push(await pool.submit(lockSyncNs, lock, n));
    tryNs.push(await pool.submit(lockTryNs, lock, n));
  }
  const m = 100_000;
  const mainUs = [];
  for (let r = 0; r < 3; r++) {
    const start = performance.now();
    for (let i = 0; i < m; i++) (await lock.acquire()).release();
    mainUs.push(((performance.now() - start) * 1000) / m);
  }
  console.log(`  worker acquireSync()+release()   ${median(syncNs).toFixed(0)} ns`);
  console.log(`  worker tryAcquire()+release()    ${median(tryNs).toFixed(0)} ns`);
  console.log(`  main   await acquire()+release() ${median(mainUs).toFixed(2)} µs`);
}

console.log("(b) SharedQueue, 1 producer worker -> 1 consumer worker, blocking forms");
console.log("  encoding     items   seconds   items/s");
{
  await using pool = new WorkerPoolExecutor({ maxWorkers: 2, modules: [TASKS] });
  // Start both workers.
  const warm = new SharedQueue({ maxItems: 1024 });
  await Promise.all([pool.submit(putMany, warm, 100), pool.submit(getMany, warm, 100)]);
  for (const encoding of ["structured", "json"] as const) {
    for (const n of sizes) {
      const queue = new SharedQueue({ maxItems: 1024, encoding });
      const start = performance.now();
      const [, got] = await Promise.all([
        pool.submit(putMany, queue, n),
        pool.submit(getMany, queue, n),
      ]);
      const seconds = (performance.now() - start) / 1000;
      if (got.sum !== (n * (n - 1)) / 2) throw new Error("items were lost");
      console.log(
        `  ${encoding.padEnd(10)} ${String(n).padStart(8)} ${seconds.toFixed(3).padStart(8)} ${
          Math.round(n / seconds).toString().padStart(9)
        }`,
      );
    }
  }
}

console.log("(c) codecs alone, encode + decode of one item");
{
  const n = 200_000;
  const time = (fn: (i: number) => unknown) => {
    const start = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    return ((performance.now() - start) * 1e6) / n;
  };
  const rounds: Record<string, number[]> = { structured: [], json: [], "node:v8": [] };
  for (let r = 0; r < 3; r++) {
    rounds.structured!.push(time((i) => decode(0, encode(0, item(i)))));
    rounds.json!.push(time((i) => decode(1, encode(1, item(i)))));
    rounds["node:v8"]!.push(time((i) => deserialize(serialize(item(i)))));
  }
  console.log(
    "  " + Object.entries(rounds).map(([k, v]) => `${k} ${median(v).toFixed(0)} ns`).join("   "),
  );
}

console.log("(d) worker start-up, median of 9");
{
  const page = (imports: string) =>
    `data:application/javascript,${encodeURIComponent(`${imports} postMessage(0);`)}`;
  const urls: Record<string, string> = {
    plain: page(""),
    "sync/mod.ts": page(`import ${JSON.stringify(new URL("../sync/mod.ts", import.meta.url))};`),
    "node:v8": page(`import "node:v8";`),
  };
  const startUp = async (url: string) => {
    const start = performance.now();
    const worker = new Worker(url, { type: "module" });
    await new Promise((resolve) => worker.onmessage = resolve);
    const ms = performance.now() - start;
    worker.terminate();
    return ms;
  };
  for (const url of Object.values(urls)) await startUp(url); // compiles once
  const ms: Record<string, number[]> = { plain: [], "sync/mod.ts": [], "node:v8": [] };
  for (let r = 0; r < 9; r++) {
    for (const [name, url] of Object.entries(urls)) ms[name]!.push(await startUp(url));
  }
  console.log(
    "  " + Object.entries(ms).map(([k, v]) => `${k} ${median(v).toFixed(1)} ms`).join("   "),
  );
}

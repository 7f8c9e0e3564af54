/**
 * # Shared state between workers: a counter under a `Lock`, pools joined by a `SharedQueue`
 *
 * What it shows, in two parts:
 *
 * 1. A counter in shared memory (an `Int32Array` on a `SharedArrayBuffer`: Python's `Value`)
 *    incremented by W workers, N times each, three ways: a plain `cells[0] = cells[0] + 1`, which
 *    races (two workers read the same value, one increment is lost), so the total usually comes
 *    out short; the same read and write under a {@linkcode Lock}, which is exact; and
 *    `Atomics.add`, exact and the cheapest for a lone counter. Each round's workers first meet at
 *    a {@linkcode Barrier}, so that they really count at the same time.
 * 2. A producer pool and a consumer pool joined by a bounded {@linkcode SharedQueue}: items go
 *    from worker to worker with no round trip through the main thread, and producers wait while
 *    the queue is full. The main thread only closes the queue when the producers are done.
 *
 * Run it:
 *
 * ```sh
 * deno run -A examples/shared_counter.ts
 * deno run -A examples/shared_counter.ts --workers 4 --increments 1000000 --items 100000
 * deno run -A examples/shared_counter.ts --help
 * ```
 *
 * Example output on stdout (2 cores shared with other work; 4 workers on 2 cores make the fair
 * lock hand over to a thread that may not be running, which is why it is slow here). While each
 * round runs, a progress bar on stderr follows the counter as the workers increment it.
 *
 * ```text
 * Counting to 400,000 on 4 workers, three ways; then 10,000 items through a SharedQueue.
 *
 * counter      workers  increments  expected     got  exact  seconds
 * no lock            4      100000    400000  101239  no        0.18
 * Lock               4      100000    400000  400000  yes       2.88
 * Atomics.add        4      100000    400000  400000  yes       0.02
 *
 * pipeline     producers  consumers  items  maxItems  total ok  seconds  items/s
 * SharedQueue          2          2  10000       256  yes          0.38    26002
 * ```
 *
 * @module
 */

import { Barrier, Lock, SharedQueue, WorkerPoolExecutor } from "../mod.ts";
import { commandLine, count, Progress, table } from "./_cli.ts";
import {
  consumeOrders,
  countAtomic,
  countLocked,
  countRacy,
  type Order,
  produceOrders,
} from "./shared_tasks.ts";

const TASKS = new URL("./shared_tasks.ts", import.meta.url);
const QUEUE_ITEMS = 256;

const COMMAND = {
  name: "shared_counter.ts",
  summary:
    "Increments a shared counter from W workers, N times each, without a lock, under a Lock,\n" +
    "and with Atomics.add; then passes M items from a pool of producers to a pool of consumers\n" +
    "through a SharedQueue, and prints a table of each.",
  flags: {
    workers: { type: "integer", min: 1, default: 4, arg: "W", help: "workers counting" },
    increments: { type: "integer", min: 1, default: 100_000, help: "increments per worker" },
    items: { type: "integer", min: 1, default: 10_000, arg: "M", help: "items through the queue" },
  },
} as const;

async function counters(workers: number, increments: number): Promise<string> {
  await using pool = new WorkerPoolExecutor({ maxWorkers: workers, modules: [TASKS] });
  const rows: (string | number)[][] = [];
  const expected = workers * increments;
  const lock = new Lock();
  // Each round's tasks wait for one another at a barrier, then count at the same time.
  const ways: [string, (start: Barrier, cells: Int32Array) => PromiseLike<unknown>][] = [
    ["no lock", (start, cells) => pool.submit(countRacy, start, cells, increments)],
    ["Lock", (start, cells) => pool.submit(countLocked, start, lock, cells, increments)],
    ["Atomics.add", (start, cells) => pool.submit(countAtomic, start, cells, increments)],
  ];
  for (const [name, run] of ways) {
    const cells = new Int32Array(new SharedArrayBuffer(4));
    const barrier = new Barrier(workers);
    // The bar reads the counter the workers are incrementing. Without a lock it can go back
    // (a stale write undoes others' increments); the bar only moves forward.
    const bar = new Progress(name.padEnd(11), expected);
    const follow = () => bar.tick(Math.max(0, Atomics.load(cells, 0) - bar.done));
    const timer = setInterval(follow, 100);
    const start = performance.now();
    try {
      await Promise.all(Array.from({ length: workers }, () => run(barrier, cells)));
    } finally {
      clearInterval(timer);
    }
    const seconds = (performance.now() - start) / 1000;
    follow();
    // A racy count ends short of the total: its bar shows where it stopped.
    bar.end();
    const got = cells[0]!;
    rows.push([
      name,
      workers,
      increments,
      expected,
      got,
      got === expected ? "yes" : "no",
      seconds.toFixed(2),
    ]);
  }
  return table(["counter", "workers", "increments", "expected", "got", "exact", "seconds"], rows);
}

async function pipeline(items: number): Promise<string> {
  await using producers = new WorkerPoolExecutor({ maxWorkers: 2, modules: [TASKS] });
  await using consumers = new WorkerPoolExecutor({ maxWorkers: 2, modules: [TASKS] });
  const queue = new SharedQueue<Order>({ maxItems: QUEUE_ITEMS, encoding: "json" });
  const start = performance.now();
  const eaten = [consumers.submit(consumeOrders, queue), consumers.submit(consumeOrders, queue)];
  const half = Math.floor(items / 2);
  // The bar counts the producers' halves as they finish.
  const bar = new Progress("SharedQueue", items);
  await Promise.all([
    producers.submit(produceOrders, queue, 0, half).then((n) => bar.tick(n)),
    producers.submit(produceOrders, queue, half, items).then((n) => bar.tick(n)),
  ]);
  queue.close();
  const results = await Promise.all(eaten);
  const seconds = (performance.now() - start) / 1000;
  const got = results.reduce((sum, r) => sum + r.count, 0);
  const total = results.reduce((sum, r) => sum + r.total, 0);
  let expected = 0;
  for (let id = 0; id < items; id++) expected += (1 + (id % 5)) * (id % 100);
  const ok = got === items && total === expected;
  return table(
    ["pipeline", "producers", "consumers", "items", "maxItems", "total ok", "seconds", "items/s"],
    [[
      "SharedQueue",
      2,
      2,
      items,
      QUEUE_ITEMS,
      ok ? "yes" : "no",
      seconds.toFixed(2),
      Math.round(items / seconds),
    ]],
  );
}

async function main(): Promise<void> {
  const { workers, increments, items } = commandLine(COMMAND);
  console.log(
    `Counting to ${count(workers * increments)} on ${workers} workers, three ways; ` +
      `then ${count(items)} items through a SharedQueue.\n`,
  );
  console.log(await counters(workers, increments));
  console.log();
  console.log(await pipeline(items));
}

if (import.meta.main) await main();

// Workers with `--isolation inline`: tasks run in the worker process itself.

import assert from "node:assert/strict";
import { Cluster } from "./_cluster.ts";
import { add, failOn, square } from "../fixtures/distributed_tasks.ts";

Deno.test("DistributedExecutor isolation inline runs calls and chunks in the worker process, and a chunk throws at the failing item", async () => {
  const cluster = await Cluster.start({ workers: 2, concurrency: 4, isolation: "inline" });
  try {
    await using executor = cluster.executor();
    const sums = await Promise.all(
      Array.from({ length: 200 }, (_, i) => executor.submit(add, i, 1)),
    );
    assert.deepEqual(sums, Array.from({ length: 200 }, (_, i) => i + 1));
    const items = Array.from({ length: 300 }, (_, i) => i);
    const out: number[] = [];
    for await (const x of executor.map(square, items, { chunksize: 64 })) out.push(x);
    assert.deepEqual(out, items.map((i) => i * i));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const x of executor.map(failOn, items.slice(0, 40), { chunksize: 8 })) {
        seen.push(x);
      }
    }, RangeError);
    assert.deepEqual(seen, items.slice(0, 13));
  } finally {
    await cluster.close();
  }
});

// Workers with `--isolation inline`: tasks run in the worker process itself.

import assert from "node:assert/strict";
import { deserialize } from "node:v8";
import { connect } from "@nats-io/transport-node";
import { Cluster } from "./_cluster.ts";
import { add, failOn, gated, spinFor, square } from "../fixtures/distributed_tasks.ts";
import { TimeoutError } from "../../mod.ts";
import type { StartedNote } from "../../distributed/_protocol.ts";

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

Deno.test("DistributedWorker sends no start notice for a task done in the turn it started, and one for a task still running", async () => {
  const cluster = await Cluster.start({ workers: 1, concurrency: 4, isolation: "inline" });
  const nc = await connect({ servers: cluster.url });
  const executor = cluster.executor();
  try {
    await executor.ready();
    // The worker publishes in order on one connection: a notice for one of the quick tasks would
    // come before the held task's.
    const sub = nc.subscribe("futs.started.>", { max: 1 });
    const first = (async () => {
      for await (const msg of sub) return [deserialize(msg.data)].flat() as StartedNote[];
    })();
    await nc.flush();
    const sums = await Promise.all(
      Array.from({ length: 50 }, (_, i) => executor.submit(add, i, 1)),
    );
    assert.deepEqual(sums, Array.from({ length: 50 }, (_, i) => i + 1));
    const held = executor.submit(gated, cluster.scratch, "r", 7);
    const notes = await first;
    assert.deepEqual(notes?.map((note) => note.id), [executor.taskId(held)]);
    cluster.release("r");
    assert.equal(await held, 7);
    assert.equal(executor.stats().completed, 51);
  } finally {
    cluster.release("r");
    await executor.shutdown();
    await nc.close();
    await cluster.close();
  }
});

Deno.test("an embedded DistributedExecutor's whenStarted() waits for its workers to be up", async () => {
  const { DistributedExecutor } = await import("../../distributed/mod.ts");
  const gated = await import("../fixtures/gated_load_tasks.ts");
  const dir = await Deno.makeTempDir({ prefix: "futures-gate-" });
  const gate = `${dir}/open`;
  Deno.env.set("FUTURES_TEST_GATE", gate);
  try {
    await using executor = new DistributedExecutor({
      modules: [new URL("../fixtures/gated_load_tasks.ts", import.meta.url)],
      maxWorkers: 1,
      isolation: "inline",
    });
    let started = false;
    const whenStarted = executor.whenStarted().then(() => started = true);
    const sum = executor.submit(gated.add, 1, 2);
    try {
      // Published: the client is connected and its stream made, while its worker cannot load.
      while (executor.stats().buffered > 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      // It resolved here, before the worker processes were up.
      assert.equal(started, false);
    } finally {
      await Deno.writeTextFile(gate, "");
    }
    await whenStarted;
    assert.equal(await sum, 3);
  } finally {
    Deno.env.delete("FUTURES_TEST_GATE");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DistributedExecutor isolation inline: a task that does not yield still times out on time", async () => {
  const cluster = await Cluster.start({ workers: 1, concurrency: 1, isolation: "inline" });
  try {
    await using executor = cluster.executor();
    await executor.ready();
    // Its start notice goes before it runs: held to the end of the worker's turn, it would come
    // only after the task, and its outcome (4000) would settle the future first.
    const error = await executor.with({ timeout: 200 }).submit(spinFor, 4_000).exception();
    assert.ok(error instanceof TimeoutError, String(error));
  } finally {
    await cluster.close();
  }
});

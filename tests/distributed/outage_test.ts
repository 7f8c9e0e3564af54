import assert from "node:assert/strict";
import { Cluster } from "./_cluster.ts";
import { QueueFullError } from "../../mod.ts";
import { NatsServer } from "../../distributed/_processes.ts";
import { add } from "../fixtures/distributed_tasks.ts";

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

Deno.test("DistributedExecutor.submit() holds tasks while the server is down and publishes them when it is back", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using executor = cluster.executor({ maxQueued: 30 });
    assert.equal(await executor.submit(add, 1, 1), 2);
    assert.equal(executor.stats().connected, true);
    const { dir, port } = cluster.server;
    await cluster.server.stop("SIGKILL");
    await until(() => !executor.stats().connected);
    const futures = Array.from({ length: 30 }, (_, i) => executor.submit(add, i, 100));
    assert.throws(() => executor.submit(add, 0, 0), QueueFullError);
    const stats = executor.stats();
    assert.equal(stats.buffered, 30);
    assert.equal(stats.queued, 30);
    assert(futures.every((future) => !future.done()));
    cluster.server = await NatsServer.start({ dir, port });
    const values = await Promise.all(futures);
    assert.deepEqual(values, Array.from({ length: 30 }, (_, i) => i + 100));
    assert.equal(executor.stats().connected, true);
    assert.equal(executor.stats().buffered, 0);
    assert.equal(executor.stats().completed, 31);
  } finally {
    await cluster.close();
  }
});

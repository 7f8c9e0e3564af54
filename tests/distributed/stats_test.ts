import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Cluster, TASKS } from "./_cluster.ts";
import { DistributedExecutor, Future, TimeoutError } from "../../distributed/mod.ts";
import { add } from "../fixtures/distributed_tasks.ts";

Deno.test("DistributedExecutor.stats() counts a task timed out here in failed, and a cancel not", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  try {
    await using executor = cluster.executor();
    await executor.ready();
    // No worker: the deadline passes while the task waits in the stream.
    const late = executor.with({ deadline: Date.now() + 100 }).submit(add, 1, 1);
    assert((await late.exception()) instanceof TimeoutError);
    const cancelled = executor.submit(add, 2, 2);
    assert(cancelled.cancel());
    const stats = executor.stats();
    assert.equal(stats.failed, 1);
    assert.equal(stats.completed, 0);
    assert.equal(stats.queued + stats.inFlight, 0);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.stats() counts a task refused here, whose arguments cannot be sent, in failed", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  try {
    await using executor = cluster.executor();
    await executor.whenStarted();
    const refused = executor.submit(add, (() => 1) as unknown as number, 1);
    const error = await refused.exception();
    assert(error instanceof DOMException && error.name === "DataCloneError", String(error));
    const stats = executor.stats();
    assert.equal(stats.failed, 1);
    assert.deepEqual(stats.attempts, { completed: 0, failed: 1 });
    assert.deepEqual(stats.futures, { completed: 0, failed: 1, cancelled: 0 });
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.stats() counts every server-side redelivery, and taskStats() a future's deliveries", async () => {
  const cluster = await Cluster.start({ workers: 0, ackWait: 500 });
  try {
    await using executor = cluster.executor();
    await executor.ready();
    const future = executor.submit(add, 20, 22);
    // Two deliveries that nobody acknowledges (a worker that dies before it says it started),
    // then a real worker: the third delivery.
    const nc = await connect({ servers: cluster.url });
    try {
      const consumer = await jetstream(nc).consumers.get("FUTS_TASKS", "workers_default");
      for (const expected of [1, 2]) {
        const msg = await consumer.next({ expires: 30_000 });
        assert.equal(msg?.info.deliveryCount, expected);
      }
    } finally {
      await nc.close();
    }
    cluster.addWorker();
    assert.equal(await future, 42);
    assert.equal(executor.stats().redelivered, 2);
    const info = executor.taskStats(future);
    assert.equal(info?.deliveries, 3);
    assert.equal(info?.attempts, 1);
    assert.equal(info?.ids.length, 1);
    assert.equal(info?.worker, "w1");
    assert.equal(executor.taskStats(new Future()), undefined);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.stats().connected and pids say what runs: nothing before the connection and after shutdown", async () => {
  // A server that is not there: never connected.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using unreachable = new DistributedExecutor({ servers: `nats://127.0.0.1:${port}` });
  assert.equal(unreachable.stats().connected, false);
  await assert.rejects(unreachable.whenStarted());
  assert.equal(unreachable.stats().connected, false);

  // Both said so after shutdown: connected true, and the PIDs of the ended processes.
  const executor = new DistributedExecutor({ maxWorkers: 1, modules: [TASKS] });
  assert.equal(await executor.submit(add, 1, 2), 3);
  assert.equal(executor.stats().connected, true);
  assert.equal(executor.pids.length, 2);
  await executor.shutdown();
  assert.equal(executor.stats().connected, false);
  assert.deepEqual(executor.pids, []);
});

// What a client misses while its connection is down (core NATS messages are kept for no one): a
// delivery-limit notice comes back only through the reconcile step after the reconnect, which
// reads the consumer's state; a pushed outcome also through the results watch, which resumes where
// it stopped (these tests pass with the reconcile step switched off; the first one does not).

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Cluster } from "./_cluster.ts";
import { CuttableProxy } from "./_proxy.ts";
import { WorkerCrashedError } from "../../distributed/mod.ts";
import { gated, square } from "../fixtures/distributed_tasks.ts";

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

Deno.test("DistributedExecutor.submit() rejects with WorkerCrashedError a poison task whose delivery-limit notice came while the client was disconnected", async () => {
  const cluster = await Cluster.start({ workers: 0, ackWait: 300 });
  const nc = await connect({ servers: cluster.url });
  try {
    const jsm = await jetstreamManager(nc);
    // The test hears the server's notice itself, on its own connection.
    const notice = nc.subscribe(
      "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.FUTS_TASKS.workers_default",
      { max: 1 },
    );
    await using proxy = new CuttableProxy(cluster.server.port);
    await using executor = cluster.executor({ servers: proxy.url, maxDeliveries: 2 });
    await executor.ready();
    // Without the reconcile step nothing else would settle it: its deadline ends the test then.
    const poison = executor.with({ deadline: Date.now() + 30_000 }).submit(square, 3);
    await until(async () => (await jsm.streams.info("FUTS_TASKS")).state.messages === 1);
    proxy.cut();
    await until(() => !executor.stats().connected);
    // Each delivery ends its worker; the pull after the last one brings the notice.
    let starts = 0;
    let stopped = false;
    const supervise = () => {
      if (stopped) return;
      starts++;
      cluster.addWorker({ env: { FUTURES_WORKER_FAULT: "crash-after-receive:square" } }).status
        .then(supervise);
    };
    supervise();
    for await (const _ of notice) break;
    stopped = true;
    assert.equal(poison.done(), false);
    proxy.restore();
    const error = await poison.exception();
    assert(error instanceof WorkerCrashedError, String(error));
    assert.match(error.message, /notice came while the connection was down/);
    assert(starts >= 3, `${starts} worker starts`);
    assert.equal(executor.stats().connected, true);
  } finally {
    await nc.close();
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() settles a task whose outcome was pushed while the client was disconnected", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  const nc = await connect({ servers: cluster.url });
  try {
    const jsm = await jetstreamManager(nc);
    await using proxy = new CuttableProxy(cluster.server.port);
    await using executor = cluster.executor({ servers: proxy.url });
    await executor.ready();
    const future = executor.with({ deadline: Date.now() + 30_000 }).submit(
      gated,
      cluster.scratch,
      "g",
      42,
    );
    await cluster.waitRuns("g");
    proxy.cut();
    await until(() => !executor.stats().connected);
    cluster.release("g");
    // The worker has stored the outcome and acknowledged the task: the stream is empty.
    await until(async () => (await jsm.streams.info("FUTS_TASKS")).state.messages === 0);
    assert.equal(future.done(), false);
    proxy.restore();
    assert.equal(await future, 42);
  } finally {
    await nc.close();
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() settles a task whose outcome was pushed while the client was disconnected and the server restarted", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  const proxy = new CuttableProxy(cluster.server.port);
  try {
    await using executor = cluster.executor({ servers: proxy.url });
    await executor.ready();
    const future = executor.with({ deadline: Date.now() + 30_000 }).submit(
      gated,
      cluster.scratch,
      "g",
      42,
    );
    await cluster.waitRuns("g");
    proxy.cut();
    await until(() => !executor.stats().connected);
    cluster.release("g");
    const nc = await connect({ servers: cluster.url });
    const jsm = await jetstreamManager(nc);
    await until(async () => (await jsm.streams.info("FUTS_TASKS")).state.messages === 0);
    await nc.close();
    await cluster.killAndRestartServer();
    assert.equal(future.done(), false);
    proxy.restore();
    assert.equal(await future, 42);
  } finally {
    await proxy[Symbol.asyncDispose]();
    await cluster.close();
  }
});

// What a client misses while its connection is down (core NATS messages are kept for no one): a
// delivery-limit notice and a pushed outcome come back through the reconcile step after the
// reconnect, which reads the consumer's state and the outcomes stored for the tasks it delivered.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Cluster } from "./_cluster.ts";
import { CuttableProxy } from "./_proxy.ts";
import { type DistributedExecutor, WorkerCrashedError } from "../../distributed/mod.ts";
import type { Future } from "../../mod.ts";
import { gated, square } from "../fixtures/distributed_tasks.ts";

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!await condition()) await new Promise((resolve) => setTimeout(resolve, 20));
}

/**
 * Submits a held task through `proxy`, cuts the client off once it runs, lets it finish and waits
 * until the worker has stored its outcome and acknowledged it (the stream is empty). Returns its
 * future, which the client cannot have settled yet.
 */
async function settledWhileAway(
  cluster: Cluster,
  executor: DistributedExecutor,
  proxy: CuttableProxy,
): Promise<{ future: Future<number> }> {
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
  try {
    const jsm = await jetstreamManager(nc);
    await until(async () => (await jsm.streams.info("FUTS_TASKS")).state.messages === 0);
  } finally {
    await nc.close();
  }
  assert.equal(future.done(), false);
  // Wrapped: an async function returning a future would wait for it (a future is a thenable).
  return { future };
}

/**
 * Submits a task that ends every worker it reaches, cuts the client off once the task is in the
 * stream (first dropping what the server sends, when `ackLost`: its publish acknowledgement never
 * comes, and the client publishes it again after the reconnect), crashes workers on it until the
 * server gives up on it, lets the client back, and returns the error its future got.
 */
async function poisonedWhileAway(ackLost: boolean): Promise<void> {
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
    if (ackLost) proxy.mute();
    // Without the reconcile step nothing else would settle it: its deadline ends the test then.
    const poison = executor.with({ deadline: Date.now() + 30_000 }).submit(square, 3);
    await until(async () => (await jsm.streams.info("FUTS_TASKS")).state.messages === 1);
    proxy.cut();
    await until(() => !executor.stats().connected);
    // Each delivery ends its worker; the notice follows the last one (nats-server 2.9 sends it at
    // the next pull, so after the next start; 2.11 when the last ack wait runs out).
    let starts = 0;
    let stopped = false;
    const supervise = () => {
      if (stopped) return;
      starts++;
      cluster.addWorker({ env: { FUTURES_WORKER_FAULT: "crash-after-receive:square" } }).status
        .then(supervise);
    };
    supervise();
    let deliveries = 0;
    for await (const msg of notice) {
      deliveries = msg.json<{ deliveries: number }>().deliveries;
      break;
    }
    stopped = true;
    assert.equal(deliveries, 2);
    assert.equal(poison.done(), false);
    proxy.restore();
    const error = await poison.exception();
    assert(error instanceof WorkerCrashedError, String(error));
    assert.match(error.message, /notice came while the connection was down/);
    assert(starts >= 2, `${starts} worker starts`);
    assert.equal(executor.stats().connected, true);
    // Published once: a publish sent again after the reconnect was deduplicated.
    assert.equal((await jsm.streams.info("FUTS_TASKS")).state.last_seq, 1);
  } finally {
    await nc.close();
    await cluster.close();
  }
}

Deno.test("DistributedExecutor.submit() rejects with WorkerCrashedError a poison task whose delivery-limit notice came while the client was disconnected", async () => {
  await poisonedWhileAway(false);
});

Deno.test("DistributedExecutor.submit() rejects with WorkerCrashedError a poison task whose notice came while the client was disconnected and whose publish acknowledgement was lost", async () => {
  await poisonedWhileAway(true);
});

Deno.test("DistributedExecutor.submit() settles a task whose outcome was pushed while the client was disconnected", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using proxy = new CuttableProxy(cluster.server.port);
    await using executor = cluster.executor({ servers: proxy.url });
    const { future } = await settledWhileAway(cluster, executor, proxy);
    proxy.restore();
    assert.equal(await future, 42);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() settles a task whose outcome was pushed while the client was disconnected and the server restarted", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  const proxy = new CuttableProxy(cluster.server.port);
  try {
    await using executor = cluster.executor({ servers: proxy.url });
    const { future } = await settledWhileAway(cluster, executor, proxy);
    await cluster.killAndRestartServer();
    proxy.restore();
    assert.equal(await future, 42);
  } finally {
    await proxy[Symbol.asyncDispose]();
    await cluster.close();
  }
});

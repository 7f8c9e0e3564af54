// The recovery paths after a worker crash, reached on purpose with FUTURES_WORKER_FAULT (see
// distributed/_faults.ts), with workers under a supervisor that starts them again as systemd's
// Restart=always would.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Cluster } from "./_cluster.ts";
import { WorkerCrashedError } from "../../distributed/mod.ts";
import { add, counted, square } from "../fixtures/distributed_tasks.ts";

/** Keeps one worker process running with `env`, starting it again each time it exits. */
function supervise(
  cluster: Cluster,
  env: Record<string, string>,
): { starts: number; stop(): void } {
  const state = { starts: 0, stopped: false, stop: () => state.stopped = true };
  const run = () => {
    if (state.stopped) return;
    state.starts++;
    cluster.addWorker({ env }).status.then(run);
  };
  run();
  return state;
}

async function streamEmpty(url: string): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    while ((await jsm.streams.info("FUTS_TASKS")).state.messages > 0) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await nc.close();
  }
}

Deno.test("DistributedExecutor.submit() rejects with WorkerCrashedError a task that crashes its worker on receipt, after maxDeliveries, and the queue goes on", async () => {
  const cluster = await Cluster.start({ workers: 0, ackWait: 300 });
  let supervisor: ReturnType<typeof supervise> | undefined;
  try {
    await using executor = cluster.executor({ maxDeliveries: 3, poisonAfter: 5 });
    // The executor makes the queue's consumer, with its maxDeliveries, before a worker starts: a
    // worker first would make it with its default (10), which the executor then refuses.
    await executor.ready();
    supervisor = supervise(cluster, { FUTURES_WORKER_FAULT: "crash-after-receive:square" });
    const poison = executor.submit(square, 3);
    const error = await poison.exception();
    assert(error instanceof WorkerCrashedError, String(error));
    assert.match(error.message, /delivery limit/);
    // Each of the three deliveries took a worker down (a fourth starts after the last; the server
    // may send its notice before that start, as it does from nats-server 2.11).
    assert(supervisor.starts >= 3, `${supervisor.starts} worker starts`);
    assert.equal(await executor.submit(add, 2, 3), 5);
    assert.equal(executor.stats().failed, 1);
    await streamEmpty(cluster.url);
  } finally {
    supervisor?.stop();
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() rejects with WorkerCrashedError a task whose workers crash before starting it, after maxAttempts", async () => {
  const cluster = await Cluster.start({ workers: 0, ackWait: 300 });
  const supervisor = supervise(cluster, { FUTURES_WORKER_FAULT: "crash-before-start:square" });
  try {
    await using executor = cluster.executor({ poisonAfter: 2 });
    const error = await executor.submit(square, 3).exception();
    assert(error instanceof WorkerCrashedError);
    assert.match(error.message, /poison/);
    assert.equal(supervisor.starts, 3);
    assert.equal(await executor.submit(add, 2, 3), 5);
  } finally {
    supervisor.stop();
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() settles once and runs once when the worker crashes after storing the outcome and before acking", async () => {
  // The worker keeps the message in progress every third of the ack wait until it is stored: two
  // seconds leave a margin of more than a second for a loaded machine (300 ms was too little).
  const cluster = await Cluster.start({ workers: 0, ackWait: 2_000 });
  const supervisor = supervise(cluster, {
    FUTURES_WORKER_FAULT: "crash-after-store-before-ack:counted",
  });
  try {
    await using executor = cluster.executor();
    assert.equal(await executor.submit(counted, cluster.scratch, 5), 5);
    // The message comes back after the ack wait; the next worker only acknowledges it.
    await streamEmpty(cluster.url);
    assert.equal(cluster.runs("n5").length, 1);
    assert.equal(supervisor.starts, 2);
    assert.equal(executor.stats().completed, 1);
  } finally {
    supervisor.stop();
    await cluster.close();
  }
});

Deno.test("DistributedWorker keeps a task's message in progress while its outcome waits to be stored, so it runs once", async () => {
  // The lane is freed before the store; the store here waits three ack waits (a slow store). The
  // in-progress notices come every third of the ack wait: two seconds leave a margin for load.
  const cluster = await Cluster.start({ workers: 0, ackWait: 2_000 });
  const supervisor = supervise(cluster, { FUTURES_WORKER_FAULT: "stall-before-store:counted" });
  try {
    await using executor = cluster.executor();
    assert.equal(await executor.submit(counted, cluster.scratch, 7), 7);
    // Acknowledged once stored: without the in-progress notices the message would have been
    // delivered again meanwhile and run a second time.
    await streamEmpty(cluster.url);
    assert.equal(cluster.runs("n7").length, 1);
    assert.equal(supervisor.starts, 1);
  } finally {
    supervisor.stop();
    await cluster.close();
  }
});

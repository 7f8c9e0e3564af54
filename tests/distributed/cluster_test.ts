// A real 3-node JetStream cluster: with replicas 3, losing a node mid-run loses no task. The stall
// (the longest time without a task settling) is measured and printed, not asserted.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsCluster } from "./_nats_cluster.ts";
import { TASKS } from "./_cluster.ts";
import { type Spawned, spawnWorker } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { add } from "../fixtures/distributed_tasks.ts";

const SETTINGS = ["--replicas", "3", "--ack-wait", "2000"];

// A node killed under a live KV watch makes the NATS client re-create the watch's ordered
// consumer with backoff delays; @nats-io/jetstream 3.4.0 loses track of some of them (its
// pushconsumer.js removes a finished delay with `cancelables.splice(idx, idx)`, which drops the
// others), so `stop()` cannot cancel them and a timer of up to a few seconds, which does nothing
// once it fires, can outlive the test. The op sanitizer would fail these tests on that timer; the
// resource sanitizer stays on, and every server and worker is still ended in `finally`.
const CLUSTER_TEST = { sanitizeOps: false };

async function leaderOf(urls: string[], stream: string): Promise<string> {
  const nc = await connect({ servers: urls });
  try {
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info(stream);
    assert.equal(info.config.num_replicas, 3, `${stream} has 3 replicas`);
    return info.cluster!.leader!;
  } finally {
    await nc.close();
  }
}

/** The node that leads the queue's consumer (it hands out the tasks). */
async function consumerLeaderOf(urls: string[]): Promise<string> {
  const nc = await connect({ servers: urls });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.consumers.info("FUTS_TASKS", "workers_default")).cluster!.leader!;
  } finally {
    await nc.close();
  }
}

/** Runs `count` tasks and calls `midway` once a fifth of them settled; returns the stall in ms. */
async function run(
  executor: DistributedExecutor,
  count: number,
  midway: () => Promise<void>,
): Promise<number> {
  let last = performance.now();
  let stall = 0;
  let settled = 0;
  let reached: () => void = () => {};
  const fifth = new Promise<void>((resolve) => reached = resolve);
  const futures = Array.from({ length: count }, (_, i) => {
    const future = executor.submit(add, i, 1);
    future.addDoneCallback(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
      if (++settled === Math.floor(count / 5)) reached();
    });
    return future;
  });
  await fifth;
  await midway();
  const values = await Promise.all(futures);
  assert.deepEqual(values, Array.from({ length: count }, (_, i) => i + 1));
  return stall;
}

function startWorkers(urls: string[], n: number): Spawned[] {
  return Array.from({ length: n }, (_, i) =>
    spawnWorker({
      url: urls[i % urls.length]!,
      queue: "default",
      modules: [TASKS],
      concurrency: 4,
      isolation: "process",
      allowSource: false,
      name: `cw${i + 1}`,
      quiet: true,
      args: [...urls.flatMap((url) => ["--nats", url]), ...SETTINGS],
    }));
}

Deno.test({
  name:
    "DistributedExecutor with replicas 3 loses nothing when the task stream's leader node is killed mid-run",
  ...CLUSTER_TEST,
}, async () => {
  const cluster = await NatsCluster.start();
  let workers: Spawned[] = [];
  try {
    await using executor = new DistributedExecutor({
      servers: cluster.urls,
      modules: [TASKS],
      replicas: 3,
      ackWait: 2_000,
    });
    await executor.ready();
    workers = startWorkers(cluster.urls, 2);
    // Every JetStream object the executor uses is replicated.
    await leaderOf(cluster.urls, "KV_futs_results");
    const leader = await leaderOf(cluster.urls, "FUTS_TASKS");
    const stall = await run(executor, 500, async () => void await cluster.kill(leader));
    console.log(`stream leader ${leader} killed: longest stall ${stall.toFixed(0)} ms`);
    const stats = executor.stats();
    assert.equal(stats.completed, 500);
    assert.equal(stats.failed, 0);
  } finally {
    for (const worker of workers) worker.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.status));
    await cluster.close();
  }
});

Deno.test({
  name:
    "DistributedExecutor with replicas 3 carries on unchanged when a node that leads nothing it uses is killed",
  ...CLUSTER_TEST,
}, async () => {
  const cluster = await NatsCluster.start();
  let workers: Spawned[] = [];
  try {
    await using executor = new DistributedExecutor({
      servers: cluster.urls,
      modules: [TASKS],
      replicas: 3,
      ackWait: 2_000,
    });
    await executor.ready();
    workers = startWorkers(cluster.urls, 2);
    const leaders = new Set([
      await leaderOf(cluster.urls, "FUTS_TASKS"),
      await leaderOf(cluster.urls, "KV_futs_results"),
      await consumerLeaderOf(cluster.urls),
    ]);
    const bystander = cluster.nodes.find((node) => !leaders.has(node.name));
    // The two streams and the consumer can be led by different nodes, leaving none that leads
    // nothing.
    const victim = bystander?.name ?? [...leaders].find((name) => name !== [...leaders][0])!;
    const stall = await run(executor, 300, async () => void await cluster.kill(victim));
    console.log(
      `${bystander ? "non-leader" : "a leader"} ${victim} killed: longest stall ${
        stall.toFixed(0)
      } ms`,
    );
    assert.equal(executor.stats().completed, 300);
    assert.equal(executor.stats().failed, 0);
  } finally {
    for (const worker of workers) worker.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.status));
    await cluster.close();
  }
});

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { NatsServer, spawnWorker } from "../../../distributed/_processes.ts";
import { heartbeatSubject } from "../../../distributed/_heartbeat.ts";
import { DistributedExecutor } from "../../../distributed/mod.ts";
import { clusterOf } from "../../../executors/_observe.ts";
import { readMetrics } from "../../../observe/mod.ts";
import { until } from "./_until.ts";

const TASKS = new URL("../../fixtures/distributed_tasks.ts", import.meta.url).href;

function worker(url: string, name: string) {
  return spawnWorker({
    url,
    queue: "default",
    modules: [TASKS],
    concurrency: 1,
    isolation: "worker",
    allowSource: false,
    name,
    quiet: true,
    args: ["--heartbeat", "100"],
  });
}

Deno.test("readMetrics() lists a distributed worker while it beats, and not once it is killed", async () => {
  const server = await NatsServer.start();
  const w1 = worker(server.url, "hb1");
  try {
    await using executor = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    const expiry = { workerExpiry: 600 };
    const names = () => readMetrics([executor], expiry)[0]!.cluster!.workers;
    names(); // starts recording, and watching the cluster
    const cluster = clusterOf(executor)!;
    await until(cluster, () => names().includes("hb1"), "hb1 is listed");

    // Idle, it stays: ten more beats (a second, beyond the expiry) and it is still listed.
    const nc = await connect({ servers: server.url });
    try {
      let beats = 0;
      const { promise, resolve } = Promise.withResolvers<void>();
      nc.subscribe(heartbeatSubject("default"), {
        callback: () => {
          if (++beats === 10) resolve();
        },
      });
      await promise;
    } finally {
      await nc.close();
    }
    assert.deepEqual(names(), ["hb1"]);
    assert.equal(readMetrics([executor], expiry)[0]!.workers.idle, 1);

    // Killed, it sends no last beat: it leaves once its beats have been missing for the expiry.
    w1.kill("SIGKILL");
    await w1.status;
    await until(cluster, () => !names().includes("hb1"), "hb1 leaves after the expiry");
    assert.deepEqual(names(), []);
  } finally {
    w1.kill("SIGKILL");
    await w1.status;
    await server.destroy();
  }
});

Deno.test("readMetrics() drops a distributed worker at once when it stops gracefully", async () => {
  const server = await NatsServer.start();
  const w1 = worker(server.url, "hb2");
  try {
    await using executor = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    // An hour's expiry: only the worker's last beat can take it off the list.
    const expiry = { workerExpiry: 3_600_000 };
    const names = () => readMetrics([executor], expiry)[0]!.cluster!.workers;
    names(); // starts recording, and watching the cluster
    const cluster = clusterOf(executor)!;
    await until(cluster, () => names().includes("hb2"), "hb2 is listed");
    await w1.stop("SIGTERM");
    await until(cluster, () => names().length === 0, "hb2 leaves as it stops");
  } finally {
    w1.kill("SIGKILL");
    await w1.status;
    await server.destroy();
  }
});

Deno.test("the cluster watch drops beats of another shape, and one executor's cluster takes one worker expiry", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    await using executor = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    const names = () => readMetrics([executor])[0]!.cluster!.workers;
    names(); // starts recording, and watching the cluster
    const cluster = clusterOf(executor)!;
    // Anyone allowed to publish on the subject: a beat with no interval made the expiry NaN (the
    // worker never left, and the watch's timer fired every millisecond).
    const beat = { v: 1, running: 0, pid: 2, every: 60_000 };
    // The watch subscribes once its connection is up: a first beat, sent until it is listed,
    // tells that it hears this publisher.
    const send = (note: object) => nc.publish(heartbeatSubject("default"), JSON.stringify(note));
    const first = setInterval(() => send({ ...beat, name: "first" }), 20);
    try {
      await until(cluster, () => names().includes("first"), "the first beat is listed");
    } finally {
      clearInterval(first);
    }
    const malformed = [
      { ...beat, name: "no-interval", every: undefined },
      { ...beat, name: "text-interval", every: "100" },
      { ...beat, name: "negative-count", running: -1 },
      { ...beat, name: "x".repeat(257) },
      { ...beat, name: "another-version", v: 2 },
    ];
    for (const note of malformed) send(note);
    // Beats of one publisher arrive in order: once the last (a good one) is listed, the others
    // were heard and dropped.
    send({ ...beat, name: "good", extra: 1 });
    await until(cluster, () => names().includes("good"), "the good beat is listed");
    assert.deepEqual(names(), ["first", "good"]);
    assert.equal("extra" in cluster.workers()[1]!, false, "only the fields read are kept");

    // One expiry per executor: a second, different one is refused rather than changing what the
    // first handler reports.
    readMetrics([executor], { workerExpiry: 5_000 });
    readMetrics([executor], { workerExpiry: 5_000 });
    assert.throws(
      () => readMetrics([executor], { workerExpiry: 9_000 }),
      (error) =>
        error instanceof TypeError &&
        /workerExpiry 9000 as the cluster of '.*' is observed with workerExpiry 5000/.test(
          error.message,
        ),
    );
  } finally {
    await nc.close();
    await server.destroy();
  }
});

import assert from "node:assert/strict";
import { NatsServer, spawnWorker } from "../../../distributed/_processes.ts";
import { DistributedExecutor } from "../../../distributed/mod.ts";
import { clusterOf } from "../../../executors/_observe.ts";
import { formatMetrics, readMetrics } from "../../../observe/mod.ts";
import { parsePrometheus, valueOf } from "../_prom_parser.ts";
import { until } from "./_until.ts";
import { Cluster } from "../../distributed/_cluster.ts";

const TASKS = new URL("../../fixtures/distributed_tasks.ts", import.meta.url).href;

Deno.test("readMetrics() follows a DistributedExecutor's cluster: stream depth, workers, tasks", async () => {
  const server = await NatsServer.start();
  let worker: ReturnType<typeof spawnWorker> | undefined;
  try {
    await using executor = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    const read = () => readMetrics({ cluster: executor })[0]!;
    read();
    const cluster = clusterOf(executor)!;
    const { square } = await import(TASKS);
    // No worker yet: the tasks wait in the stream.
    const futures = [1, 2, 3].map((n) => executor.submit(square, n));
    await until(cluster, () => read().cluster!.streamDepth === 3, "the stream holds 3 tasks");
    assert.deepEqual(read().cluster!.workers, []);

    worker = spawnWorker({
      url: server.url,
      queue: "default",
      modules: [TASKS],
      concurrency: 1,
      isolation: "worker",
      allowSource: false,
      name: "m1",
      quiet: true,
      args: ["--heartbeat", "100"],
    });
    assert.deepEqual(await Promise.all(futures), [1, 4, 9]);
    await until(
      cluster,
      () => read().cluster!.streamDepth === 0 && read().cluster!.workers.includes("m1"),
      "the stream is empty and m1 is listed",
    );
    const m = read();
    assert.equal(m.tasks.completed, 3);
    assert.equal(m.attempts.completed, 3);
    assert.equal(m.duration.count, 3);
    assert.equal(m.workers.idle + m.workers.busy, 1);

    const samples = parsePrometheus(formatMetrics([m]));
    const value = (name: string) => valueOf(samples, name, { executor: "cluster" });
    assert.equal(value("concurrent_futures_cluster_workers"), 1);
    assert.equal(value("concurrent_futures_stream_depth"), 0);
    assert.equal(value("concurrent_futures_redeliveries_total"), 0);
  } finally {
    worker?.kill("SIGKILL");
    await worker?.status;
    await server.destroy();
  }
});

Deno.test("readMetrics() times a task a distributed worker runs inline by the run time it measured", async () => {
  const cluster = await Cluster.start({ workers: 1, isolation: "inline" });
  try {
    await using executor = cluster.executor();
    const read = () => readMetrics({ cluster: executor })[0]!;
    read();
    const { spinFor } = await import(TASKS);
    // Synchronous: it ends in the turn it started, so no start notice comes before its outcome.
    assert.equal(await executor.submit(spinFor, 150), 150);
    const m = read();
    assert.equal(m.duration.count, 1);
    assert.ok(m.duration.sum >= 0.15, `a run of ${m.duration.sum} s recorded for 150 ms`);
  } finally {
    await cluster.close();
  }
});

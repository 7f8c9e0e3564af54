import assert from "node:assert/strict";
import { Cluster, TASKS } from "./_cluster.ts";
import { DistributedWorker, parseWorkerArgs } from "../../distributed/worker.ts";
import { WorkerCrashedError } from "../../distributed/mod.ts";
import { add, crash } from "../fixtures/distributed_tasks.ts";

Deno.test("DistributedWorker builds a new local pool when crashing tasks break it, and runs ordinary tasks after", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  const lines: string[] = [];
  const worker = await DistributedWorker.start({
    ...parseWorkerArgs(["--nats", cluster.url, "--modules", TASKS, "--concurrency", "1"]),
    restartLimit: { max: 1, within: 60_000 },
    rebuildDelay: 100,
    log: (line) => lines.push(line),
  });
  try {
    await using executor = cluster.executor({ ackWait: undefined });
    // Two crashes in a row exceed the restart limit of 1: the pool breaks.
    for (const tag of ["c1", "c2"]) {
      assert(
        (await executor.submit(crash, cluster.scratch, tag).exception()) instanceof
          WorkerCrashedError,
      );
    }
    assert.equal(await executor.submit(add, 1, 2), 3);
    const values = await Promise.all(
      Array.from({ length: 5 }, (_, i) => executor.submit(add, i, 1)),
    );
    assert.deepEqual(values, [1, 2, 3, 4, 5]);
    assert(
      lines.some((line) => /restart limit.*builds a new pool in 100 ms/.test(line)),
      lines.join("\n"),
    );
    // Broken again, by two more crashes: the next rebuild waits twice as long.
    for (const tag of ["c3", "c4"]) await executor.submit(crash, cluster.scratch, tag).exception();
    assert.equal(await executor.submit(add, 2, 2), 4);
    assert(lines.some((line) => /builds a new pool in 200 ms/.test(line)), lines.join("\n"));
    assert.equal(executor.stats().failed, 4);
  } finally {
    await worker.stop();
    await cluster.close();
  }
});

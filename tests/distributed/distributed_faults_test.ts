import assert from "node:assert/strict";
import { serialize } from "node:v8";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Cluster, TASKS } from "./_cluster.ts";
import { DistributedExecutor, WorkerCrashedError } from "../../distributed/mod.ts";
import { BrokenExecutorError } from "../../mod.ts";
import type { ResultRecord, TaskEnvelope } from "../../distributed/_protocol.ts";
import { decodeBody } from "../../distributed/_codec.ts";
import { recorderOf } from "../../observe/_registry.ts";
import { add, counted, crash, gated, killWorker, sleepy } from "../fixtures/distributed_tasks.ts";

Deno.test("DistributedExecutor.submit() completes once, elsewhere, when the worker running it is SIGKILLed", async () => {
  const cluster = await Cluster.start({ workers: 2 });
  try {
    await using executor = cluster.executor();
    // Observed: the task stream shows the task where it ran last.
    const recorder = recorderOf(executor, "observe the test's executor");
    const heardOfStart = Promise.withResolvers<void>();
    recorder.onChange = () => {
      if ([...recorder.workers.values()].some((view) => view.running === 1)) {
        heardOfStart.resolve();
      }
    };
    const future = executor.submit(gated, cluster.scratch, "k", 7);
    const [[child, parent]] = await cluster.waitRuns("k") as [[number, number]];
    const victim = cluster.workers.find((worker) => worker.pid === parent);
    assert(victim, "the task ran in a child of a worker process");
    const victimName = `w${cluster.workers.indexOf(victim) + 1}`;
    await heardOfStart.promise;
    assert.equal(recorder.workers.get(victimName)?.running, 1);
    victim.kill("SIGKILL");
    Deno.kill(child, "SIGKILL");
    await victim.status;
    cluster.release("k");
    assert.equal(await future, 7);
    const survivorName = victimName === "w1" ? "w2" : "w1";
    assert.deepEqual(recorder.bars.map((bar) => bar.lane), [survivorName]);
    assert.equal(recorder.workers.get(victimName)?.running ?? 0, 0, "the dead worker runs nothing");
    const runs = cluster.runs("k");
    assert.equal(runs.length, 2);
    assert.notEqual(runs[1]![1], parent);
    assert.equal(executor.stats().redelivered, 1);
    assert.equal(executor.stats().completed, 1);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() runs a task once when its result was stored and the worker died before acking", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  try {
    await using executor = cluster.executor();
    await executor.ready();
    const future = executor.submit(counted, cluster.scratch, 5);
    // A worker that stores the outcome and dies before acknowledging, step by step.
    const nc = await connect({ servers: cluster.url });
    try {
      const js = jetstream(nc);
      const consumer = await js.consumers.get("FUTS_TASKS", "workers_default");
      const msg = await consumer.next({ expires: 10_000 });
      assert(msg);
      const envelope = decodeBody<TaskEnvelope>(msg.data);
      const value = counted(cluster.scratch, 5);
      const record: ResultRecord = { v: 1, ok: true, value, worker: "lost", deliveries: 1 };
      const kv = await new Kvm(js).open("futs_results");
      await kv.create(`${envelope.client}.${envelope.id}`, serialize(record));
    } finally {
      await nc.close();
    }
    assert.equal(await future, 5);
    // The message comes back after the ack wait: a real worker must only acknowledge it.
    cluster.addWorker();
    const jnc = await connect({ servers: cluster.url });
    try {
      const jsm = await jetstreamManager(jnc);
      while ((await jsm.streams.info("FUTS_TASKS")).state.messages > 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await jnc.close();
    }
    assert.equal(await executor.submit(add, 1, 1), 2);
    assert.equal(cluster.runs("n5").length, 1);
    assert.deepEqual(executor.stats().workers.lost, { completed: 1, failed: 0 });
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() rejects a task that kills its workers maxAttempts times as a poison task", async () => {
  const cluster = await Cluster.start({ workers: 3 });
  try {
    await using executor = cluster.executor({ poisonAfter: 2 });
    const error = await executor.submit(killWorker, cluster.scratch, "p").exception();
    assert(error instanceof WorkerCrashedError);
    assert.match(error.message, /poison/);
    assert.equal(cluster.runs("p").length, 2);
    assert.equal(executor.stats().failed, 1);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() rejects with WorkerCrashedError when a task ends its pool process, and the worker carries on", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const error = await executor.submit(crash, cluster.scratch, "c").exception();
    assert(error instanceof WorkerCrashedError);
    assert.equal(cluster.runs("c").length, 1);
    assert.equal(await executor.submit(add, 5, 5), 10);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() runs a task longer than the ack wait once", async () => {
  // The worker keeps the message in progress every third of the ack wait: 1.5 s leaves a second
  // of margin for a loaded machine.
  const cluster = await Cluster.start({ workers: 2, ackWait: 1_500 });
  try {
    await using executor = cluster.executor();
    assert.equal(await executor.submit(sleepy, cluster.scratch, "l", 4_500, 9), 9);
    assert.equal(cluster.runs("l").length, 1);
    assert.equal(executor.stats().redelivered, 0);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() loses nothing when the server is SIGKILLed and restarted with 1000 tasks in flight", async () => {
  const cluster = await Cluster.start({ workers: 3 });
  try {
    await using executor = cluster.executor();
    const futures = Array.from({ length: 1000 }, (_, i) => executor.submit(add, i, 2));
    while (executor.stats().completed < 50) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await cluster.killAndRestartServer();
    const values = await Promise.all(futures);
    assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i + 2));
    assert.equal(executor.stats().completed, 1000);
    // Messages of acknowledged tasks that the crash left behind are removed (stats().ghosts).
    const nc = await connect({ servers: cluster.url });
    try {
      const jsm = await jetstreamManager(nc);
      while ((await jsm.streams.info("FUTS_TASKS")).state.messages > 0) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } finally {
      await nc.close();
    }
    console.log(`ghosts removed after the crash: ${executor.stats().ghosts}`);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedWorker drains on SIGTERM: it finishes the running task, then exits", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const future = executor.submit(gated, cluster.scratch, "t", 4);
    await cluster.waitRuns("t");
    const worker = cluster.workers[0]!;
    worker.kill("SIGTERM");
    cluster.release("t");
    assert.equal(await future, 4);
    const status = await worker.status;
    assert.equal(status.code, 0);
    assert.equal(cluster.runs("t").length, 1);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor restarts an embedded worker that a task killed", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "futures-dist-test-" });
  try {
    await using executor = new DistributedExecutor({
      workers: 1,
      modules: [TASKS],
      ackWait: 500,
      poisonAfter: 2,
    });
    const error = await executor.submit(killWorker, scratch, "e").exception();
    assert(error instanceof WorkerCrashedError);
    assert.match(error.message, /poison/);
    assert.equal(await executor.submit(add, 20, 1), 21);
    const runs = Deno.readTextFileSync(`${scratch}/e.runs`).trim().split("\n");
    assert.equal(runs.length, 2);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});

Deno.test("DistributedExecutor's restart limit is a rate: workers killed now and then are restarted for ever", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "futures-dist-test-" });
  try {
    // One exit allowed within 1 ms: two exits of one worker are a process start apart at least.
    // The limit was a lifetime count (3 × maxWorkers): the fourth exit broke the executor.
    await using executor = new DistributedExecutor({
      maxWorkers: 1,
      modules: [TASKS],
      ackWait: 500,
      poisonAfter: 2,
      restartLimit: { max: 1, within: 1 },
    });
    for (const tag of ["r1", "r2", "r3"]) {
      const error = await executor.submit(killWorker, scratch, tag).exception();
      assert(error instanceof WorkerCrashedError, String(error));
    }
    assert.equal(await executor.submit(add, 20, 1), 21);
    for (const tag of ["r1", "r2", "r3"]) {
      assert.equal(Deno.readTextFileSync(`${scratch}/${tag}.runs`).trim().split("\n").length, 2);
    }
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});

Deno.test("DistributedExecutor breaks with BrokenExecutorError when its workers exit more often than restartLimit", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "futures-dist-test-" });
  try {
    await using executor = new DistributedExecutor({
      maxWorkers: 1,
      modules: [TASKS],
      ackWait: 500,
      poisonAfter: 2,
      restartLimit: { max: 1, within: 60_000 },
    });
    const error = await executor.submit(killWorker, scratch, "b").exception();
    assert(error instanceof BrokenExecutorError, String(error));
    assert.match(error.message, /exited 2 times within 60000 ms, more than the restart limit of 1/);
    assert.throws(() => executor.submit(add, 1, 2), BrokenExecutorError);
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
});

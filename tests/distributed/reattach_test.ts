import assert from "node:assert/strict";
import { Cluster, TASKS } from "./_cluster.ts";
import { NatsServer } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { InvalidStateError } from "../../mod.ts";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { add, echoBig } from "../fixtures/distributed_tasks.ts";

const SCRIPT = new URL("../fixtures/scripts/distributed_client.ts", import.meta.url);

/** Runs the crashing client: returns its task ids once it printed them, after killing it. */
async function crashedClient(cluster: Cluster, clientId: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      SCRIPT.href,
      cluster.url,
      cluster.scratch,
      clientId,
      String(cluster.options.ackWait),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    let text = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the client ended before printing its task ids: ${text}`);
      text += value;
    }
    await reader.cancel();
    return JSON.parse(text) as { held: string; done: string };
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

Deno.test("DistributedExecutor.futureOf() gives a client with the same clientId the outcomes of tasks a killed client submitted", async () => {
  // Two lanes: the held task takes one, the other runs the rest. The held task is kept in
  // progress every third of the ack wait: two seconds leave a margin for a loaded machine.
  const cluster = await Cluster.start({ workers: 1, concurrency: 2, ackWait: 2_000 });
  try {
    const ids = await crashedClient(cluster, "billing");
    await using executor = cluster.executor({ clientId: "billing" });
    // Finished before the crash: its stored outcome.
    assert.equal(await executor.futureOf(ids.done), 6);
    // Still running at the crash: it settles when the worker stores it.
    const held = executor.futureOf<number>(ids.held);
    assert.equal(executor.futureOf(ids.held), held);
    assert(!held.done());
    cluster.release("r");
    assert.equal(await held, 41);
    // Its own tasks never take the ids of the earlier run.
    const own = executor.submit(add, 1, 1);
    assert(![ids.held, ids.done].includes(executor.taskId(own)!));
    assert.equal(executor.futureOf(executor.taskId(own)!), own);
    assert.equal(await own, 2);
    assert.equal(cluster.runs("n6").length, 1);
    assert.equal(cluster.runs("r").length, 1);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.forget() removes a stored outcome nobody will read", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using executor = cluster.executor({ clientId: "reports" });
    const future = executor.submit(add, 2, 2);
    assert.equal(await future, 4);
    const id = executor.taskId(future)!;
    await executor.forget(id);
    const nc = await connect({ servers: cluster.url });
    try {
      const kv = await new Kvm(jetstream(nc)).open("futs_results");
      const entry = await kv.get(`reports.${id}`);
      assert(entry === null || entry.operation !== "PUT");
    } finally {
      await nc.close();
    }
    assert.throws(() => executor.futureOf("a.b"), /'taskId' must be a task id: received "a.b"/);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.forget() of a running task waits for it, then removes its outcome", async () => {
  const { gated } = await import("../fixtures/distributed_tasks.ts");
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using executor = cluster.executor({ clientId: "running" });
    const future = executor.submit(gated, cluster.scratch, "f", 5);
    await cluster.waitRuns("f");
    const id = executor.taskId(future)!;
    const forgotten = executor.forget(id);
    cluster.release("f");
    // It resolved at once, doing nothing, and the outcome was stored after.
    await forgotten;
    assert.equal(future.done(), true);
    assert.equal(await future, 5);
    const nc = await connect({ servers: cluster.url });
    try {
      const kv = await new Kvm(jetstream(nc)).open("futs_results");
      const entry = await kv.get(`running.${id}`);
      assert(entry === null || entry.operation !== "PUT", "the outcome is gone");
    } finally {
      await nc.close();
    }
  } finally {
    cluster.release("f");
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.forget() of a settled task removes an outcome still being stored when it is called", async () => {
  // The worker pushes the outcome at once and stores it three ack waits later (within the 5 s
  // that forget() waits for a store). A second's ack wait keeps the message in progress meanwhile
  // even on a loaded machine, where 300 ms could let it be delivered and run again.
  const cluster = await Cluster.start({ workers: 0, ackWait: 1_000 });
  try {
    cluster.addWorker({ env: { FUTURES_WORKER_FAULT: "stall-before-store:add" } });
    await using executor = cluster.executor({ clientId: "late" });
    const future = executor.submit(add, 3, 4);
    assert.equal(await future, 7);
    const id = executor.taskId(future)!;
    // Settled, so forget() gets a new future for the id: it must still wait for the store.
    await executor.forget(id);
    const nc = await connect({ servers: cluster.url });
    try {
      // The worker acknowledges once the outcome is stored: by then a forget() that did not wait
      // for the store would have left it behind.
      const jsm = await jetstreamManager(nc);
      while ((await jsm.streams.info("FUTS_TASKS")).state.messages > 0) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const kv = await new Kvm(jetstream(nc)).open("futs_results");
      const entry = await kv.get(`late.${id}`);
      assert(entry === null || entry.operation !== "PUT", "the outcome stored late is gone");
    } finally {
      await nc.close();
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.futureOf() of a task still held here gives its own future, and a cancelled one's id no longer does", async () => {
  // No worker: the first task is published and held by the stream, the rest wait here.
  const server = await NatsServer.start();
  try {
    await using executor = new DistributedExecutor({
      servers: server.url,
      modules: [TASKS],
      maxPublished: 1,
    });
    const futures = Array.from({ length: 50 }, (_, i) => executor.submit(add, i, 1));
    for (const future of futures) assert.equal(executor.futureOf(executor.taskId(future)!), future);
    const last = futures.at(-1)!;
    const id = executor.taskId(last)!;
    assert(last.cancel());
    assert.notEqual(executor.futureOf(id), last);
    await executor.shutdown({ cancelFutures: true });
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedExecutor.futureOf() and forget() after shutdown refuse with InvalidStateError, and the outcome stays stored", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    const executor = cluster.executor({ clientId: "closed" });
    const future = executor.submit(add, 3, 4);
    assert.equal(await future, 7);
    const id = executor.taskId(future)!;
    await executor.shutdown();
    // A future nothing would settle, and a removal that would remove nothing, are refused.
    assert.throws(() => executor.futureOf(id), InvalidStateError);
    await assert.rejects(executor.forget(id), InvalidStateError);
    await using again = cluster.executor({ clientId: "closed" });
    assert.equal(await again.futureOf(id), 7);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.futureOf() reads a large outcome again after it was read", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using executor = cluster.executor({ clientId: "large" });
    // Over 256 KiB: the outcome points to a payload in the object store.
    const input = new Uint8Array(300_000).fill(7);
    const future = executor.submit(echoBig, input, 1);
    const first = await future;
    const id = executor.taskId(future)!;
    await using later = cluster.executor({ clientId: "large" });
    assert.deepEqual(await later.futureOf(id), first);
  } finally {
    await cluster.close();
  }
});

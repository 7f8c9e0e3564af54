import assert from "node:assert/strict";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Cluster, TASKS } from "./_cluster.ts";
import { QueueFullError } from "../../mod.ts";
import { NatsServer } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { add } from "../fixtures/distributed_tasks.ts";

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** The cluster's server, started again on its port with its store if it was stopped. */
async function restarted(cluster: Cluster): Promise<void> {
  const { dir, port, exited } = cluster.server;
  if (exited) cluster.server = await NatsServer.start({ dir, port });
}

/** What `promise` came to within `ms`: "settled", or "waiting" when it had not settled by then. */
async function stateAfter(promise: Promise<unknown>, ms: number): Promise<"settled" | "waiting"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waiting = new Promise<"waiting">((resolve) => timer = setTimeout(resolve, ms, "waiting"));
  try {
    const settled = promise.then(() => "settled" as const, () => "settled" as const);
    return await Promise.race([settled, waiting]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("DistributedExecutor.submit() holds tasks while the server is down and publishes them when it is back", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  try {
    await using executor = cluster.executor({ maxQueued: 30 });
    assert.equal(await executor.submit(add, 1, 1), 2);
    assert.equal(executor.stats().connected, true);
    const { dir, port } = cluster.server;
    await cluster.server.stop("SIGKILL");
    await until(() => !executor.stats().connected);
    const futures = Array.from({ length: 30 }, (_, i) => executor.submit(add, i, 100));
    assert.throws(() => executor.submit(add, 0, 0), QueueFullError);
    const stats = executor.stats();
    assert.equal(stats.buffered, 30);
    assert.equal(stats.queued, 30);
    assert(futures.every((future) => !future.done()));
    cluster.server = await NatsServer.start({ dir, port });
    const values = await Promise.all(futures);
    assert.deepEqual(values, Array.from({ length: 30 }, (_, i) => i + 100));
    assert.equal(executor.stats().connected, true);
    assert.equal(executor.stats().buffered, 0);
    assert.equal(executor.stats().completed, 31);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() rejects arguments that cannot be sent at once while the server is down", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  const executor = cluster.executor({ maxQueued: 2 });
  try {
    await executor.whenStarted();
    await cluster.server.stop("SIGKILL");
    await until(() => !executor.stats().connected);
    const unsendable = [() => 1, Symbol("s"), new WeakMap()].map((arg) =>
      executor.submit(add, arg as unknown as number, 1)
    );
    for (const future of unsendable) {
      assert(future.done(), "rejected at once, not held until the connection is back");
      const error = await future.exception();
      assert(error instanceof DOMException && error.name === "DataCloneError", String(error));
    }
    // They took no room in maxQueued.
    assert.equal(executor.stats().buffered, 0);
    const held = [executor.submit(add, 1, 1), executor.submit(add, 2, 2)];
    assert.equal(executor.stats().failed, 3);
    await restarted(cluster);
    assert.deepEqual(await Promise.all(held), [2, 4]);
  } finally {
    await restarted(cluster);
    await executor.shutdown({ cancelFutures: true });
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.forget() while the server is down waits for it, then removes the outcome", async () => {
  const cluster = await Cluster.start({ workers: 1 });
  const executor = cluster.executor({ clientId: "outage" });
  try {
    const future = executor.submit(add, 20, 22);
    assert.equal(await future, 42);
    const id = executor.taskId(future)!;
    await cluster.server.stop("SIGKILL");
    await until(() => !executor.stats().connected);
    const forgotten = executor.forget(id);
    // Longer than forget() reads for an outcome still being stored (5 s): it used to resolve then,
    // having removed nothing.
    assert.equal(await stateAfter(forgotten, 6_000), "waiting");
    await restarted(cluster);
    await forgotten;
    const nc = await connect({ servers: cluster.url });
    try {
      const kv = await new Kvm(jetstream(nc)).open("futs_results");
      const entry = await kv.get(`outage.${id}`);
      assert(entry === null || entry.operation !== "PUT", "the outcome is gone");
    } finally {
      await nc.close();
    }
  } finally {
    await restarted(cluster);
    await executor.shutdown();
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.shutdown() returns against a server that does not answer", async () => {
  const server = await NatsServer.start();
  const executor = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
  let stopped = false;
  try {
    await executor.whenStarted();
    Deno.kill(server.pid, "SIGSTOP");
    stopped = true;
    // Its drain gets a few seconds, then the connection is closed.
    assert.equal(await stateAfter(executor.shutdown(), 20_000), "settled");
  } finally {
    if (stopped) Deno.kill(server.pid, "SIGCONT");
    await executor.shutdown();
    await server.destroy();
  }
});

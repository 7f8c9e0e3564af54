import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { NatsServer } from "../../distributed/_processes.ts";
import { DistributedExecutor, WorkerCrashedError } from "../../distributed/mod.ts";
import { add, echoBig, square } from "../fixtures/distributed_tasks.ts";
import { Cluster, TASKS } from "./_cluster.ts";
import { openResults } from "../../distributed/_stores.ts";
import { defaultLayout } from "../../distributed/_layout.ts";
import { WatchedWorker } from "./_secure.ts";

const CONFIG = new URL("../../distributed/examples/permissions.conf", import.meta.url);

function client(server: NatsServer, user: string): DistributedExecutor {
  return new DistributedExecutor({
    servers: server.url,
    user,
    pass: `${user}-secret`,
    clientId: user,
    connectOptions: { inboxPrefix: `_INBOX_${user}` },
    modules: [TASKS],
  });
}

Deno.test("DistributedExecutor under the example permissions: clients run tasks and read only their own results; workers cannot publish tasks", async () => {
  const server = await NatsServer.start({ config: await Deno.readTextFile(CONFIG) });
  try {
    await using worker = new WatchedWorker(
      ["--nats", server.url, "--modules", TASKS, "--concurrency", "1", "--user", "worker"],
      { FUTURES_NATS_PASSWORD: "worker-secret" },
    );
    assert(await worker.waitFor(/started/), worker.seen.join("\n"));

    await using alice = client(server, "alice");
    const aliceTask = alice.submit(add, 1, 2);
    assert.equal(await aliceTask, 3);
    const aliceKey = `alice.${alice.taskStats(aliceTask)!.ids[0]}`;
    const big = new Uint8Array(400 * 1024).fill(7);
    assert.equal((await alice.submit(echoBig, big, 1))[0], 8);
    await using bob = client(server, "bob");
    const bobTask = bob.submit(add, 2, 2);
    assert.equal(await bobTask, 4);
    const bobKey = `bob.${bob.taskStats(bobTask)!.ids[0]}`;

    // The executor's own reads of its keys (its reconcile step) pass: they go by direct get, the
    // only read whose subject names the key.
    const anc = await connect({
      servers: server.url,
      user: "alice",
      pass: "alice-secret",
      inboxPrefix: "_INBOX_alice",
    });
    try {
      const kv = await openResults(jetstream(anc, { timeout: 2_000 }), defaultLayout);
      assert.equal((await kv.get(aliceKey))?.operation, "PUT");
      // forget() removes the client's own outcome.
      await alice.forget(alice.taskStats(aliceTask)!.ids[0]!);
      assert.notEqual((await kv.get(aliceKey))?.operation, "PUT");
    } finally {
      await anc.close();
    }

    // Bob cannot read Alice's results, by key or by watching them, nor consume tasks.
    const nc = await connect({
      servers: server.url,
      user: "bob",
      pass: "bob-secret",
      inboxPrefix: "_INBOX_bob",
    });
    try {
      const js = jetstream(nc, { timeout: 2_000 });
      const kv = await new Kvm(js).open("futs_results", { allow_direct: true });
      assert.notEqual(await kv.get(bobKey), null);
      await assert.rejects(kv.get(aliceKey), /permission/i);
      // Nor remove them.
      await assert.rejects(kv.delete(aliceKey), /permission/i);
      await assert.rejects(
        (async () => {
          const watch = await kv.watch({ key: "alice.>" });
          for await (const _ of watch) break;
        })(),
        /permission/i,
      );
      // Its pull request is dropped by the server: the client gives up on it.
      const consumer = await js.consumers.get("FUTS_TASKS", "workers_default");
      await assert.rejects(consumer.next({ expires: 1_000 }));
    } finally {
      await nc.close();
    }

    // The worker's user cannot publish tasks.
    const wnc = await connect({ servers: server.url, user: "worker", pass: "worker-secret" });
    try {
      await assert.rejects(
        jetstream(wnc, { timeout: 2_000 }).publish("futs.task.default.worker", new Uint8Array(1)),
        /permission/i,
      );
    } finally {
      await wnc.close();
    }
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedExecutor clientId: a client that comes back with the same id gets its new tasks' outcomes, not the old ones", async () => {
  const cluster = await Cluster.start();
  try {
    {
      await using first = cluster.executor({ clientId: "reports" });
      assert.equal(await first.submit(add, 1, 2), 3);
    }
    await using again = cluster.executor({ clientId: "reports" });
    assert.equal(await again.submit(add, 5, 5), 10);
    const ids = again.taskStats(again.submit(add, 0, 1))?.ids;
    assert.match(ids![0]!, /^[0-9a-f]{12}-[\w-]+$/);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor does not take an outcome it could not read for none: a poison task's rejection says the read failed", async () => {
  // Alice without the direct gets of her results: every read of an outcome fails at once.
  const example = await Deno.readTextFile(CONFIG);
  const grant = `"$JS.API.DIRECT.GET.KV_futs_results.$KV.futs_results.alice.>"`;
  assert(example.includes(grant));
  const server = await NatsServer.start({ config: example.replace(grant, "") });
  try {
    const flags = [
      ...["--nats", server.url, "--modules", TASKS, "--concurrency", "1", "--user", "worker"],
      ...["--ack-wait", "300", "--max-deliveries", "1"],
    ];
    const env = { FUTURES_NATS_PASSWORD: "worker-secret" };
    // The first worker dies on the task; the next one's pull brings the server's notice.
    await using crashing = new WatchedWorker(flags, {
      ...env,
      FUTURES_WORKER_FAULT: "crash-after-receive:square",
    });
    assert(await crashing.waitFor(/started/), crashing.seen.join("\n"));
    await using alice = new DistributedExecutor({
      servers: server.url,
      user: "alice",
      pass: "alice-secret",
      clientId: "alice",
      connectOptions: { inboxPrefix: "_INBOX_alice" },
      modules: [TASKS],
      ackWait: 300,
      maxDeliveries: 1,
    });
    const poison = alice.submit(square, 3);
    await crashing.process.status;
    await using _healthy = new WatchedWorker(flags, env);
    const error = await poison.exception();
    assert(error instanceof WorkerCrashedError, String(error));
    assert.match(error.message, /delivery limit/);
    // Read five times before it gave up; a failed read taken for a missing outcome would have
    // rejected it at once, as if the worker had stored nothing.
    assert.match(error.message, /its stored outcome could not be read: .*Permissions Violation/);
  } finally {
    await server.destroy();
  }
});

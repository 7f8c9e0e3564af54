// What a peer allowed on the server can send that a worker or a client must not take: envelopes
// that name another client, ids that make no key, bodies that do not decode, malformed notices,
// and JetStream objects made by somebody else.
import assert from "node:assert/strict";
import { serialize } from "node:v8";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { NatsServer } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { decodeBody, encodeBody } from "../../distributed/_codec.ts";
import { connectNats } from "../../distributed/_transport.ts";
import { BLOBS, poisonAdvisory, resultSubject, startedSubject } from "../../distributed/_layout.ts";
import { add } from "../fixtures/distributed_tasks.ts";
import { Cluster, TASKS } from "./_cluster.ts";
import { WatchedWorker } from "./_secure.ts";

const CONFIG = new URL("../../distributed/examples/permissions.conf", import.meta.url);

/**
 * A task envelope of `client` for `add(1, 2)`, as a client of this library writes one (`encode`:
 * V8 serialization, for values JSON cannot carry).
 */
function envelope(
  client: string,
  id: string,
  more: Record<string, unknown> = {},
  encode: (body: object) => Uint8Array = encodeBody,
) {
  return encode({
    v: 2,
    id,
    client,
    fn: { module: TASKS, name: "add" },
    kind: "call",
    args: [1, 2],
    maxAttempts: 3,
    submittedAt: Date.now(),
    ...more,
  });
}

Deno.test("DistributedWorker under the example permissions: a client cannot publish as another, and a forged or malformed task is dropped without stalling the worker", async () => {
  const server = await NatsServer.start({ config: await Deno.readTextFile(CONFIG) });
  try {
    await using worker = new WatchedWorker(
      ["--nats", server.url, "--modules", TASKS, "--concurrency", "1", "--user", "worker"],
      { FUTURES_NATS_PASSWORD: "worker-secret" },
    );
    assert(await worker.waitFor(/started/), worker.seen.join("\n"));
    await using bob = new DistributedExecutor({
      servers: server.url,
      user: "bob",
      pass: "bob-secret",
      clientId: "bob",
      connectOptions: { inboxPrefix: "_INBOX_bob" },
      modules: [TASKS],
    });
    assert.equal(await bob.submit(add, 2, 2), 4);

    const anc = await connect({
      servers: server.url,
      user: "alice",
      pass: "alice-secret",
      inboxPrefix: "_INBOX_alice",
    });
    try {
      const js = jetstream(anc, { timeout: 2_000 });
      // Bob's subject is not hers.
      await assert.rejects(
        js.publish("futs.task.default.bob", envelope("bob", "x0")),
        /permission/i,
      );
      // On her own subject, an envelope naming bob: his outcome would be hers to write.
      await js.publish("futs.task.default.alice", envelope("bob", "x1"));
      assert(
        await worker.waitFor(/dropped a message on futs\.task\.default\.alice: .*client "bob"/),
        worker.seen.join("\n"),
      );
      // An id that makes no key: storing its outcome failed for ever, and the lane with it.
      await js.publish("futs.task.default.alice", envelope("alice", "stuck 0"));
      assert(await worker.waitFor(/task id "stuck 0"/), worker.seen.join("\n"));
      // Another client's payload as arguments.
      await js.publish(
        "futs.task.default.alice",
        envelope("alice", "x2", { argsBlob: "bob.1.args" }),
      );
      assert(await worker.waitFor(/payload of another task/), worker.seen.join("\n"));
      // A name that would write a line of its own in the worker's log is quoted.
      await js.publish(
        "futs.task.default.alice",
        envelope("alice", "x3", { argsBlob: "x\nfutures worker w9 started" }),
      );
      assert(
        await worker.waitFor(/payload of another task \("x\\nfutures worker w9 started"\)/),
        worker.seen.join("\n"),
      );
      await js.publish("futs.task.default.alice", new TextEncoder().encode("{not json"));
      assert(await worker.waitFor(/does not decode/), worker.seen.join("\n"));
      // A sparse list of 2^32 - 1 arguments in 174 bytes (V8 serialization keeps holes): spread
      // into the call, it ended the worker with an out-of-memory error, then the next worker
      // that got the message again.
      const sparse: unknown[] = [];
      sparse.length = 2 ** 32 - 1;
      const v8Envelope = (more: Record<string, unknown>) =>
        envelope("alice", String(more.id), more, serialize);
      await js.publish("futs.task.default.alice", v8Envelope({ id: "sparse1", args: sparse }));
      assert(
        await worker.waitFor(/arguments are a list of 4294967295 in \d+ bytes/),
        worker.seen.join("\n"),
      );
      await js.publish(
        "futs.task.default.alice",
        v8Envelope({ id: "sparse2", kind: "chunk", args: [sparse] }),
      );
      assert(await worker.waitFor(/chunk is a list of 4294967295/), worker.seen.join("\n"));
      // The same list in a payload of the object store (arguments too large for a message).
      const pushed = Promise.withResolvers<Uint8Array>();
      anc.subscribe(resultSubject("alice", "sparse3"), {
        callback: (_e, m) => pushed.resolve(m.data),
      });
      await anc.flush();
      const store = await new Objm(js).open(BLOBS);
      const stored = await store.putBlob({ name: "alice.sparse3.args" }, serialize(sparse));
      await js.publish(
        "futs.task.default.alice",
        v8Envelope({
          id: "sparse3",
          args: undefined,
          argsBlob: "alice.sparse3.args",
          argsSeal: { digest: stored.digest, size: stored.size },
        }),
      );
      // Its task fails, with an outcome that says why (the worker lives on).
      const outcome = decodeBody<{ ok: boolean; error: { message: string } }>(await pushed.promise);
      assert.equal(outcome.ok, false);
      assert.match(outcome.error.message, /arguments are a list of 4294967295 in \d+ bytes/);
      await js.publish("futs.task.default.alice", v8Envelope({ id: "kind1", kind: "eval" }));
      assert(await worker.waitFor(/kind "eval" is not call or chunk/), worker.seen.join("\n"));

      // The route to a forged delivery-limit notice: a consumer of her own results that delivers
      // to the notice's subject. Clients create no consumer any more.
      await assert.rejects(
        jetstreamManager(anc, { timeout: 2_000 }).then((jsm) =>
          jsm.consumers.add("KV_futs_results", {
            deliver_subject: poisonAdvisory("default"),
            filter_subject: "$KV.futs_results.alice.>",
            ack_policy: AckPolicy.None,
          })
        ),
        /permission/i,
      );
    } finally {
      await anc.close();
    }

    // Nothing was stored for bob, and the worker still serves him.
    assert.equal(await bob.submit(add, 20, 1), 21);
    const bnc = await connect({
      servers: server.url,
      user: "bob",
      pass: "bob-secret",
      inboxPrefix: "_INBOX_bob",
    });
    try {
      const kv = await new Kvm(jetstream(bnc, { timeout: 2_000 })).open("futs_results", {
        allow_direct: true,
      });
      assert.equal(await kv.get("bob.x1"), null);
    } finally {
      await bnc.close();
    }
    // The messages were ended, not left to be delivered again.
    const nc = await connect({ servers: server.url, user: "worker", pass: "worker-secret" });
    try {
      const info = await (await jetstreamManager(nc)).streams.info("FUTS_TASKS");
      assert.equal(info.state.messages, 0);
    } finally {
      await nc.close();
    }
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedExecutor keeps reading after malformed start notices and delivery-limit notices", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor({ clientId: "reader" });
    assert.equal(await executor.submit(add, 1, 1), 2);
    const nc = await connect({ servers: cluster.url });
    try {
      // A callback that threw stopped the connection's reader: every later message was lost.
      nc.publish(startedSubject("reader"), new TextEncoder().encode("not V8"));
      nc.publish(poisonAdvisory("default"), new TextEncoder().encode("{not json"));
      nc.publish(poisonAdvisory("default"), new TextEncoder().encode(`{"stream_seq":"1"}`));
      await nc.flush();
    } finally {
      await nc.close();
    }
    // Bounded only so that a dead reader fails here rather than hang the suite.
    assert.equal(await executor.submit(add, 1, 2).result({ timeout: 30_000 }), 3);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor and the worker refuse JetStream objects of another shape, naming what differs", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    // One more subject: tasks published there (by anyone allowed to) would be run.
    await jsm.streams.add({
      name: "FUTS_TASKS",
      subjects: ["futs.task.>", "futs.started.evil"],
      retention: RetentionPolicy.Workqueue,
    });
    await using first = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    await assert.rejects(first.whenStarted(), /'FUTS_TASKS' as its subjects are/);
    await jsm.streams.delete("FUTS_TASKS");

    // A consumer of another filter (an older version's), or a push one.
    await jsm.streams.add({
      name: "FUTS_TASKS",
      subjects: ["futs.task.>"],
      retention: RetentionPolicy.Workqueue,
    });
    await jsm.consumers.add("FUTS_TASKS", {
      durable_name: "workers_default",
      filter_subject: "futs.task.default",
      ack_policy: AckPolicy.Explicit,
    });
    await using second = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    await assert.rejects(
      second.whenStarted(),
      /'workers_default' as its filter subject is "futs.task.default", not "futs.task.default.\*"/,
    );
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("DistributedWorker does not hand its credentials from the environment to the tasks it runs", async () => {
  const server = await NatsServer.start({
    config: "authorization { user: worker, password: worker-secret }",
  });
  try {
    await using worker = new WatchedWorker(
      ["--nats", server.url, "--allow-source", "--concurrency", "1", "--isolation", "process"],
      { FUTURES_NATS_USER: "worker", FUTURES_NATS_PASSWORD: "worker-secret" },
    );
    assert(await worker.waitFor(/started/), worker.seen.join("\n"));
    await using executor = new DistributedExecutor({
      servers: server.url,
      user: "worker",
      pass: "worker-secret",
    });
    const seen = await executor.submit(() =>
      Object.keys(Deno.env.toObject()).filter((name) => name.startsWith("FUTURES_NATS_"))
    );
    assert.deepEqual(seen, []);
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedExecutor's embedded server asks for a token that only the executor and its workers have", async () => {
  await using executor = new DistributedExecutor({ maxWorkers: 1, modules: [TASKS] });
  assert.equal(await executor.submit(add, 1, 2), 3);
  // The server's address, from the ports file named on its command line.
  const server = executor.pids[0]!;
  const args = Deno.readTextFileSync(`/proc/${server}/cmdline`).split("\0");
  const portsDir = args[args.indexOf("--ports_file_dir") + 1]!;
  const { nats } = JSON.parse(
    Deno.readTextFileSync(`${portsDir}/nats-server_${server}.ports`),
  ) as { nats: string[] };
  // Another local user reached it without credentials, and ran tasks and read results. (Through
  // the library's own transport: the stock one lets the server's reset of a refused connection
  // out as an uncaught error, which a soak of the suite once met here.)
  await assert.rejects(connectNats({ servers: nats[0]! }), /authorization/i);
  // Not on any command line, which every local user can read.
  for (const pid of executor.pids) {
    const line = Deno.readTextFileSync(`/proc/${pid}/cmdline`);
    assert(!/--auth|--token|token=/.test(line), line);
  }
  // Credentials are for a server of one's own.
  assert.throws(
    () => new DistributedExecutor({ token: "t" }),
    /'token' applies to a server given in 'servers' only/,
  );
});

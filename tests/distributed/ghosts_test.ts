import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy } from "@nats-io/jetstream";
import { NatsServer } from "../../distributed/_processes.ts";
import { sweepGhosts } from "../../distributed/_ghosts.ts";
import { TimeoutError } from "../../distributed/mod.ts";
import { Cluster } from "./_cluster.ts";
import { add } from "../fixtures/distributed_tasks.ts";

Deno.test("sweepGhosts() removes the acknowledged messages still stored, and only those", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    const jsm = await jetstreamManager(nc);
    // A limits stream keeps acknowledged messages: each one is what a crash leaves in a work queue.
    await jsm.streams.add({
      name: "G",
      subjects: ["g.>"],
      retention: RetentionPolicy.Limits,
    });
    await jsm.consumers.add("G", {
      durable_name: "w",
      filter_subject: "g.a",
      ack_policy: AckPolicy.Explicit,
    });
    const js = jetstream(nc);
    for (let i = 0; i < 5; i++) {
      await js.publish("g.a", `a${i}`);
      await js.publish("g.b", `b${i}`);
    }
    const consumer = await js.consumers.get("G", "w");
    for (let i = 0; i < 3; i++) {
      const msg = await consumer.next({ expires: 5_000 });
      assert(msg);
      await msg.ackAck();
    }
    assert.equal(await sweepGhosts(jsm, "G", "w"), 3);
    const info = await jsm.streams.info("G");
    // The two unacknowledged g.a messages and every g.b message stay.
    assert.equal(info.state.messages, 7);
    assert.equal(await sweepGhosts(jsm, "G", "w"), 0);
    const next = await consumer.next({ expires: 5_000 });
    assert.equal(next?.string(), "a3");
    next?.ack();
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("DistributedExecutor.submit() rejects with TimeoutError a task no worker took within the stream's max_age (resultTtl)", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  try {
    await using executor = cluster.executor({ resultTtl: 1_500 });
    const error = await executor.submit(add, 1, 1).exception();
    assert(error instanceof TimeoutError, String(error));
    assert.match(error.message, /max_age \(1500 ms/);
    assert.equal(executor.stats().failed, 1);
    assert.equal(executor.stats().ghosts, 0);
  } finally {
    await cluster.close();
  }
});

// Acknowledged JetStream publishes through one shared inbox.

import assert from "node:assert/strict";
import { connect, headers } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { NatsServer } from "../../distributed/_processes.ts";
import { PubAcks, PublishRefused } from "../../distributed/_acks.ts";

Deno.test("PubAcks.publish() resolves with the stream's acknowledgement and rejects what the stream refuses", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  const acks = new PubAcks(nc);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "ACKS", subjects: ["acks.>"] });
    const data = new TextEncoder().encode("x");
    const acked = await Promise.all([
      acks.publish("acks.a", data),
      acks.publish("acks.b", data),
    ]);
    assert.deepEqual(acked.map(({ stream, seq }) => [stream, seq]), [["ACKS", 1], ["ACKS", 2]]);
    const createOnly = headers();
    createOnly.set("Nats-Expected-Last-Subject-Sequence", "0");
    await assert.rejects(acks.publish("acks.a", data, createOnly), PublishRefused);
    assert.equal((await acks.publish("acks.c", data, createOnly)).seq, 3);
    // No stream listens: the server answers that nobody responds.
    await assert.rejects(acks.publish("nostream", data), /no responders/);
  } finally {
    acks.close();
    await nc.close();
    await server.destroy();
  }
});

Deno.test("PubAcks.close() rejects the publishes still unanswered", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  const acks = new PubAcks(nc);
  try {
    // A plain subscriber on the subject takes the message and never answers.
    nc.subscribe("silent");
    await nc.flush();
    const unanswered = acks.publish("silent", new Uint8Array(1));
    acks.close();
    await assert.rejects(unanswered, /closed/);
    await assert.rejects(acks.publish("silent", new Uint8Array(1)), /closed/);
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("PubAcks.publish() rejects an unanswered publish after the wait given to it, while answered ones before it did not stop the sweep", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  // A constructor's timeout far past the test: only the wait given to publish() can end it.
  const acks = new PubAcks(nc, 600_000);
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "WAITS", subjects: ["waits.>"] });
    nc.subscribe("silent");
    await nc.flush();
    const data = new Uint8Array(1);
    // Answered publishes empty the pending list before the silent one is sent.
    for (let i = 0; i < 3; i++) await acks.publish(`waits.${i}`, data);
    await assert.rejects(
      acks.publish("silent", data, undefined, 200),
      /JetStream did not acknowledge a publish in 200 ms/,
    );
  } finally {
    acks.close();
    await nc.close();
    await server.destroy();
  }
});

// One socket write per turn of the event loop for a connection set up by coalesceWrites().

import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NatsServer } from "../../distributed/_processes.ts";
import { coalesceWrites, writeNow } from "../../distributed/_coalesce.ts";

/** Counts the frames the connection hands to its socket; `sent` gets their text. */
function countWrites(nc: NatsConnection, sent: string[] = []): () => number {
  const protocol = (nc as unknown as { protocol: { transport: { send(frame: Uint8Array): void } } })
    .protocol;
  const transport = protocol.transport;
  const send = transport.send.bind(transport);
  let writes = 0;
  transport.send = (frame) => {
    writes++;
    sent.push(new TextDecoder().decode(frame));
    send(frame);
  };
  return () => writes;
}

Deno.test("coalesceWrites() sends what several microtasks of one turn publish in one write", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    coalesceWrites(nc);
    const writes = countWrites(nc);
    const sub = nc.subscribe("t.>");
    for (let i = 0; i < 5; i++) {
      nc.publish(`t.${i}`, String(i));
      await Promise.resolve();
    }
    // The PING of flush() joins the same buffer; its PONG comes after the five messages.
    await nc.flush();
    assert.equal(writes(), 1);
    const got: string[] = [];
    for await (const msg of sub) {
      got.push(msg.string());
      if (got.length === 5) break;
    }
    assert.deepEqual(got, ["0", "1", "2", "3", "4"]);
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("coalesceWrites() writes what is buffered when the connection closes in the same turn", async () => {
  const server = await NatsServer.start();
  const sender = await connect({ servers: server.url });
  const receiver = await connect({ servers: server.url });
  try {
    const sub = receiver.subscribe("last", { max: 1 });
    await receiver.flush();
    coalesceWrites(sender);
    const sent: string[] = [];
    countWrites(sender, sent);
    sender.publish("last", "bye");
    await sender.close();
    assert.match(sent.join(""), /PUB last 3\r\nbye/);
    for await (const msg of sub) assert.equal(msg.string(), "bye");
  } finally {
    await receiver.close();
    await server.destroy();
  }
});

Deno.test("writeNow() writes what is buffered at once, apart from what follows in the same turn", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    coalesceWrites(nc);
    const sent: string[] = [];
    const writes = countWrites(nc, sent);
    nc.publish("first", "1");
    writeNow(nc);
    assert.equal(writes(), 1);
    nc.publish("second", "2");
    await nc.flush();
    assert.equal(writes(), 2);
    assert.match(sent[0]!, /^PUB first 1\r\n1\r\n$/);
    assert.match(sent[1]!, /^PUB second 1\r\n2\r\n/);
  } finally {
    await nc.close();
    await server.destroy();
  }
});

// How a worker stores an outcome: once per task, whichever run stores first, and never again once
// the client's forget() deleted it.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { NatsServer } from "../../distributed/_processes.ts";
import { openResults } from "../../distributed/_stores.ts";
import { defaultLayout } from "../../distributed/_layout.ts";
import { PubAcks } from "../../distributed/_acks.ts";
import { LostRequests } from "../../distributed/_lost_requests.ts";
import { storeOnce } from "../../distributed/_worker_runtime.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);

Deno.test("storeOnce() stores the first run's outcome, gives a duplicate run that outcome, and does not bring back one that forget() deleted", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  const acks = new PubAcks(nc);
  try {
    const js = jetstream(nc);
    const kv = await openResults(js, { ...defaultLayout, storage: "memory" });
    const store = { kv, js, acks, dropped: new LostRequests(nc, []) };
    assert.equal(text(await storeOnce(store, "c.1", bytes("first"), 1_000)), "first");
    // A duplicate run stores nothing and gets the outcome stored first.
    assert.equal(text(await storeOnce(store, "c.1", bytes("second"), 1_000)), "first");
    assert.equal(text((await kv.get("c.1"))!.value), "first");
    // forget() deletes it; a run delivered again later leaves it deleted.
    await kv.delete("c.1");
    assert.equal(text(await storeOnce(store, "c.1", bytes("third"), 1_000)), "third");
    assert.equal((await kv.get("c.1"))?.operation, "DEL");
  } finally {
    acks.close();
    await nc.close();
    await server.destroy();
  }
});

// How a worker stores an outcome: once per task, whichever run stores first, and never again once
// the client's forget() deleted it.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
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

/** `js` whose publishes fail for a passing reason while `failing()` says so (no bucket leader). */
function failingPublishes(js: JetStreamClient, failing: () => boolean): JetStreamClient {
  return new Proxy(js, {
    get(target, key) {
      const value = Reflect.get(target, key, target);
      if (key !== "publish") return typeof value === "function" ? value.bind(target) : value;
      return (...args: Parameters<JetStreamClient["publish"]>) =>
        failing() ? Promise.reject(new Error("no leader")) : target.publish(...args);
    },
  });
}

Deno.test("storeOnce() keeps trying a store that fails for a passing reason while the worker runs, and gives up once it stops or for good at a refusal", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    const js = jetstream(nc);
    const kv = await openResults(js, { ...defaultLayout, storage: "memory" });
    const dropped = new LostRequests(nc, []);
    // The first try goes through the shared inbox: here it is never answered.
    const acks = { publish: () => Promise.reject(new Error("no answer")) } as unknown as PubAcks;
    // Failing for longer than the 5 s that a store was once given: it is stored all the same.
    const until = Date.now() + 6_000;
    let tries = 0;
    const outage = failingPublishes(js, () => (tries++, Date.now() < until));
    const store = { kv, js: outage, acks, dropped, stopping: () => false };
    assert.equal(text(await storeOnce(store, "c.1", bytes("late"), 1_000)), "late");
    assert.equal(text((await kv.get("c.1"))!.value), "late");
    assert(tries > 2, `${tries} tries`);
    // A worker that is stopping gives up after its ack wait (5 s at least).
    const down = failingPublishes(js, () => true);
    await assert.rejects(
      storeOnce({ kv, js: down, acks, dropped, stopping: () => true }, "c.2", bytes("x"), 100),
      /no leader/,
    );
    // A refused permission is final.
    const refused = new Proxy(js, {
      get: (target, key) =>
        key === "publish"
          ? () => Promise.reject(new Error("Permissions Violation for Publish"))
          : Reflect.get(target, key, target),
    });
    await assert.rejects(
      storeOnce({ kv, js: refused, acks, dropped, stopping: () => false }, "c.3", bytes("x"), 100),
      /Permissions Violation/,
    );
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("storeOnce() gives up at once on an outcome over the server's max_payload, which no try can store", async () => {
  const server = await NatsServer.start({ config: "max_payload: 65536" });
  const nc = await connect({ servers: server.url });
  const acks = new PubAcks(nc);
  // A store that keeps trying (the regression) gives up once the test has its answer.
  let stopping = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const js = jetstream(nc);
    const kv = await openResults(js, { ...defaultLayout, storage: "memory" });
    const store = { kv, js, acks, dropped: new LostRequests(nc, []), stopping: () => stopping };
    // It was tried again for as long as the worker ran: the task's client waited for ever.
    const stored = storeOnce(store, "c.1", new Uint8Array(100_000), 1_000);
    const still = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("still trying"), 3_000);
    });
    const outcome = await Promise.race([stored.then(() => "stored", (error) => error), still]);
    stopping = true;
    await stored.catch(() => {});
    assert.match(String(outcome), /max_payload/);
    assert.equal(await kv.get("c.1"), null);
  } finally {
    clearTimeout(timer);
    acks.close();
    await nc.close();
    await server.destroy();
  }
});

// Requests whose answer cannot come fail at once, so that they are tried again, instead of
// waiting for their timeout: at a disconnect and at a leader election the server announces.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { NatsServer } from "../../distributed/_processes.ts";
import {
  LostRequests,
  RequestLostError,
  streamLeaderElected,
} from "../../distributed/_lost_requests.ts";
import { CuttableProxy } from "./_proxy.ts";

/** A subscriber on `subject` that never answers, and a promise of its first request. */
function silent(nc: Awaited<ReturnType<typeof connect>>, subject: string): Promise<void> {
  const heard = Promise.withResolvers<void>();
  nc.subscribe(subject, { callback: () => heard.resolve() });
  return heard.promise;
}

Deno.test("LostRequests.race() rejects a request in flight when its connection drops", async () => {
  const server = await NatsServer.start();
  const direct = await connect({ servers: server.url });
  try {
    await using proxy = new CuttableProxy(server.port);
    const nc = await connect({ servers: proxy.url, reconnectTimeWait: 50 });
    try {
      const lost = new LostRequests(nc, []);
      const heard = silent(direct, "nobody.answers");
      await direct.flush();
      // Its own timeout would end it a minute later.
      const request = lost.race(nc.request("nobody.answers", "?", { timeout: 60_000 }));
      await heard;
      proxy.cut();
      await assert.rejects(request, RequestLostError);
    } finally {
      await nc.close();
    }
  } finally {
    await direct.close();
    await server.destroy();
  }
});

Deno.test("LostRequests.race() rejects a request in flight when a new leader is announced, and onNext() is called", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    const election = streamLeaderElected("FUTS_TASKS");
    const lost = new LostRequests(nc, [election]);
    const heard = silent(nc, "nobody.answers");
    let called = 0;
    lost.onNext(() => called++);
    const off = lost.onNext(() => called += 10);
    off();
    await nc.flush();
    const request = lost.race(nc.request("nobody.answers", "?", { timeout: 60_000 }));
    await heard;
    nc.publish(election, "{}");
    await assert.rejects(request, RequestLostError);
    assert.equal(called, 1);
    // A request that is answered settles as usual.
    nc.subscribe("answers", { callback: (_error, msg) => void msg.respond("!") });
    assert.equal((await lost.race(nc.request("answers", "?"), 60_000)).string(), "!");
  } finally {
    await nc.close();
    await server.destroy();
  }
});

Deno.test("LostRequests counts disconnects, says whether the connection is up, and whenUp() waits for it and rejects once it is closed", async () => {
  const server = await NatsServer.start();
  try {
    await using proxy = new CuttableProxy(server.port);
    const nc = await connect({ servers: proxy.url, reconnectTimeWait: 50 });
    const lost = new LostRequests(nc, []);
    const statuses = nc.status()[Symbol.asyncIterator]();
    const next = async (type: string) => {
      for (;;) if ((await statuses.next()).value?.type === type) return;
    };
    try {
      assert.equal(lost.up, true);
      assert.equal(lost.drops, 0);
      await lost.whenUp();
      proxy.cut();
      await next("disconnect");
      assert.equal(lost.up, false);
      assert.equal(lost.drops, 1);
      let back = false;
      const waiting = lost.whenUp().then(() => back = true);
      // Still down: nothing can have resolved it (the proxy refuses every connection).
      await Promise.resolve();
      assert.equal(back, false);
      proxy.restore();
      await waiting;
      assert.equal(lost.up, true);
      assert.equal(lost.drops, 1);
      proxy.cut();
      await next("disconnect");
      const closing = lost.whenUp();
      await nc.close();
      await assert.rejects(closing, /the connection is closed/);
      await assert.rejects(lost.whenUp(), /the connection is closed/);
      assert.equal(lost.drops, 2);
    } finally {
      await nc.close();
    }
  } finally {
    await server.destroy();
  }
});

Deno.test("LostRequests.race() keeps nothing of a request that settled", async () => {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    const lost = new LostRequests(nc, []);
    // Each race left a reaction on the promise of the next loss, kept until a disconnect: 300–400
    // bytes a task on a healthy connection, for a client and a worker alike.
    const answered = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) => lost.race(Promise.resolve(i), 1_000)),
    );
    assert.equal(answered.length, 1_000);
    await assert.rejects(lost.race(Promise.reject(new Error("refused"))), /refused/);
    assert.equal(lost.racing, 0);
    // One in flight is held until it settles, and lost with the connection.
    const pending = assert.rejects(lost.race(new Promise<never>(() => {})), RequestLostError);
    assert.equal(lost.racing, 1);
    await server.stop("SIGKILL");
    await pending;
    assert.equal(lost.racing, 0);
  } finally {
    await nc.close();
    await server.destroy();
  }
});

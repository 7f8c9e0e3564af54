// Pulls on one inbox: credit taken by messages, given back by the server's status at the end of
// a pull, written off by renew(); the subscriptions it makes.

import assert from "node:assert/strict";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { NatsServer } from "../../distributed/_processes.ts";
import {
  deliveriesOf,
  type Delivery,
  Puller,
  type PullerEvents,
} from "../../distributed/_puller.ts";

Deno.test("deliveriesOf() reads the delivery count of both ack subject forms and refuses others", () => {
  assert.equal(deliveriesOf("$JS.ACK.TASKS.workers.3.10.7.1765000000000000000.0"), 3);
  assert.equal(
    deliveriesOf("$JS.ACK.hub.ACCOUNTHASH.TASKS.workers.2.10.7.1765000000000000000.0.abc"),
    2,
  );
  assert.throws(() => deliveriesOf("_INBOX.abc"), /not a JetStream ack subject: '_INBOX.abc'/);
});

/** Events as a list the test reads, and a way to wait for the next one. */
class Recorded implements PullerEvents {
  readonly seen: string[] = [];
  readonly deliveries: Delivery[] = [];
  #waiting: (() => void) | undefined;
  message(delivery: Delivery, credited: boolean): void {
    this.deliveries.push(delivery);
    this.#note(`message ${new TextDecoder().decode(delivery.data)} credited=${credited}`);
  }
  returned(count: number): void {
    this.#note(`returned ${count}`);
  }
  failed(description: string): void {
    this.#note(`failed ${description}`);
  }
  #note(event: string): void {
    this.seen.push(event);
    this.#waiting?.();
  }
  async until(count: number): Promise<void> {
    while (this.seen.length < count) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#waiting = resolve;
      await promise;
    }
  }
}

/** The subjects `nc` subscribes to from now on. */
function subscribedTo(nc: NatsConnection): string[] {
  const subjects: string[] = [];
  const subscribe = nc.subscribe.bind(nc);
  nc.subscribe = (subject, ...rest) => {
    subjects.push(subject);
    return subscribe(subject, ...rest);
  };
  return subjects;
}

/** What a puller test works with. */
interface Setup {
  nc: NatsConnection;
  publish(data: string): Promise<void>;
  puller: Puller;
  events: Recorded;
  /** The subjects the connection subscribed to since the puller was made. */
  subscriptions: string[];
}

/**
 * Runs `test` with a puller of `consumer` (pulls expire after `expires` ms) on a stream with the
 * durable consumer "c", on a server of its own; closes them all after.
 */
async function withPuller(
  consumer: string,
  expires: number,
  test: (setup: Setup) => Promise<void>,
): Promise<void> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  let puller: Puller | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "PULLS", subjects: ["pulls.>"] });
    await jsm.consumers.add("PULLS", { durable_name: "c", ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    const events = new Recorded();
    const subscriptions = subscribedTo(nc);
    puller = new Puller(nc, "PULLS", consumer, events, expires);
    await test({
      nc,
      publish: async (data) => void await js.publish("pulls.t", data),
      puller,
      events,
      subscriptions,
    });
  } finally {
    puller?.close();
    await nc.close();
    await server.destroy();
  }
}

Deno.test("Puller: a message takes one credit, and a pull that ends gives back what it did not bring", async () => {
  await withPuller("c", 200, async ({ publish, puller, events }) => {
    await publish("a");
    puller.pull(3);
    assert.equal(puller.credit, 3);
    // One message, then the pull expires with two it did not bring.
    await events.until(2);
    assert.deepEqual(events.seen, ["message a credited=true", "returned 2"]);
    assert.equal(puller.credit, 0);
    assert.equal(events.deliveries[0]!.deliveries, 1);
    // Not acknowledged: delivered again on the next pull, counted.
    events.deliveries[0]!.nak();
    puller.pull(1);
    await events.until(3);
    assert.equal(events.seen[2], "message a credited=true");
    assert.equal(events.deliveries[1]!.deliveries, 2);
    events.deliveries[1]!.ack();
    await puller.settled();
    assert.equal(puller.credit, 0);
  });
});

Deno.test("Puller.renew() writes off the pulls under way; the server skips them, as nobody listens on their inbox", async () => {
  await withPuller("c", 60_000, async ({ nc, publish, puller, events }) => {
    puller.pull(1);
    await nc.flush();
    assert.equal(puller.renew(), 1);
    assert.equal(puller.credit, 0);
    // The written-off pull waits at the server for a minute, first in line; its inbox has no
    // subscription any more, so the message goes to the pull on the new inbox.
    puller.pull(1);
    await publish("a");
    await events.until(1);
    assert.deepEqual(events.seen, ["message a credited=true"]);
    events.deliveries[0]!.ack();
    await nc.flush();
    const info = await (await jetstreamManager(nc)).consumers.info("PULLS", "c");
    assert.equal(info.num_ack_pending, 0);
  });
});

Deno.test("Puller makes one subscription for all its pulls", async () => {
  await withPuller("c", 200, async ({ publish, puller, events, subscriptions }) => {
    for (let i = 0; i < 5; i++) {
      await publish(`m${i}`);
      puller.pull(1);
      await events.until(i + 1);
      events.deliveries[i]!.ack();
    }
    assert.equal(subscriptions.length, 1);
  });
});

Deno.test("Puller reports a pull that nothing answers (here: a consumer that does not exist)", async () => {
  await withPuller("nobody", 200, async ({ puller, events }) => {
    puller.pull(2);
    await events.until(1);
    assert.match(events.seen[0]!, /^failed /);
    assert.equal(events.deliveries.length, 0);
    // The owner writes the pull off and asks again on a new inbox.
    assert.equal(puller.renew(), 2);
  });
});

Deno.test("Puller ignores a message on its inbox that is not a delivery of the stream", async () => {
  await withPuller("c", 60_000, async ({ nc, publish, puller, events, subscriptions: inboxes }) => {
    puller.pull(1);
    // Something else arrives on the inbox with a reply subject: neither a task nor a status.
    nc.publish(inboxes[0]!, "stray", { reply: "somewhere.else" });
    await publish("a");
    await events.until(1);
    assert.deepEqual(events.seen, ["message a credited=true"]);
    events.deliveries[0]!.ack();
  });
});

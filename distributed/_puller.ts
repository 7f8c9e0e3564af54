// Pulls task messages on one inbox. The NATS client's `fetch()` makes a subscription for each
// pull and drops it at the end (a SUB and an UNSUB per pull, with their timers); a worker that
// pulls as lanes free up pulls about once per task, and that churn was the largest difference
// between its round trip and a bare JetStream consumer's. Here every pull request of one
// generation is answered on the same inbox, and the worker counts what it asked for (its
// credit): a delivered message takes one, and the server's status at the end of a pull (request
// timeout, leadership change) gives back what that pull did not bring. When pulls may have been
// lost (a disconnect, an election), `renew()` drops the inbox and writes off its credit: the
// server skips a pull whose inbox nobody listens on, and a message it had sent there already is
// delivered again after the ack wait, as with a stopped fetch. A pull that nothing answers
// within its expiry is reported, so that its lanes are asked for again.

import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";

const ACK = new TextEncoder().encode("+ACK");
const NAK = new TextEncoder().encode("-NAK");
const WORKING = new TextEncoder().encode("+WPI");
const TERM = new TextEncoder().encode("+TERM");

/** A task message as the worker reads and answers it. */
export class Delivery {
  readonly #nc: NatsConnection;
  readonly #msg: Msg;
  #answered = false;
  /** Times the server has delivered it, this time included. */
  readonly deliveries: number;

  constructor(nc: NatsConnection, msg: Msg) {
    this.#nc = nc;
    this.#msg = msg;
    this.deliveries = deliveriesOf(msg.reply!);
  }

  /** Its payload. */
  get data(): Uint8Array {
    return this.#msg.data;
  }

  /** The subject it was published on. */
  get subject(): string {
    return this.#msg.subject;
  }

  /** Its headers, if it has any. */
  get headers(): MsgHdrs | undefined {
    return this.#msg.headers;
  }

  /** Done with it: the server removes it. */
  ack(): void {
    this.#answer(ACK, true);
  }

  /** Not taken: the server delivers it again. */
  nak(): void {
    this.#answer(NAK, true);
  }

  /** Never to be delivered again (a message that is no task of ours). */
  term(): void {
    this.#answer(TERM, true);
  }

  /** Still running: its ack wait starts again. */
  working(): void {
    this.#answer(WORKING, false);
  }

  #answer(what: Uint8Array, final: boolean): void {
    if (this.#answered) return;
    if (final) this.#answered = true;
    this.#nc.publish(this.#msg.reply!, what);
  }
}

/**
 * The delivery count in a message's ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.…`
 * (9 tokens), or with a domain and an account hash after `ACK` (11 or 12 tokens).
 */
export function deliveriesOf(reply: string): number {
  const tokens = reply.split(".");
  if (tokens[0] !== "$JS" || tokens[1] !== "ACK" || tokens.length < 9) {
    throw new TypeError(`not a JetStream ack subject: '${reply}'`);
  }
  return Number(tokens[tokens.length === 9 ? 4 : 6]);
}

/** What the puller tells its owner. */
export interface PullerEvents {
  /**
   * A message arrived; `credited` says whether it was asked for (it took one credit), or came
   * beyond what was asked (a pull written off that brought it after all).
   */
  message(delivery: Delivery, credited: boolean): void;
  /** Pulls ended with `count` messages they did not bring: that many lanes are free again. */
  returned(count: number): void;
  /** A status without a count (the consumer is gone, no JetStream): pull again later. */
  failed(description: string): void;
}

/** Pull requests of one consumer, answered on one inbox at a time. */
export class Puller {
  readonly #nc: NatsConnection;
  readonly #subject: string;
  readonly #events: PullerEvents;
  readonly #expires: number;
  #inbox = "";
  #sub: Subscription | undefined;
  /** Messages asked for on the current inbox and not brought or given back yet. */
  #credit = 0;
  /** Called when the credit may have reached zero (see `settled()`). */
  #onSettle: (() => void) | undefined;
  /** When a pull was last sent or the server last answered on the current inbox. */
  #lastHeard = 0;
  readonly #watchdog: ReturnType<typeof setInterval>;

  /**
   * @param nc the connection
   * @param stream the stream's name
   * @param consumer the durable consumer's name
   * @param events where messages and returned credit go
   * @param expires milliseconds a pull waits for messages
   */
  constructor(
    nc: NatsConnection,
    stream: string,
    consumer: string,
    events: PullerEvents,
    expires = 1_000,
  ) {
    this.#nc = nc;
    this.#subject = `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`;
    this.#events = events;
    this.#expires = expires;
    this.#subscribe();
    // Every pull is answered within its expiry, with messages or a status; a pull lost without a
    // disconnect or an election to tell of it (sent while the server was restarting, before
    // JetStream took requests again) would hold its lanes forever.
    const patience = expires + 500;
    this.#watchdog = setInterval(() => {
      if (this.#credit > 0 && performance.now() - this.#lastHeard > patience) {
        this.#lastHeard = performance.now();
        this.#events.failed(`no answer to a pull within ${patience} ms`);
      }
    }, patience / 4);
  }

  /** Messages asked for and not brought yet. */
  get credit(): number {
    return this.#credit;
  }

  /** Asks for `count` more messages. */
  pull(count: number): void {
    this.#credit += count;
    this.#lastHeard = performance.now();
    this.#nc.publish(
      this.#subject,
      JSON.stringify({ batch: count, expires: this.#expires * 1e6 }),
      { reply: this.#inbox },
    );
  }

  /**
   * Writes off the pulls under way (they may have been lost): a new inbox takes later pulls.
   *
   * @returns the credit written off
   */
  renew(): number {
    const lost = this.#credit;
    this.#credit = 0;
    this.#sub?.unsubscribe();
    this.#subscribe();
    this.#onSettle?.();
    return lost;
  }

  /**
   * Resolves once the pulls under way have brought or given back all they asked for, or after
   * they expired (and a little more for the server's status to arrive), whichever comes first.
   */
  async settled(): Promise<void> {
    const until = Date.now() + this.#expires + 500;
    while (this.#credit > 0 && Date.now() < until) {
      const { promise, resolve } = Promise.withResolvers<void>();
      this.#onSettle = resolve;
      const timer = setTimeout(resolve, until - Date.now());
      await promise;
      clearTimeout(timer);
    }
    this.#onSettle = undefined;
  }

  /** Stops listening. */
  close(): void {
    clearInterval(this.#watchdog);
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }

  #subscribe(): void {
    // The connection's own inbox prefix (a user whose permissions allow only their own inboxes).
    const options = (this.#nc as { options?: { inboxPrefix?: string } }).options;
    const inbox = this.#inbox = createInbox(options?.inboxPrefix);
    this.#sub = this.#nc.subscribe(inbox, {
      callback: (error, msg) => {
        // A message of an inbox given up already.
        if (inbox !== this.#inbox) return;
        this.#lastHeard = performance.now();
        if (error) return this.#events.failed(error.message);
        if (msg.reply) {
          let delivery: Delivery;
          try {
            delivery = new Delivery(this.#nc, msg);
          } catch {
            // Only the server answers on this inbox: a reply that is no ack subject is no task.
            return;
          }
          const credited = this.#credit > 0;
          if (credited) this.#credit--;
          this.#events.message(delivery, credited);
        } else this.#status(msg.headers);
        if (this.#credit === 0) this.#onSettle?.();
      },
    });
  }

  #status(headers: MsgHdrs | undefined): void {
    // 100: a heartbeat (not asked for here).
    if (!headers || headers.code === 100) return;
    const left = Number(headers.get("Nats-Pending-Messages"));
    if (left > 0) {
      const count = Math.min(left, this.#credit);
      this.#credit -= count;
      if (count > 0) this.#events.returned(count);
      return;
    }
    // A request timeout without a count gives nothing back to tell; were its credit held, the
    // watchdog reports it. Any other status ends pulls it does not count.
    if (headers.code === 408) return;
    this.#events.failed(`${headers.code} ${headers.description}`.trim());
  }
}

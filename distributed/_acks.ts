// JetStream publishes acknowledged through one shared inbox. The client library makes every
// acknowledged publish a request: a reply subscription entry, a timer and, once answered, an error
// object with a captured stack for the request it cancels. For a worker storing one outcome per
// tiny task those were a visible share of its CPU. Here each publish is a plain message whose reply
// subject is `<inbox>.<n>`, one subscription takes every answer, and one timer sweeps the
// unanswered ones. That timer runs until a sweep finds nothing pending: stopped each time the last
// answer came, it was started again by the next publish, a timer per task in a burst.

import { createInbox, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";

/** What JetStream answers to a publish it stored. */
export interface PubAck {
  stream: string;
  seq: number;
  duplicate?: boolean;
}

interface Pending {
  resolve(ack: PubAck): void;
  reject(error: Error): void;
  until: number;
  /** How long it waits for its answer, in ms. */
  wait: number;
}

/** The error JetStream answered a publish with (its API error code in `code`). */
export class PublishRefused extends Error {
  readonly code: number;
  constructor(description: string, code: number) {
    super(description);
    this.name = "PublishRefused";
    this.code = code;
  }
}

/**
 * Acknowledged publishes on one connection. Unanswered ones reject after `timeout` ms, or after the
 * wait given to `publish()` (a lost connection loses their answers).
 */
export class PubAcks {
  readonly #nc: NatsConnection;
  readonly #prefix: string;
  readonly #timeout: number;
  readonly #pending = new Map<string, Pending>();
  #next = 0;
  #sweep: ReturnType<typeof setInterval> | undefined;
  /** The sweep's period: a quarter of the shortest wait asked for, 50 ms at least. */
  #period = Infinity;
  #closed = false;

  constructor(nc: NatsConnection, timeout = 5_000) {
    this.#nc = nc;
    this.#timeout = timeout;
    const options = (nc as unknown as { options?: { inboxPrefix?: string } }).options;
    this.#prefix = `${createInbox(options?.inboxPrefix)}.`;
    nc.subscribe(`${this.#prefix}*`, {
      callback: (_error, msg) => {
        if (!msg) return;
        const token = msg.subject.slice(this.#prefix.length);
        const pending = this.#pending.get(token);
        if (!pending) return;
        this.#pending.delete(token);
        if (msg.data.length === 0 && msg.headers?.code === 503) {
          return pending.reject(new Error("JetStream is not available (no responders)"));
        }
        try {
          const answer = msg.json<PubAck & { error?: { description: string; err_code: number } }>();
          if (answer.error) {
            pending.reject(new PublishRefused(answer.error.description, answer.error.err_code));
          } else pending.resolve(answer);
        } catch (error) {
          pending.reject(error as Error);
        }
      },
    });
  }

  /**
   * Publishes `data` to `subject` and resolves with JetStream's acknowledgement; rejects when none
   * came within `wait` ms (the timeout given to the constructor by default).
   */
  publish(
    subject: string,
    data: Uint8Array,
    headers?: MsgHdrs,
    wait: number = this.#timeout,
  ): Promise<PubAck> {
    if (this.#closed) return Promise.reject(new Error("the connection is closed"));
    const token = String(this.#next++);
    return new Promise<PubAck>((resolve, reject) => {
      try {
        this.#nc.publish(subject, data, { reply: this.#prefix + token, headers });
      } catch (error) {
        return reject(error);
      }
      this.#pending.set(token, { resolve, reject, until: Date.now() + wait, wait });
      const period = Math.max(50, wait / 4);
      if (this.#sweep !== undefined && period >= this.#period) return;
      clearInterval(this.#sweep);
      this.#period = period;
      this.#sweep = setInterval(() => this.#expire(), period);
    });
  }

  /** Rejects what is unanswered and stops. */
  close(): void {
    this.#closed = true;
    for (const pending of this.#pending.values()) {
      pending.reject(new Error("the connection is closed"));
    }
    this.#pending.clear();
    this.#idle();
  }

  #expire(): void {
    const now = Date.now();
    for (const [token, pending] of this.#pending) {
      if (pending.until > now) continue;
      this.#pending.delete(token);
      pending.reject(new Error(`JetStream did not acknowledge a publish in ${pending.wait} ms`));
    }
    this.#idle();
  }

  #idle(): void {
    if (this.#pending.size > 0 || this.#sweep === undefined) return;
    clearInterval(this.#sweep);
    this.#sweep = undefined;
    this.#period = Infinity;
  }
}

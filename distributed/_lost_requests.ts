// Requests whose answer cannot come. When the connection drops, the answer of a request in flight
// is lost (the server that would route it back is gone, the reply subscription is made again on
// another), yet the NATS client waits for the request's own timeout before it gives up: 5 s for a
// JetStream call, 1 s of missed heartbeats for a pull. The same happens without a disconnect when
// the leader of a stream or consumer dies: what was sent to it is never answered. When a cluster
// node died, those waits came on top of the leader election. Raced against the next disconnect and
// the next election the server announces, such a request fails at once and is tried again (the
// client holds it until the reconnect); a caller that can try again safely also gives it a shorter
// wait of its own, for requests sent while there was no leader at all.

import type { NatsConnection } from "@nats-io/transport-node";

/** The error of a request whose answer cannot come: its connection dropped, or its wait ran out. */
export class RequestLostError extends Error {
  override name = "RequestLostError";
}

/** The subject on which the server announces a new leader of `stream`. */
export const streamLeaderElected = (stream: string): string =>
  `$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.${stream}`;

/** The subject on which the server announces a new leader of the consumer `name` of `stream`. */
export const consumerLeaderElected = (stream: string, name: string): string =>
  `$JS.EVENT.ADVISORY.CONSUMER.LEADER_ELECTED.${stream}.${name}`;

/**
 * Signals each disconnect of one connection, and each election on `elections`, to requests; and
 * tells whether the connection is up, for a caller that waits for it before it tries again.
 */
export class LostRequests {
  #next = LostRequests.#pending();
  /** The requests racing the next loss: each one's way to lose. */
  readonly #racing = new Set<(error: Error) => void>();
  #drops = 0;
  #up = true;
  #back = LostRequests.#waiting();

  /**
   * @param nc the connection
   * @param elections subjects of leader elections that lose what was in flight (a user without
   *   the permission to subscribe to them only waits longer after an election)
   */
  constructor(nc: NatsConnection, elections: string[]) {
    (async () => {
      for await (const status of nc.status()) {
        if (status.type === "disconnect") {
          this.#drops++;
          this.#up = false;
          this.#lose(`the connection to ${status.server} dropped`);
        } else if (status.type === "reconnect" && !this.#up) {
          this.#up = true;
          const back = this.#back;
          this.#back = LostRequests.#waiting();
          back.resolve();
        }
      }
    })().catch(() => {});
    nc.closed().then(() => {
      this.#up = false;
      this.#back.reject(new Error("the connection is closed"));
    });
    for (const subject of elections) {
      nc.subscribe(subject, {
        callback: (error) => {
          if (!error) this.#lose("a new leader was elected");
        },
      });
    }
  }

  /** Disconnects so far: a request that failed while this changed failed with its connection. */
  get drops(): number {
    return this.#drops;
  }

  /** Requests racing the next loss now (those that settled are not kept). */
  get racing(): number {
    return this.#racing.size;
  }

  /** Whether the connection is up now. */
  get up(): boolean {
    return this.#up;
  }

  /** Resolves when the connection is up (at once when it is); rejects once it is closed. */
  whenUp(): Promise<void> {
    return this.#up ? Promise.resolve() : this.#back.promise;
  }

  static #waiting(): PromiseWithResolvers<void> {
    const back = Promise.withResolvers<void>();
    back.promise.catch(() => {});
    return back;
  }

  static #pending(): PromiseWithResolvers<never> {
    const next = Promise.withResolvers<never>();
    next.promise.catch(() => {});
    return next;
  }

  #lose(why: string): void {
    const error = new RequestLostError(why);
    const racing = [...this.#racing];
    this.#racing.clear();
    for (const lose of racing) lose(error);
    const lost = this.#next;
    this.#next = LostRequests.#pending();
    lost.reject(error);
  }

  /**
   * Settles as `request` does, or rejects with RequestLostError at the next disconnect or
   * election or, if `wait` is given, once `wait` ms passed without an answer. Nothing of it is
   * kept once it settled (a race of `#next.promise` left a reaction on it per request, kept until
   * the next disconnect: 300–400 bytes a task on a healthy connection).
   */
  race<T>(request: Promise<T>, wait?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const settle = () => {
        this.#racing.delete(lose);
        if (timer !== undefined) clearTimeout(timer);
      };
      const lose = (error: Error) => {
        settle();
        reject(error);
      };
      this.#racing.add(lose);
      if (wait !== undefined) {
        timer = setTimeout(() => lose(new RequestLostError(`no answer within ${wait} ms`)), wait);
      }
      request.then((value) => {
        settle();
        resolve(value);
      }, (error) => {
        settle();
        reject(error);
      });
    });
  }

  /** Calls `fn` at the next disconnect or election, unless the returned function is called first. */
  onNext(fn: () => void): () => void {
    let off = false;
    this.#next.promise.catch(() => off || fn());
    return () => off = true;
  }
}

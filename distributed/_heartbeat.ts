// Heartbeats of distributed workers. Each worker publishes a small note on a core NATS subject of
// its queue every few seconds (not JetStream: a missed beat needs no redelivery). A client that
// watches its cluster (observe/ does) keeps the workers heard of lately: a worker that dies leaves
// the list once it has missed a few beats, an idle one stays. The watch also reads the queue's
// depth from JetStream, at most once per read of it, and keeps the last answer.

import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";
import { consumerName, STREAM } from "./_layout.ts";

/** The subject a queue's workers beat on. */
export const heartbeatSubject = (queue: string): string => `futs.hb.${queue}`;

/** How often a worker beats by default, in ms. */
export const HEARTBEAT_MS = 2_000;

/** What a worker publishes, as JSON. */
export interface Heartbeat {
  v: 1;
  name: string;
  /** Tasks it is running. */
  running: number;
  pid: number;
  /** Its host name, when it may read it. */
  host: string | undefined;
  /** Its interval in ms: it counts as gone after three missed beats. */
  every: number;
  /** Sent once as it stops: it leaves the list at once. */
  leaving?: true;
}

/** A worker as the watch last heard of it. */
export interface SeenWorker extends Heartbeat {
  /** When its last beat arrived (epoch ms). */
  seen: number;
}

/** Starts beating on `nc` every `every` ms; `stop()` sends the last beat (leaving). */
export function startHeartbeat(
  nc: NatsConnection,
  queue: string,
  name: string,
  every: number,
  running: () => number,
): { stop(): void } {
  let host: string | undefined;
  try {
    host = Deno.hostname();
  } catch {
    // Without --allow-sys=hostname the beat goes without it.
  }
  const subject = heartbeatSubject(queue);
  const beat = (leaving?: true) => {
    const note: Heartbeat = { v: 1, name, running: running(), pid: Deno.pid, host, every };
    if (leaving) note.leaving = leaving;
    try {
      nc.publish(subject, JSON.stringify(note));
    } catch {
      // Closed or disconnected: the next beat tries again.
    }
  };
  beat();
  const timer = setInterval(beat, every);
  return {
    stop() {
      clearInterval(timer);
      beat(true);
    },
  };
}

/** A client's view of its queue's workers and stream, from heartbeats and JetStream. */
export class ClusterWatch {
  /**
   * A worker not heard of for this long is gone, in ms; by default three of its own intervals.
   */
  expiry: number | undefined;
  /** Called when a worker joins or leaves, and when a new stream depth arrives. */
  onChange: (() => void) | undefined;
  readonly #queue: string;
  readonly #workers = new Map<string, SeenWorker>();
  #sub: Subscription | undefined;
  #jsm: JetStreamManager | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #depth: number | undefined;
  #fetching = false;
  #closed = false;

  constructor(connection: Promise<{ nc: NatsConnection; jsm: JetStreamManager }>, queue: string) {
    this.#queue = queue;
    connection.then(({ nc, jsm }) => {
      if (this.#closed) return;
      this.#jsm = jsm;
      this.#sub = nc.subscribe(heartbeatSubject(queue), {
        callback: (_error, msg) => {
          try {
            this.#heard(msg.json<Heartbeat>());
          } catch {
            // Not a heartbeat of ours.
          }
        },
      });
    }, () => {});
  }

  /** The workers heard of within their expiry, by name. */
  workers(): SeenWorker[] {
    this.#expire();
    return [...this.#workers.values()].sort((a, b) => a.name < b.name ? -1 : 1);
  }

  /**
   * Tasks in the queue's stream that no worker has taken, as last read from JetStream (undefined
   * before the first answer); starts one read unless one is under way.
   */
  streamDepth(): number | undefined {
    const jsm = this.#jsm;
    if (jsm && !this.#fetching && !this.#closed) {
      this.#fetching = true;
      jsm.consumers.info(STREAM, consumerName(this.#queue)).then((info) => {
        this.#depth = info.num_pending;
        this.onChange?.();
      }, () => {}).finally(() => this.#fetching = false);
    }
    return this.#depth;
  }

  close(): void {
    this.#closed = true;
    this.#sub?.unsubscribe();
    clearTimeout(this.#timer);
  }

  #heard(beat: Heartbeat): void {
    // Anyone who may publish on the subject can send one: a beat of another shape is dropped (an
    // interval that is not a number would make the expiry NaN, the worker would never leave and
    // the timer would fire every millisecond), and only the fields read are kept.
    if (!isHeartbeat(beat)) return;
    const known = this.#workers.has(beat.name);
    if (beat.leaving) this.#workers.delete(beat.name);
    else {
      this.#workers.set(beat.name, {
        v: 1,
        name: beat.name,
        running: beat.running,
        pid: beat.pid,
        host: beat.host,
        every: beat.every,
        seen: Date.now(),
      });
    }
    if (known !== !beat.leaving) this.onChange?.();
    this.#arm();
  }

  #expiryOf(worker: SeenWorker): number {
    return this.expiry ?? 3 * worker.every;
  }

  #expire(): void {
    const now = Date.now();
    let left = false;
    for (const [name, worker] of this.#workers) {
      if (now - worker.seen >= this.#expiryOf(worker)) {
        this.#workers.delete(name);
        left = true;
      }
    }
    if (left) this.onChange?.();
  }

  // One timer, for the earliest time a worker would expire: a dead worker leaves (and onChange
  // fires) without waiting for the next read.
  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#closed || this.#workers.size === 0) return;
    let next = Infinity;
    for (const worker of this.#workers.values()) {
      next = Math.min(next, worker.seen + this.#expiryOf(worker));
    }
    this.#timer = setTimeout(() => {
      this.#expire();
      this.#arm();
    }, Math.max(0, next - Date.now()));
    // The watch must not keep a program alive.
    Deno.unrefTimer(this.#timer);
  }
}

/** Longest worker or host name a beat may carry. */
const NAME_LIMIT = 256;

/** Whether `beat` is a heartbeat this version can use. */
function isHeartbeat(beat: unknown): beat is Heartbeat {
  const b = beat as Partial<Heartbeat> | null;
  const count = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
  return typeof b === "object" && b !== null && b.v === 1 &&
    typeof b.name === "string" && b.name !== "" && b.name.length <= NAME_LIMIT &&
    count(b.running) && count(b.pid) &&
    (b.host === undefined || (typeof b.host === "string" && b.host.length <= NAME_LIMIT)) &&
    typeof b.every === "number" && b.every > 0 && b.every < 2 ** 31 &&
    (b.leaving === undefined || b.leaving === true);
}

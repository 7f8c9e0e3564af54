// One socket write per turn of the event loop. The NATS client writes what it buffered at the
// first microtask checkpoint after a command, so a worker that receives a batch of tasks and
// publishes, stores, pushes and acknowledges in separate promise continuations writes many times
// per turn; each write is a system call, and they were the largest share of a worker's CPU for
// tiny tasks. Deferring the flush to the end of the turn (`setImmediate`, after the I/O callbacks
// and their microtasks) sends all of it in one write, and delays nothing past that turn.

import { setImmediate } from "node:timers";
import type { NatsConnection } from "@nats-io/transport-node";

/** The parts of the client's protocol handler this relies on (internal to the NATS client). */
interface Protocol {
  flushPending(): void;
  close(error?: Error): Promise<void>;
}

const immediate = new WeakMap<NatsConnection, () => void>();

/**
 * Writes what `nc` has buffered now, in its own write, instead of at the end of the turn: for a
 * message that should reach the server before what follows it in this turn is processed there.
 */
export function writeNow(nc: NatsConnection): void {
  immediate.get(nc)?.();
}

/**
 * Makes `nc` flush its outbound buffer once per turn of the event loop instead of once per
 * microtask checkpoint. Leaves `nc` as it is when its client does not have the expected shape.
 */
export function coalesceWrites(nc: NatsConnection): void {
  const protocol = (nc as unknown as { protocol?: Partial<Protocol> }).protocol;
  if (
    typeof protocol?.flushPending !== "function" || typeof protocol.close !== "function"
  ) return;
  const flushNow = protocol.flushPending.bind(protocol);
  const close = protocol.close.bind(protocol);
  immediate.set(nc, flushNow);
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    flushNow();
  };
  protocol.flushPending = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };
  // Closing writes what is buffered first.
  protocol.close = (error?: Error) => {
    flushNow();
    return close(error);
  };
}

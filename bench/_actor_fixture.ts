// The actor of the scaling benchmark: a trivial message, and one that holds the actor's thread
// so that the calls behind it stay queued in its mailbox.

import { holdUntilReleased, inc } from "./_worker_tasks.ts";

/** A stateless actor: `inc(x)` is the trivial message, `hold(gate)` blocks until released. */
export default class Incrementer {
  /** `x + 1`. */
  inc(x: number): number {
    return inc(x);
  }

  /** Blocks the actor's thread until the gate opens (see `holdUntilReleased`). */
  hold(gate: SharedArrayBuffer): void {
    holdUntilReleased(gate);
  }
}

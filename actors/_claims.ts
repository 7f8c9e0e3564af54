// The claim-slot protocol, both sides in one place. Each task sent to a Web Worker may get a slot
// in the worker's shared control array (see Ctl in the protocol). The slot holds the task's `seq`
// while it waits, `-seq` once the worker has claimed it to run, and 0 once the host has taken it
// back. Both sides change it only by compare-and-swap, so exactly one of them wins: the host knows
// for sure which tasks a worker started, and can give the others to another worker.

import { Ctl } from "./_protocol.ts";

/** The host's side: which slot each task in flight holds, and taking tasks back. */
export class ClaimSlots {
  readonly #ctl: Int32Array;
  readonly #free: number[] = Array.from({ length: Ctl.SlotCount }, (_, i) => Ctl.SlotCount - 1 - i);
  readonly #slotOf = new Map<number, number>();

  constructor(ctl: Int32Array) {
    this.#ctl = ctl;
  }

  /**
   * Gives task `seq` a slot before it is sent; undefined when all are taken (such a task counts
   * as started from the moment it is sent).
   */
  assign(seq: number): number | undefined {
    const slot = this.#free.pop();
    if (slot === undefined) return undefined;
    Atomics.store(this.#ctl, Ctl.Slots + slot, seq);
    this.#slotOf.set(seq, slot);
    return slot;
  }

  /** Task `seq` is no longer in flight: its slot is free again. */
  release(seq: number): void {
    const slot = this.#slotOf.get(seq);
    if (slot === undefined) return;
    this.#slotOf.delete(seq);
    this.#free.push(slot);
  }

  /**
   * Whether the worker started task `seq`; if it had not, makes sure it never will. A task
   * without a slot counts as started.
   */
  takeBackOrStarted(seq: number): boolean {
    const slot = this.#slotOf.get(seq);
    if (slot === undefined) return true;
    return Atomics.compareExchange(this.#ctl, Ctl.Slots + slot, seq, 0) !== seq;
  }
}

/**
 * The worker's side: claims task `seq` in `slot` before running it. False if the host took it
 * back first; a task sent without a slot (-1) is always claimed.
 */
export function claim(ctl: Int32Array, seq: number, slot: number): boolean {
  return slot < 0 || Atomics.compareExchange(ctl, Ctl.Slots + slot, seq, -seq) === seq;
}

// The hold that `Lock.acquire()` returns. Internal, so that `Condition` can move a hold from one
// ticket to the next (it releases the lock while waiting and takes it back after).

import { InvalidStateError } from "../future/errors.ts";
import { ownerAlive, ownerId } from "./_owner.ts";
import { leaveLine, recoverWaiters, releaseHeld, releaseOldest, TICKET_WORDS } from "./_tickets.ts";

/** The ticket-state base index inside a lock's buffer. */
export const LOCK_BASE = 1;
/** The holder's owner id (see _owner.ts); 0 while unknown. */
const OWNER = LOCK_BASE + TICKET_WORDS;
/** 1 when the lock was taken back from a holder that died: the next holder is told. */
const ABANDONED = OWNER + 1;
/** The words a lock takes. */
export const LOCK_WORDS = ABANDONED + 1;

/** A hold on a lock. */
export class Guard implements Disposable, AsyncDisposable {
  readonly i32: Int32Array;
  ticket = 0;
  released = false;
  abandoned = false;

  constructor(i32: Int32Array, ticket: number) {
    this.i32 = i32;
    this.hold(ticket);
  }

  /** Records this thread as the holder of `ticket`, which was just admitted. */
  hold(ticket: number): void {
    this.ticket = ticket;
    this.released = false;
    Atomics.store(this.i32, OWNER, ownerId());
    leaveLine(this.i32, LOCK_BASE, ticket);
    this.abandoned = Atomics.exchange(this.i32, ABANDONED, 0) === 1;
  }

  get held(): boolean {
    return !this.released && Atomics.load(this.i32, LOCK_BASE + 1) === this.ticket;
  }

  release(): void {
    if (this.released) throw new InvalidStateError("Cannot release a Lock twice");
    this.released = true;
    if (Atomics.load(this.i32, LOCK_BASE + 1) === this.ticket) {
      Atomics.compareExchange(this.i32, OWNER, ownerId(), 0);
    }
    if (!releaseHeld(this.i32, LOCK_BASE, this.ticket)) {
      throw new InvalidStateError(
        "Cannot release a Lock that this guard no longer holds: it was released with lock.release() or taken with forceRelease()",
      );
    }
  }

  [Symbol.dispose](): void {
    // A hold that is over already (released with lock.release(), or taken with forceRelease())
    // leaves nothing to do; only an explicit release() says so.
    if (!this.released && this.held) this.release();
    this.released = true;
  }

  [Symbol.asyncDispose](): Promise<void> {
    try {
      this[Symbol.dispose]();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Takes the lock back if its holder's thread has died, and gives up the places in line of
 * waiters whose threads have died. Returns whether it did either. A live holder, or one that
 * cannot be told, keeps it.
 */
export async function recover(i32: Int32Array): Promise<boolean> {
  const holder = await recoverHolder(i32);
  return (await recoverWaiters(i32, LOCK_BASE, "Lock")) > 0 || holder;
}

/** Takes the lock back if its holder's thread has died, for the next waiter. */
export async function recoverHolder(i32: Int32Array): Promise<boolean> {
  const ticket = Atomics.load(i32, LOCK_BASE + 1);
  const owner = Atomics.load(i32, OWNER);
  if (owner === 0 || Atomics.load(i32, LOCK_BASE) === ticket) return false;
  if (await ownerAlive(owner)) return false;
  // Nobody else moves a dead holder's lock on but forceRelease(): check that it has not, then
  // claim the recovery (only one recoverer wins the owner word).
  if (Atomics.load(i32, LOCK_BASE + 1) !== ticket) return false;
  if (Atomics.compareExchange(i32, OWNER, owner, 0) !== owner) return false;
  Atomics.store(i32, ABANDONED, 1);
  if (releaseHeld(i32, LOCK_BASE, ticket)) return true;
  Atomics.store(i32, ABANDONED, 0);
  return false;
}

/** Whether this thread holds the lock (any holder, where threads cannot be told apart). */
export function heldHere(i32: Int32Array): boolean {
  if (Atomics.load(i32, LOCK_BASE) === Atomics.load(i32, LOCK_BASE + 1)) return false;
  const me = ownerId();
  return me === 0 || Atomics.load(i32, OWNER) === me;
}

/** Releases the hold of this thread: false if it holds none. */
export function releaseHere(i32: Int32Array): boolean {
  if (!heldHere(i32)) return false;
  const ticket = Atomics.load(i32, LOCK_BASE + 1);
  Atomics.compareExchange(i32, OWNER, ownerId(), 0);
  return releaseHeld(i32, LOCK_BASE, ticket);
}

/** Takes the lock from its holder, whoever it is; false if it was free. */
export function forceRelease(i32: Int32Array): boolean {
  // Forget the holder first: a recoverer must not take the next holder's hold for the old one's.
  const owner = Atomics.exchange(i32, OWNER, 0);
  if (releaseOldest(i32, LOCK_BASE)) return true;
  Atomics.compareExchange(i32, OWNER, 0, owner);
  return false;
}

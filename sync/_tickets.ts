// A fair counting lock on shared memory: a ticket lock with `permits` holders at a time. Ticket
// `t` may go once `t - released < permits`, so waiters go in the order they arrived (FIFO), and
// none starves. A waiter that gives up (a timeout) marks its ticket cancelled; whoever would admit
// that ticket clears the mark and passes the permit on. Counters are Int32 and wrap: only their
// differences are compared.
//
// Each waiter also writes its thread's owner id (see _owner.ts) into the slot of its ticket, and
// clears it once it has left the line (admitted, or given up). A slot that still names a thread
// that has died is a ticket nobody will ever take or give up: `recoverWaiters()` gives it up on
// the dead waiter's behalf, as its timeout would have, so the line moves on. A slot can only be
// left behind across an `await`: Deno does not stop a worker in the middle of synchronous code.

import { liveOwners, ownerId } from "./_owner.ts";
import { blockOn, refuseStopped, threadEnded, waitOn } from "./_shared.ts";

/** Where the ticket state lives, relative to its base index. */
const NEXT = 0;
const RELEASED = 1;
const PERMITS = 2;
const MARKS = 3;
/** Waiters a ticket lock can hold at once: one cancel bit each. */
export const MAX_WAITERS = 1024;
/**
 * Each waiter sleeps on one of these words (its ticket modulo their number), bumped when that
 * ticket is admitted: a release wakes the next waiter, not every waiter.
 */
const TURNS = MARKS + MAX_WAITERS / 32;
const TURN_COUNT = 32;
/** The owner id of each ticket's waiter while it waits (slot `t % MAX_WAITERS`); 0 when none. */
const OWNERS = TURNS + TURN_COUNT;
/** The ticket in each slot, written before its owner. */
const TICKETS = OWNERS + MAX_WAITERS;
/** The words a ticket state takes. */
export const TICKET_WORDS = TICKETS + MAX_WAITERS;
/** Checks before sleeping: a holder often releases within a few hundred nanoseconds. */
const SPINS = 100;

/**
 * What a ticket state serves. A lock's permit belongs to its ticket (`forceRelease()` may take it
 * from a holder and move the line on), so a permit given back must still be that ticket's; a
 * semaphore's permits are a count, and any give-back adds one. A `Semaphore(1)` is no lock: a
 * `release()` beyond those taken moves the line past tickets still held.
 */
export type Kind = "Lock" | "Semaphore";

/** Sets up the ticket state at `base`. */
export function initTickets(i32: Int32Array, base: number, permits: number): void {
  Atomics.store(i32, base + PERMITS, permits);
}

/** Takes the next ticket. */
export function takeTicket(i32: Int32Array, base: number, what: string): number {
  const permits = Atomics.load(i32, base + PERMITS);
  while (true) {
    const next = Atomics.load(i32, base + NEXT);
    const released = Atomics.load(i32, base + RELEASED);
    if (((next - released) | 0) - permits >= MAX_WAITERS) {
      throw new RangeError(
        `Cannot ${what} as ${MAX_WAITERS} callers are waiting already: received one more`,
      );
    }
    if (Atomics.compareExchange(i32, base + NEXT, next, (next + 1) | 0) !== next) continue;
    const slot = next & (MAX_WAITERS - 1);
    Atomics.store(i32, base + TICKETS + slot, next);
    Atomics.store(i32, base + OWNERS + slot, ownerId());
    return next;
  }
}

/**
 * Says that the waiter of ticket `t` has left the line: call it once the caller has recorded
 * itself as the holder (a lock's owner word), in the same synchronous step.
 */
export function leaveLine(i32: Int32Array, base: number, t: number): void {
  const slot = t & (MAX_WAITERS - 1);
  if (Atomics.load(i32, base + TICKETS + slot) !== t) return;
  Atomics.compareExchange(i32, base + OWNERS + slot, ownerId(), 0);
}

/**
 * Gives up the tickets whose waiters' threads have died, each as its own timeout would have; a
 * ticket admitted meanwhile gives its permit back. Returns how many it gave up.
 */
export async function recoverWaiters(
  i32: Int32Array,
  base: number,
  kind: Kind,
): Promise<number> {
  const me = ownerId();
  const dead: number[] = [];
  for (let slot = 0; slot < MAX_WAITERS; slot++) {
    const owner = Atomics.load(i32, base + OWNERS + slot);
    if (owner !== 0 && owner !== me) dead.push(slot);
  }
  if (dead.length === 0) return 0;
  const alive = await liveOwners();
  let n = 0;
  for (const slot of dead) {
    const owner = Atomics.load(i32, base + OWNERS + slot);
    if (owner === 0 || alive(owner)) continue;
    // A dead thread writes nothing more: the ticket in the slot is its own. Whoever clears the
    // owner acts for it, once.
    const t = Atomics.load(i32, base + TICKETS + slot);
    if (Atomics.compareExchange(i32, base + OWNERS + slot, owner, 0) !== owner) continue;
    // Admitted, and never taken: give the permit back.
    if (!cancel(i32, base, t)) passOn(i32, base, t, kind);
    n++;
  }
  return n;
}

/** Whether ticket `t` may go. */
export function admitted(i32: Int32Array, base: number, t: number): boolean {
  const released = Atomics.load(i32, base + RELEASED);
  return ((t - released) | 0) < Atomics.load(i32, base + PERMITS);
}

/** Takes a ticket only if it is admitted at once; returns it, or undefined. */
export function tryTicket(i32: Int32Array, base: number): number | undefined {
  const permits = Atomics.load(i32, base + PERMITS);
  while (true) {
    const next = Atomics.load(i32, base + NEXT);
    const released = Atomics.load(i32, base + RELEASED);
    if (((next - released) | 0) >= permits) return undefined;
    if (Atomics.compareExchange(i32, base + NEXT, next, (next + 1) | 0) === next) return next;
  }
}

/**
 * Blocks until ticket `t` is admitted; false on timeout (the ticket is then given up). On true,
 * the caller calls {@linkcode leaveLine} once it has recorded itself.
 */
export function awaitTicketSync(
  i32: Int32Array,
  base: number,
  t: number,
  end: number,
  kind: Kind,
): boolean {
  const turn = base + TURNS + (t & (TURN_COUNT - 1));
  for (let i = 0; i < SPINS; i++) {
    if (admitted(i32, base, t)) return admittedHere(i32, base, t, kind);
    Atomics.pause();
  }
  while (true) {
    const seen = Atomics.load(i32, turn);
    if (admitted(i32, base, t)) return admittedHere(i32, base, t, kind);
    if (!blockOn(i32, turn, seen, end)) {
      if (giveUp(i32, base, t)) return ended();
      if (!threadEnded()) return true;
      // Admitted as it gave up, in a worker that was ended: the permit goes on, unused.
      passOn(i32, base, t, kind);
      return ended();
    }
  }
}

/**
 * True for admitted ticket `t`, unless this thread's worker was ended or its task stopped: code
 * that goes on after its task was stopped (Deno cannot stop a busy thread) must not take a lock
 * or a permit, blocked or not. The permit then goes on, unused, and this throws.
 */
function admittedHere(i32: Int32Array, base: number, t: number, kind: Kind): true {
  if (!threadEnded()) return true;
  passOn(i32, base, t, kind);
  ended();
  return true;
}

/** False at a timeout; throws in a worker that was ended (its task was stopped meanwhile). */
function ended(): false {
  refuseStopped();
  return false;
}

/** Gives back the permit that admitted ticket `t`, which its waiter will never use. */
function passOn(i32: Int32Array, base: number, t: number, kind: Kind): void {
  if (kind === "Lock") releaseHeld(i32, base, t);
  else release(i32, base);
}

/** How often an async waiter runs its `idle` check (a dead holder), in milliseconds. */
export const IDLE_MS = 100;

/**
 * Waits until ticket `t` is admitted; false on timeout (the ticket is then given up). Every
 * {@linkcode IDLE_MS} of waiting it gives up the tickets of dead waiters ahead, and runs `idle`,
 * which may move the line on too (a lock taking itself back from a holder whose thread died).
 */
export async function awaitTicket(
  i32: Int32Array,
  base: number,
  t: number,
  end: number,
  kind: Kind,
  idle?: () => Promise<unknown>,
): Promise<boolean> {
  const turn = base + TURNS + (t & (TURN_COUNT - 1));
  let check = performance.now() + IDLE_MS;
  while (true) {
    const seen = Atomics.load(i32, turn);
    if (admitted(i32, base, t)) return true;
    const now = performance.now();
    if (now >= end) return !giveUp(i32, base, t);
    if (now >= check) {
      await recoverWaiters(i32, base, kind);
      await idle?.();
      check = performance.now() + IDLE_MS;
      continue;
    }
    await waitOn(i32, turn, seen, Math.min(end, check));
  }
}

/** The waiter of ticket `t` gives it up (true), or finds it admitted after all (false). */
function giveUp(i32: Int32Array, base: number, t: number): boolean {
  leaveLine(i32, base, t);
  // The newest ticket is taken back, as if it had never been taken: a caller that tries again
  // and again (a timeout of 0 while the lock is held) would otherwise fill the line with tickets
  // given up, which leave it only at a release. It is never marked, so no release skips it; if
  // a release admitted it meanwhile, its admission passes to whoever takes the number next.
  if (Atomics.compareExchange(i32, base + NEXT, (t + 1) | 0, t) === ((t + 1) | 0)) return true;
  return cancel(i32, base, t);
}

/** Tickets given up and still in the line (a release passes over them). */
export function givenUp(i32: Int32Array, base: number): number {
  let n = 0;
  for (let word = 0; word < MAX_WAITERS / 32; word++) {
    let bits = Atomics.load(i32, base + MARKS + word);
    while (bits !== 0) {
      bits &= bits - 1;
      n++;
    }
  }
  return n;
}

/**
 * Gives up ticket `t`. Returns true if it is given up; false if it was admitted meanwhile and
 * the caller holds it after all.
 */
function cancel(i32: Int32Array, base: number, t: number): boolean {
  const word = base + MARKS + ((t >>> 5) & (MAX_WAITERS / 32 - 1));
  const bit = 1 << (t & 31);
  Atomics.or(i32, word, bit);
  if (!admitted(i32, base, t)) return true;
  // Admitted meanwhile: if the mark is still there, the releaser has not looked at it, and the
  // permit is the caller's; if it is gone, the releaser skipped this ticket already.
  return (Atomics.and(i32, word, ~bit) & bit) === 0;
}

/** Releases one permit, passing it over tickets whose waiters gave up, and wakes the waiters. */
export function release(i32: Int32Array, base: number): void {
  afterRelease(i32, base, Atomics.add(i32, base + RELEASED, 1) + 1);
}

/** Releases the permit of ticket `t` if it is the oldest one held (a lock's holder). */
export function releaseHeld(i32: Int32Array, base: number, t: number): boolean {
  if (Atomics.compareExchange(i32, base + RELEASED, t, (t + 1) | 0) !== t) return false;
  afterRelease(i32, base, (t + 1) | 0);
  return true;
}

/** Releases the oldest held permit, whoever holds it; false if none is held. */
export function releaseOldest(i32: Int32Array, base: number): boolean {
  while (true) {
    const released = Atomics.load(i32, base + RELEASED);
    if (Atomics.load(i32, base + NEXT) === released) return false;
    if (releaseHeld(i32, base, released)) return true;
  }
}

function afterRelease(i32: Int32Array, base: number, released: number): void {
  const permits = Atomics.load(i32, base + PERMITS);
  // The ticket that this release admits: if its waiter gave up, pass the permit on (each
  // increment admits exactly one ticket, so concurrent releases never look at the same one).
  for (let r = released;;) {
    const t = (r + permits - 1) | 0;
    const word = base + MARKS + ((t >>> 5) & (MAX_WAITERS / 32 - 1));
    const bit = 1 << (t & 31);
    if ((Atomics.and(i32, word, ~bit) & bit) === 0) {
      const turn = base + TURNS + (t & (TURN_COUNT - 1));
      Atomics.add(i32, turn, 1);
      // Every sleeper on this word: a waiter that timed out may have left a stale async wait.
      Atomics.notify(i32, turn);
      return;
    }
    r = (Atomics.add(i32, base + RELEASED, 1) + 1) | 0;
  }
}

/** Holders and waiters: `next - released`. */
export function outstanding(i32: Int32Array, base: number): number {
  return (Atomics.load(i32, base + NEXT) - Atomics.load(i32, base + RELEASED)) | 0;
}

/** The permits a ticket state was made with. */
export function permitsOf(i32: Int32Array, base: number): number {
  return Atomics.load(i32, base + PERMITS);
}

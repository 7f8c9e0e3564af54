// A fair counting lock on shared memory: a ticket lock with `permits` holders at a time. Ticket
// `t` may go once `t - released < permits`, so waiters go in the order they arrived (FIFO), and
// none starves. A waiter that gives up (a timeout) marks its ticket cancelled; whoever would admit
// that ticket clears the mark and passes the permit on. Counters are Int32 and wrap: only their
// differences are compared.

import { blockOn, waitOn } from "./_shared.ts";

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
/** The words a ticket state takes. */
export const TICKET_WORDS = TURNS + TURN_COUNT;
/** Checks before sleeping: a holder often releases within a few hundred nanoseconds. */
const SPINS = 100;

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
    if (Atomics.compareExchange(i32, base + NEXT, next, (next + 1) | 0) === next) return next;
  }
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

/** Blocks until ticket `t` is admitted; false on timeout (the ticket is then given up). */
export function awaitTicketSync(i32: Int32Array, base: number, t: number, end: number): boolean {
  const turn = base + TURNS + (t & (TURN_COUNT - 1));
  for (let i = 0; i < SPINS; i++) {
    if (admitted(i32, base, t)) return true;
    Atomics.pause();
  }
  while (true) {
    const seen = Atomics.load(i32, turn);
    if (admitted(i32, base, t)) return true;
    if (!blockOn(i32, turn, seen, end)) return !cancel(i32, base, t);
  }
}

/** How often an async waiter runs its `idle` check (a dead holder), in milliseconds. */
export const IDLE_MS = 100;

/**
 * Waits until ticket `t` is admitted; false on timeout (the ticket is then given up). Every
 * {@linkcode IDLE_MS} of waiting it runs `idle`, which may move the line on (a lock taking itself
 * back from a holder whose thread died).
 */
export async function awaitTicket(
  i32: Int32Array,
  base: number,
  t: number,
  end: number,
  idle?: () => Promise<unknown>,
): Promise<boolean> {
  const turn = base + TURNS + (t & (TURN_COUNT - 1));
  let check = performance.now() + IDLE_MS;
  while (true) {
    const seen = Atomics.load(i32, turn);
    if (admitted(i32, base, t)) return true;
    const now = performance.now();
    if (now >= end) return !cancel(i32, base, t);
    if (idle && now >= check) {
      await idle();
      check = performance.now() + IDLE_MS;
      continue;
    }
    await waitOn(i32, turn, seen, idle ? Math.min(end, check) : end);
  }
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

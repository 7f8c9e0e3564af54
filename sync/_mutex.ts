// A short-held mutex for the queue's own bookkeeping: it guards a few loads and a copy, never a
// wait, so it is not fair and need not be. Its word holds the owner id of the thread that holds
// it (see _owner.ts; -1 where threads cannot be told apart), 0 when free; the next word counts
// sleepers. A thread that ends inside the critical section leaves its id there: an async waiter
// checks every 100 ms whether that thread is alive and, if not, takes the mutex over and calls
// `repair` to finish or undo what the dead owner left half-done.

import { liveOwners, ownerId } from "./_owner.ts";
import { threadEnded, waitOn } from "./_shared.ts";
import { IDLE_MS } from "./_tickets.ts";

const SPINS = 64;
/** The words a mutex takes. */
export const MUTEX_WORDS = 2;

/**
 * Points inside a critical section where a test can act (end its worker there): never set
 * outside tests.
 */
export const testHooks: { inside?: (step: "locked" | "committing") => void } = {};

function token(): number {
  return ownerId() || -1;
}

function spin(i32: Int32Array, at: number, me: number): boolean {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.compareExchange(i32, at, 0, me) === 0) return true;
    Atomics.pause();
  }
  return false;
}

/**
 * Takes the mutex, blocking (Web Workers only); false if `end` (a `performance.now()` time)
 * passes first. It cannot take the mutex over from a dead owner (that check is async): only the
 * deadline, or someone's `recover()`, ends that wait.
 */
export function lockSync(i32: Int32Array, at: number, end = Infinity): boolean {
  const me = token();
  if (spin(i32, at, me)) return true;
  while (true) {
    const left = end - performance.now();
    if (left <= 0) return false;
    Atomics.add(i32, at + 1, 1);
    const owner = Atomics.load(i32, at);
    if (owner !== 0) Atomics.wait(i32, at, owner, left === Infinity ? undefined : left);
    Atomics.sub(i32, at + 1, 1);
    if (threadEnded()) return false;
    if (Atomics.compareExchange(i32, at, 0, me) === 0) return true;
  }
}

/**
 * Takes the mutex without blocking the thread, taking it over from a dead owner; false if `end`
 * (a `performance.now()` time) passes first.
 */
export async function lockAsync(
  i32: Int32Array,
  at: number,
  repair: () => void,
  end = Infinity,
): Promise<boolean> {
  const me = token();
  if (spin(i32, at, me)) return true;
  let check = performance.now() + IDLE_MS;
  while (true) {
    if (Atomics.compareExchange(i32, at, 0, me) === 0) return true;
    const now = performance.now();
    if (now >= end) return false;
    if (now >= check) {
      if (await takeOver(i32, at, repair)) return true;
      check = performance.now() + IDLE_MS;
      continue;
    }
    const owner = Atomics.load(i32, at);
    if (owner === 0) continue;
    Atomics.add(i32, at + 1, 1);
    try {
      await waitOn(i32, at, owner, Math.min(check, end));
    } finally {
      Atomics.sub(i32, at + 1, 1);
    }
  }
}

/**
 * If the mutex's owner has died, takes the mutex over (the caller then holds it) and calls
 * `repair`. Returns whether it did.
 */
export async function takeOver(
  i32: Int32Array,
  at: number,
  repair: () => void,
): Promise<boolean> {
  const owner = Atomics.load(i32, at);
  const me = token();
  if (owner <= 1 || owner === me) return false;
  if ((await liveOwners())(owner)) return false;
  if (Atomics.compareExchange(i32, at, owner, me) !== owner) return false;
  repair();
  return true;
}

/** Releases the mutex, waking the sleepers if there are any. */
export function unlock(i32: Int32Array, at: number): void {
  Atomics.store(i32, at, 0);
  if (Atomics.load(i32, at + 1) > 0) Atomics.notify(i32, at);
}

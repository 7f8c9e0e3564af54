// A short-held mutex word (0 free, 1 held, 2 held with waiters), for the queue's own bookkeeping:
// it guards a few loads and a copy, never a wait, so it is not fair and need not be.

import { waitOn } from "./_shared.ts";

const SPINS = 64;

/** Takes the mutex, blocking (Web Workers only). */
export function lockSync(i32: Int32Array, at: number): void {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.compareExchange(i32, at, 0, 1) === 0) return;
    Atomics.pause();
  }
  while (Atomics.exchange(i32, at, 2) !== 0) Atomics.wait(i32, at, 2);
}

/** Takes the mutex without blocking the thread. */
export async function lockAsync(i32: Int32Array, at: number): Promise<void> {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.compareExchange(i32, at, 0, 1) === 0) return;
    Atomics.pause();
  }
  while (Atomics.exchange(i32, at, 2) !== 0) await waitOn(i32, at, 2, Infinity);
}

/** Releases the mutex, waking a waiter if there is one. */
export function unlock(i32: Int32Array, at: number): void {
  if (Atomics.exchange(i32, at, 0) === 2) Atomics.notify(i32, at);
}

/**
 * The task module of `examples/primes.ts`: its exports run on the main thread, on an
 * `AsyncPoolExecutor`, or in workers by reference (`modules: [new URL("./primes_tasks.ts", …)]`).
 *
 * @module
 */

import { taskSignal } from "../mod.ts";

/** Whether `n` is prime, by trial division: deliberately CPU-bound. */
export function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) {
    if (n % d === 0) return false;
  }
  return true;
}

/** Counts the primes in `[from, to)`. It stops early if its task is cancelled or times out. */
export function countPrimes(from: number, to: number): number {
  const signal = taskSignal();
  let count = 0;
  for (let n = from; n < to; n++) {
    // Reading the signal costs a shared-memory load in a worker: check every 64k numbers.
    if ((n & 0xffff) === 0) signal.throwIfAborted();
    if (isPrime(n)) count++;
  }
  return count;
}

// Worker side of bench/sync_bench.ts.

import { Lock, SharedQueue } from "../sync/mod.ts";

/** ns per uncontended acquireSync() + release() in this worker, over `n` rounds. */
export function lockSyncNs(lock: Lock, n: number): number {
  const shared = Lock.from(lock);
  const start = performance.now();
  for (let i = 0; i < n; i++) shared.acquireSync().release();
  return ((performance.now() - start) * 1e6) / n;
}

/** ns per uncontended tryAcquire() + release() in this worker. */
export function lockTryNs(lock: Lock, n: number): number {
  const shared = Lock.from(lock);
  const start = performance.now();
  for (let i = 0; i < n; i++) shared.tryAcquire()!.release();
  return ((performance.now() - start) * 1e6) / n;
}

/** The item both sides of the queue benchmark move. */
export function item(i: number): { id: number; name: string; tags: string[]; score: number } {
  return { id: i, name: `item-${i}`, tags: ["a", "b"], score: i * 0.5 };
}

/** Puts `n` items (blocking); returns the ms from the first put to the last. */
export function putMany(queue: SharedQueue, n: number): number {
  const shared = SharedQueue.from(queue);
  const start = performance.now();
  for (let i = 0; i < n; i++) shared.putSync(item(i));
  return performance.now() - start;
}

/** Gets `n` items (blocking); returns the ms from the first get to the last and a check sum. */
export function getMany(queue: SharedQueue, n: number): { ms: number; sum: number } {
  const shared = SharedQueue.from(queue);
  let sum = 0;
  const start = performance.now();
  for (let i = 0; i < n; i++) sum += (shared.getSync() as { id: number }).id;
  return { ms: performance.now() - start, sum };
}

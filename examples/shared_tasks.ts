/**
 * The task module of `examples/shared_counter.ts` and `examples/shared_memory.ts`: functions that
 * workers run by reference. It imports only `sync/`, so a worker loads no more than it needs.
 *
 * Sync primitives arrive in a task as plain `{ buffer }` objects (structured clone keeps the
 * shared memory, not the class): each task revives them with `Lock.from()` and the like. Typed
 * arrays on a `SharedArrayBuffer` arrive as they are, on the same memory.
 *
 * @module
 */

import { Barrier, Lock, SharedQueue } from "../sync/mod.ts";

/**
 * Adds 1 to `cells[0]` `times` times with a plain read and write: a data race across threads.
 * Every counting task first waits at `start`, so that the workers really run at the same time.
 */
export function countRacy(start: Barrier, cells: Int32Array, times: number): void {
  Barrier.from(start).waitSync();
  for (let i = 0; i < times; i++) cells[0] = cells[0]! + 1;
}

/** The same read and write, each under the lock: exact. */
export function countLocked(start: Barrier, lock: Lock, cells: Int32Array, times: number): void {
  const shared = Lock.from(lock);
  Barrier.from(start).waitSync();
  for (let i = 0; i < times; i++) {
    using _held = shared.acquireSync();
    cells[0] = cells[0]! + 1;
  }
}

/** One atomic add per step: exact, and the cheapest way for a lone counter. */
export function countAtomic(start: Barrier, cells: Int32Array, times: number): void {
  Barrier.from(start).waitSync();
  for (let i = 0; i < times; i++) Atomics.add(cells, 0, 1);
}

/** An order, as the pipeline's producers make them. */
export interface Order {
  id: number;
  qty: number;
  price: number;
}

/** Puts orders `from` to `to - 1` into the queue, waiting while it is full. */
export function produceOrders(queue: SharedQueue<Order>, from: number, to: number): number {
  const shared = SharedQueue.from<Order>(queue);
  for (let id = from; id < to; id++) shared.putSync({ id, qty: 1 + (id % 5), price: id % 100 });
  return to - from;
}

/** Gets orders until the queue is closed; returns how many and their total value. */
export function consumeOrders(queue: SharedQueue<Order>): { count: number; total: number } {
  const shared = SharedQueue.from<Order>(queue);
  let count = 0;
  let total = 0;
  while (true) {
    let order: Order;
    try {
      order = shared.getSync();
    } catch (error) {
      if ((error as Error).name === "QueueClosedError") return { count, total };
      throw error;
    }
    count++;
    total += order.qty * order.price;
  }
}

/** The smallest and largest values of a chunk. */
export function minMax(chunk: Float64Array): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < chunk.length; i++) {
    const x = chunk[i]!;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  return [min, max];
}

/** Maps a chunk onto [0, 1] given the whole array's min and max; returns the chunk. */
export function rescale(chunk: Float64Array, min: number, max: number): Float64Array {
  const scale = max === min ? 0 : 1 / (max - min);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (chunk[i]! - min) * scale;
  return chunk;
}

/**
 * Normalises `data[from, to)` in place, one of `barrier.parties` tasks: each finds its slice's
 * min and max and writes them into `extremes`, waits at the barrier until all have, then rescales
 * its slice with the global ones. Nothing is copied.
 */
export function normaliseShared(
  data: Float64Array,
  from: number,
  to: number,
  part: number,
  extremes: Float64Array,
  barrier: Barrier,
): void {
  const slice = data.subarray(from, to);
  const [min, max] = minMax(slice);
  extremes[2 * part] = min;
  extremes[2 * part + 1] = max;
  Barrier.from(barrier).waitSync();
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < extremes.length; i += 2) {
    lo = Math.min(lo, extremes[i]!);
    hi = Math.max(hi, extremes[i + 1]!);
  }
  rescale(slice, lo, hi);
}

/**
 * The task module of `examples/backpressure.ts`: how a work item is made, and the work done on it
 * in a worker.
 *
 * @module
 */

/** Work item `i`: `size` pseudo-random bytes, the same every run (xorshift32 seeded by `i`). */
export function makeItem(i: number, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  let x = (i + 1) * 2654435761 >>> 0 || 1;
  for (let k = 0; k < size; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[k] = x & 0xff;
  }
  return bytes;
}

/** The FNV-1a hash of `bytes`, fed through `rounds` times: the CPU work done per item. */
export function digest(bytes: Uint8Array, rounds: number): number {
  let hash = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < bytes.length; k++) {
      hash = Math.imul(hash ^ bytes[k]!, 0x01000193);
    }
  }
  return hash >>> 0;
}

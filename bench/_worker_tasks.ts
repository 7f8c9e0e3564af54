// Task module shared by the worker-pool benchmark's contenders: WorkerPoolExecutor imports it as a
// task module (`modules`), and the raw postMessage floor imports it inside its workers, so both
// run the very same functions.

/** The tiny task of the throughput and round-trip workloads. */
export function add(a: number, b: number): number {
  return a + b;
}

/** `add(x, 1)` with one argument, for `map()`. */
export function inc(x: number): number {
  return x + 1;
}

/** Counts the primes in `[from, to)` by trial division: the CPU-bound workload. */
export function countPrimes(from: number, to: number): number {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
}

/** Reads the last byte of a buffer, so that its arrival is observed: the large-message workload. */
export function lastByte(buffer: ArrayBuffer | SharedArrayBuffer): number {
  return new Uint8Array(buffer)[buffer.byteLength - 1] ?? -1;
}

// Tells the workers apart in the results of countPrimesTimed().
const WORKER_ID = Math.random();

/**
 * {@linkcode countPrimes} that also says when it ran (`performance.timeOrigin`-based ms, which
 * workers share) and on which worker: `[count, start, end, worker]`.
 */
export function countPrimesTimed(from: number, to: number): [number, number, number, number] {
  const start = performance.timeOrigin + performance.now();
  const count = countPrimes(from, to);
  return [count, start, performance.timeOrigin + performance.now(), WORKER_ID];
}

/**
 * Blocks the calling thread until `gate[0]` is not 0, after adding 1 to `gate[1]` so that the
 * main thread can tell it is held. The scaling benchmark gives it to a pool as its `initializer`
 * (workers that never become ready, so every task stays queued) and to an actor as its first call.
 */
export function holdUntilReleased(gate: SharedArrayBuffer): void {
  const cells = new Int32Array(gate);
  Atomics.add(cells, 1, 1);
  Atomics.notify(cells, 1);
  Atomics.wait(cells, 0, 0);
}

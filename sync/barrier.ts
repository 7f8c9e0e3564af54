/**
 * {@linkcode Barrier}: threads wait until `parties` of them have arrived, then all go on.
 *
 * @module
 */

import { BrokenBarrierError, TimeoutError } from "../future/errors.ts";

export { BrokenBarrierError };
import {
  blockOn,
  bufferOf,
  checkInt,
  deadline,
  refuseMainThread,
  refuseStopped,
  type SyncWaitOptions,
  waitOn,
} from "./_shared.ts";

const MAGIC = 0x42617272; // "Barr"
// One word holds the whole state, so that a waiter sleeps on the very value it checked: the
// arrivals of this generation (bits 0-15), the generation (bits 16-29), broken (bit 30), and
// resetting (bit 31: reset() broke the round; its waiters are leaving, newcomers wait).
const STATE = 1;
const PARTIES = 2;
const WORDS = 3;
const COUNT_MASK = 0xffff;
const GEN_MASK = 0x3fff;
const BROKEN = 1 << 30;
const RESETTING = 1 << 31;

/**
 * A barrier in a `SharedArrayBuffer`, like Python's `multiprocessing.Barrier`: each `wait()`
 * blocks until `parties` callers have called it, then they all go on, and the barrier is ready
 * for the next round (a new generation). Each caller gets its arrival index, `0` to
 * `parties - 1`, handy to pick one caller for a job per round.
 *
 * A `timeout` that passes breaks the barrier (as in Python): every waiter and every later
 * `wait()` throws {@linkcode BrokenBarrierError}; a broken barrier stays broken. `wait()` waits
 * without blocking; `waitSync()` blocks and is for Web Workers only. Revive it in a task with
 * {@linkcode Barrier.from}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Barrier } from "@concurrent/futures";
 *
 * const barrier = new Barrier(3);
 * const indexes = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
 * assert.deepEqual(indexes.sort(), [0, 1, 2]);
 * ```
 */
export class Barrier {
  /** The shared memory that is the barrier's whole state; it survives structured clone. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;

  /**
   * Creates a barrier for `parties` callers.
   *
   * @param parties how many must arrive before all go on; or the buffer of an existing barrier
   * @throws {RangeError} if `parties` is not an integer from 1 to 65535
   */
  constructor(parties: number | SharedArrayBuffer) {
    if (parties instanceof SharedArrayBuffer) {
      this.buffer = bufferOf("Barrier", MAGIC, WORDS, parties);
      this.#i32 = new Int32Array(this.buffer);
      return;
    }
    checkInt("create a Barrier", "parties", parties, 1, COUNT_MASK);
    this.buffer = new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.buffer);
    Atomics.store(this.#i32, PARTIES, parties);
    Atomics.store(this.#i32, 0, MAGIC);
  }

  /**
   * The barrier behind a value that crossed a worker boundary.
   *
   * @param value a `Barrier` (returned as is), its structured-cloned copy, or its buffer
   * @returns a `Barrier` on the same shared memory
   * @throws {TypeError} if `value` is not one of these
   */
  static from(value: unknown): Barrier {
    if (value instanceof Barrier) return value;
    return new Barrier(bufferOf("Barrier", MAGIC, WORDS, value));
  }

  /**
   * How many callers each round needs.
   *
   * @returns the number of parties
   */
  get parties(): number {
    return Atomics.load(this.#i32, PARTIES);
  }

  /**
   * How many callers wait in this round.
   *
   * @returns the number of waiters
   */
  get waiting(): number {
    return Atomics.load(this.#i32, STATE) & COUNT_MASK;
  }

  /**
   * Whether the barrier is broken.
   *
   * @returns true once a waiter timed out or `abort()` was called
   */
  get broken(): boolean {
    const state = Atomics.load(this.#i32, STATE);
    return (state & BROKEN) !== 0 && (state & RESETTING) === 0;
  }

  /**
   * Returns the barrier to its empty state, as Python's `Barrier.reset()`: the callers waiting
   * now throw `BrokenBarrierError`, and a broken barrier is whole again. Callers that arrive
   * while the waiters are leaving wait for the next round.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Barrier, BrokenBarrierError } from "@concurrent/futures";
   *
   * const barrier = new Barrier(2);
   * const early = barrier.wait();
   * barrier.reset();
   * await assert.rejects(early, BrokenBarrierError);
   * assert.equal(barrier.broken, false);
   * assert.deepEqual((await Promise.all([barrier.wait(), barrier.wait()])).sort(), [0, 1]);
   * ```
   */
  reset(): void {
    while (true) {
      const state = Atomics.load(this.#i32, STATE);
      const gen = (state >>> 16) & GEN_MASK;
      // Nobody waits: a fresh round at once. Otherwise the waiters leave first (see #leave).
      const next = (state & COUNT_MASK) === 0
        ? ((gen + 1) & GEN_MASK) << 16
        : state | BROKEN | RESETTING;
      if (Atomics.compareExchange(this.#i32, STATE, state, next) === state) break;
    }
    Atomics.notify(this.#i32, STATE);
  }

  /** Breaks the barrier: every waiter, and every later `wait()`, throws `BrokenBarrierError`. */
  abort(): void {
    Atomics.or(this.#i32, STATE, BROKEN);
    Atomics.notify(this.#i32, STATE);
  }

  /**
   * Waits, without blocking the thread, until `parties` callers have arrived.
   *
   * @param options `timeout` in milliseconds; when it passes, the barrier breaks
   * @returns this caller's arrival index in its round, from `0` to `parties - 1`
   * @throws {BrokenBarrierError} if the barrier is or becomes broken (its `cause` is a
   * `TimeoutError` for the caller whose timeout broke it)
   * @throws {RangeError} for a negative `timeout`
   */
  async wait(options?: SyncWaitOptions): Promise<number> {
    const end = deadline("wait at a Barrier", options);
    let arrival = this.#arrive();
    while ("resetting" in arrival) {
      if (!(await waitOn(this.#i32, STATE, arrival.resetting, end))) {
        throw this.#resetTimeout(options);
      }
      arrival = this.#arrive();
    }
    const { index, gen } = arrival;
    if (gen < 0) return index;
    while (true) {
      const state = this.#passed(gen);
      if (state === undefined) return index;
      if (!(await waitOn(this.#i32, STATE, state, end))) return this.#timedOut(gen, index, options);
    }
  }

  /**
   * Blocks this Web Worker until `parties` callers have arrived.
   *
   * @param options `timeout` in milliseconds; when it passes, the barrier breaks
   * @returns this caller's arrival index in its round, from `0` to `parties - 1`
   * @throws {InvalidStateError} on the main thread, which must never block
   * @throws {BrokenBarrierError} if the barrier is or becomes broken
   * @throws {RangeError} for a negative `timeout`
   */
  waitSync(options?: SyncWaitOptions): number {
    refuseMainThread("Barrier.waitSync()", "await barrier.wait()");
    const end = deadline("wait at a Barrier", options);
    // A stopped task's synchronous code that reaches the barrier does not arrive.
    refuseStopped();
    let arrival = this.#arrive();
    while ("resetting" in arrival) {
      if (!blockOn(this.#i32, STATE, arrival.resetting, end)) throw this.#resetTimeout(options);
      arrival = this.#arrive();
    }
    const { index, gen } = arrival;
    if (gen < 0) return index;
    while (true) {
      const state = this.#passed(gen);
      // Stopped after it arrived: its arrival counted (the others may have gone on), but the task
      // itself does not go on past the barrier.
      if (state === undefined) return refuseStopped(), index;
      if (!blockOn(this.#i32, STATE, state, end)) {
        refuseStopped();
        return this.#timedOut(gen, index, options);
      }
    }
  }

  /**
   * Counts this caller in; `gen` is -1 when it was the last one (everyone goes on). During a
   * reset, returns the state to sleep on instead.
   */
  #arrive(): { index: number; gen: number } | { resetting: number } {
    const parties = Atomics.load(this.#i32, PARTIES);
    while (true) {
      const state = Atomics.load(this.#i32, STATE);
      if (state & RESETTING) return { resetting: state };
      if (state & BROKEN) throw new BrokenBarrierError();
      const count = state & COUNT_MASK;
      const gen = (state >>> 16) & GEN_MASK;
      const last = count + 1 === parties;
      const next = last ? ((gen + 1) & GEN_MASK) << 16 : state + 1;
      if (Atomics.compareExchange(this.#i32, STATE, state, next) !== state) continue;
      if (last) Atomics.notify(this.#i32, STATE);
      return { index: count, gen: last ? -1 : gen };
    }
  }

  /** The state to sleep on while round `gen` is on; undefined once it has passed. */
  #passed(gen: number): number | undefined {
    const state = Atomics.load(this.#i32, STATE);
    if (((state >>> 16) & GEN_MASK) !== gen) return undefined;
    if (state & BROKEN) throw this.#leave(gen);
    return state;
  }

  /**
   * Counts a waiter of round `gen` out of a broken barrier; the last to leave a reset starts a
   * fresh round. Returns the error the waiter throws.
   */
  #leave(gen: number, error = new BrokenBarrierError()): BrokenBarrierError {
    while (true) {
      const state = Atomics.load(this.#i32, STATE);
      if (((state >>> 16) & GEN_MASK) !== gen || (state & COUNT_MASK) === 0) return error;
      const last = (state & COUNT_MASK) === 1 && (state & RESETTING) !== 0;
      const next = last ? ((gen + 1) & GEN_MASK) << 16 : state - 1;
      if (Atomics.compareExchange(this.#i32, STATE, state, next) !== state) continue;
      if (last) Atomics.notify(this.#i32, STATE);
      return error;
    }
  }

  #resetTimeout(options: SyncWaitOptions | undefined): BrokenBarrierError {
    return new BrokenBarrierError(
      `the Barrier was still being reset when the wait timed out after ${options?.timeout} ms`,
      { cause: new TimeoutError(`the Barrier wait timed out after ${options?.timeout} ms`) },
    );
  }

  #timedOut(gen: number, index: number, options: SyncWaitOptions | undefined): number {
    while (true) {
      const state = Atomics.load(this.#i32, STATE);
      if (((state >>> 16) & GEN_MASK) !== gen) return index;
      if (state & BROKEN) throw this.#leave(gen);
      if (Atomics.compareExchange(this.#i32, STATE, state, state | BROKEN) === state) break;
    }
    Atomics.notify(this.#i32, STATE);
    throw this.#leave(
      gen,
      new BrokenBarrierError(
        `the Barrier broke as its wait timed out after ${options?.timeout} ms`,
        { cause: new TimeoutError(`the Barrier wait timed out after ${options?.timeout} ms`) },
      ),
    );
  }
}

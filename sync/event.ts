/**
 * {@linkcode Event}: a flag in shared memory that threads wait for.
 *
 * @module
 */

import {
  blockOn,
  bufferOf,
  deadline,
  refuseMainThread,
  refuseStopped,
  type SyncWaitOptions,
  waitOn,
} from "./_shared.ts";

const MAGIC = 0x4576656e; // "Even"
const FLAG = 1;
/**
 * How many times `set()` was called (it wraps): waiters sleep on it, so that a `set()` wakes
 * them even when a `clear()` follows at once, as in Python.
 */
const SETS = 2;
const WORDS = 3;

/**
 * A flag in a `SharedArrayBuffer`, like Python's `multiprocessing.Event`: `set()` wakes every
 * waiter, on the main thread and in Web Workers, until `clear()`.
 *
 * `wait()` waits without blocking; `waitSync()` blocks and is for Web Workers only. Both return
 * the flag, so `false` means the timeout passed. Pass it to a task as it is and revive it there
 * with {@linkcode Event.from}. (It is not the DOM's `Event`: import it under another name where
 * both are needed.)
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Event } from "@concurrent/futures";
 *
 * const ready = new Event();
 * assert.equal(await ready.wait({ timeout: 0 }), false);
 * setTimeout(() => ready.set(), 1);
 * assert.equal(await ready.wait(), true);
 * assert(ready.isSet());
 * ```
 */
export class Event {
  /** The shared memory that is the event's whole state; it survives structured clone. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;

  /**
   * Creates an event, not set.
   *
   * @param buffer the memory of an existing event (what {@linkcode Event.from} passes); omit it
   * @throws {TypeError} if `buffer` is not the memory of an event
   */
  constructor(buffer?: SharedArrayBuffer) {
    if (buffer === undefined) {
      this.buffer = new SharedArrayBuffer(WORDS * 4);
      this.#i32 = new Int32Array(this.buffer);
      Atomics.store(this.#i32, 0, MAGIC);
    } else {
      this.buffer = bufferOf("Event", MAGIC, WORDS, buffer);
      this.#i32 = new Int32Array(this.buffer);
    }
  }

  /**
   * The event behind a value that crossed a worker boundary.
   *
   * @param value an `Event` (returned as is), its structured-cloned copy, or its buffer
   * @returns an `Event` on the same shared memory
   * @throws {TypeError} if `value` is not one of these
   */
  static from(value: unknown): Event {
    return value instanceof Event ? value : new Event(bufferOf("Event", MAGIC, WORDS, value));
  }

  /** Sets the flag and wakes every waiter (they return true even if `clear()` follows at once). */
  set(): void {
    Atomics.store(this.#i32, FLAG, 1);
    Atomics.add(this.#i32, SETS, 1);
    Atomics.notify(this.#i32, SETS);
  }

  /** Clears the flag: waiters from now on wait until the next `set()`. */
  clear(): void {
    Atomics.store(this.#i32, FLAG, 0);
  }

  /**
   * Whether the flag is set.
   *
   * @returns the flag
   */
  isSet(): boolean {
    return Atomics.load(this.#i32, FLAG) === 1;
  }

  /**
   * Waits, without blocking the thread, until the flag is set.
   *
   * @param options `timeout` in milliseconds (`0`: do not wait)
   * @returns the flag: `false` if the timeout passed first
   * @throws {RangeError} for a negative `timeout`
   */
  async wait(options?: SyncWaitOptions): Promise<boolean> {
    const end = deadline("wait for an Event", options);
    const sets = Atomics.load(this.#i32, SETS);
    // Set since this call began, even if cleared again: true.
    while (Atomics.load(this.#i32, FLAG) === 0 && Atomics.load(this.#i32, SETS) === sets) {
      if (!(await waitOn(this.#i32, SETS, sets, end))) return false;
    }
    return true;
  }

  /**
   * Blocks this Web Worker until the flag is set.
   *
   * @param options `timeout` in milliseconds (`0`: do not wait)
   * @returns the flag: `false` if the timeout passed first
   * @throws {InvalidStateError} on the main thread, which must never block
   * @throws {RangeError} for a negative `timeout`
   */
  waitSync(options?: SyncWaitOptions): boolean {
    refuseMainThread("Event.waitSync()", "await event.wait()");
    const end = deadline("wait for an Event", options);
    const sets = Atomics.load(this.#i32, SETS);
    while (Atomics.load(this.#i32, FLAG) === 0 && Atomics.load(this.#i32, SETS) === sets) {
      if (!blockOn(this.#i32, SETS, sets, end)) break;
    }
    // A task stopped before or during the wait does not go on, whatever the wait saw.
    refuseStopped();
    return Atomics.load(this.#i32, FLAG) !== 0 || Atomics.load(this.#i32, SETS) !== sets;
  }
}

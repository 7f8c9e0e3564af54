/**
 * {@linkcode Condition}: wait until another thread says that something changed, under a
 * {@linkcode Lock}.
 *
 * @module
 */

import { InvalidStateError } from "../future/errors.ts";
import { Guard, heldHere, LOCK_BASE, recoverHolder } from "./_guard.ts";
import { liveOwners, ownerId } from "./_owner.ts";
import {
  blockOn,
  bufferOf,
  checkInt,
  deadline,
  refuseMainThread,
  type SyncWaitOptions,
  waitOn,
} from "./_shared.ts";
import { awaitTicket, awaitTicketSync, takeTicket } from "./_tickets.ts";
import { Lock, type LockGuard } from "./lock.ts";

const MAGIC = 0x436f6e64; // "Cond"
// Waiters take numbers in order (under the lock); `notify(n)` moves SIGNALLED past the next n
// of them that still wait. A waiter whose timeout passed marks its number (under the lock again)
// so that notify skips it. Each waiter also records its thread (slot `number % MAX_WAITERS`):
// `acquire()` marks the numbers of waiters whose thread has died, so that notify skips them too.
const WAITERS = 1;
const SIGNALLED = 2;
const MARKS = 3;
const MAX_WAITERS = 1024;
const OWNERS = MARKS + MAX_WAITERS / 32;
const WORDS = OWNERS + MAX_WAITERS;

/**
 * A condition variable in a `SharedArrayBuffer`, like Python's `multiprocessing.Condition`: a
 * holder of its {@linkcode Lock} waits (releasing the lock meanwhile) until another holder calls
 * `notify()`; it then holds the lock again.
 *
 * Waiters are woken in the order they began waiting. `notify()` and `notifyAll()` must be called
 * while holding the lock. `wait()` waits without blocking; `waitSync()` blocks and is for Web
 * Workers only. Both return `false` if the timeout passed first; check the condition again, or
 * use `waitFor(predicate)`. Revive it in a task with {@linkcode Condition.from} (it carries its
 * lock along).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Condition } from "@concurrent/futures";
 *
 * const ready = new Condition();
 * const box: number[] = [];
 * const consumer = (async () => {
 *   await using held = await ready.acquire();
 *   await ready.waitFor(held, () => box.length > 0);
 *   return box.pop();
 * })();
 * {
 *   await using _held = await ready.acquire();
 *   box.push(42);
 *   ready.notify();
 * }
 * assert.equal(await consumer, 42);
 * ```
 */
export class Condition {
  /** The shared memory of the condition itself; it survives structured clone. */
  readonly buffer: SharedArrayBuffer;
  /** The lock that waiters and notifiers hold. */
  readonly lock: Lock;
  readonly #i32: Int32Array;

  /**
   * Creates a condition.
   *
   * @param lock the lock to use; a new one by default
   * @param buffer the memory of an existing condition (what {@linkcode Condition.from} passes);
   * omit it
   * @throws {TypeError} if `buffer` is not the memory of a condition
   */
  constructor(lock: Lock = new Lock(), buffer?: SharedArrayBuffer) {
    this.lock = Lock.from(lock);
    if (buffer === undefined) {
      this.buffer = new SharedArrayBuffer(WORDS * 4);
      this.#i32 = new Int32Array(this.buffer);
      Atomics.store(this.#i32, 0, MAGIC);
    } else {
      this.buffer = bufferOf("Condition", MAGIC, WORDS, buffer);
      this.#i32 = new Int32Array(this.buffer);
    }
  }

  /**
   * The condition behind a value that crossed a worker boundary.
   *
   * @param value a `Condition` (returned as is) or its structured-cloned copy
   * @returns a `Condition` on the same shared memory, with the same lock
   * @throws {TypeError} if `value` is not one of these
   */
  static from(value: unknown): Condition {
    if (value instanceof Condition) return value;
    const buffer = bufferOf("Condition", MAGIC, WORDS, value);
    return new Condition(Lock.from((value as { lock?: unknown }).lock), buffer);
  }

  /**
   * Waits for the lock without blocking (`lock.acquire()`), then, holding it, marks the waiters
   * whose worker has ended while they waited, so that `notify()` skips them.
   *
   * @param options `timeout` in milliseconds
   * @returns a guard that holds the lock
   * @throws {TimeoutError} if the lock is not acquired within `timeout`
   */
  async acquire(options?: SyncWaitOptions): Promise<LockGuard> {
    const held = await this.lock.acquire(options);
    try {
      await this.#reap();
    } catch (error) {
      held.release();
      throw error;
    }
    return held;
  }

  /**
   * Blocks this Web Worker until it holds the lock: `lock.acquireSync()`. It cannot tell dead
   * waiters (that takes an async look): `notify()` after it counts them as woken.
   *
   * @param options `timeout` in milliseconds
   * @returns a guard that holds the lock
   * @throws {InvalidStateError} on the main thread
   * @throws {TimeoutError} if the lock is not acquired within `timeout`
   */
  acquireSync(options?: SyncWaitOptions): LockGuard {
    return this.lock.acquireSync(options);
  }

  /**
   * Releases the lock held by `held`, waits without blocking for a `notify()`, and takes the lock
   * back (into the same guard) before returning.
   *
   * @param held the guard that holds this condition's lock
   * @param options `timeout` in milliseconds for the notification (taking the lock back is not
   * timed)
   * @returns true if notified, false if the timeout passed first
   * @throws {InvalidStateError} if `held` does not hold this condition's lock
   * @throws {RangeError} for a negative `timeout`, or when 1024 callers wait already
   */
  async wait(held: LockGuard, options?: SyncWaitOptions): Promise<boolean> {
    const end = deadline("wait on a Condition", options);
    const guard = this.#enter(held);
    const w = this.#ticket();
    guard.release();
    let notified = true;
    while (true) {
      const signalled = Atomics.load(this.#i32, SIGNALLED);
      if (((w - signalled) | 0) < 0) break;
      if (!(await waitOn(this.#i32, SIGNALLED, signalled, end))) {
        notified = false;
        break;
      }
    }
    const i32 = new Int32Array(this.lock.buffer);
    const t = takeTicket(i32, LOCK_BASE, "take back a Condition's lock");
    await awaitTicket(i32, LOCK_BASE, t, Infinity, "Lock", () => recoverHolder(i32));
    return this.#leave(guard, t, w, notified);
  }

  /**
   * The blocking form of {@linkcode Condition.wait}, for Web Workers.
   *
   * @param held the guard that holds this condition's lock
   * @param options `timeout` in milliseconds for the notification
   * @returns true if notified, false if the timeout passed first
   * @throws {InvalidStateError} on the main thread, or if `held` does not hold the lock
   * @throws {RangeError} for a negative `timeout`, or when 1024 callers wait already
   */
  waitSync(held: LockGuard, options?: SyncWaitOptions): boolean {
    refuseMainThread("Condition.waitSync()", "await condition.wait(held)");
    const end = deadline("wait on a Condition", options);
    const guard = this.#enter(held);
    const w = this.#ticket();
    guard.release();
    let notified = true;
    while (true) {
      const signalled = Atomics.load(this.#i32, SIGNALLED);
      if (((w - signalled) | 0) < 0) break;
      if (!blockOn(this.#i32, SIGNALLED, signalled, end)) {
        notified = false;
        break;
      }
    }
    const i32 = new Int32Array(this.lock.buffer);
    const t = takeTicket(i32, LOCK_BASE, "take back a Condition's lock");
    awaitTicketSync(i32, LOCK_BASE, t, Infinity, "Lock");
    return this.#leave(guard, t, w, notified);
  }

  /**
   * Waits (without blocking) until `predicate()` is true, checking it under the lock each time
   * the condition is notified.
   *
   * @param held the guard that holds this condition's lock
   * @param predicate what to wait for
   * @param options `timeout` in milliseconds, for the whole wait
   * @returns the last value of `predicate()`: false only if the timeout passed
   * @throws {InvalidStateError} if `held` does not hold the lock; what `predicate` throws
   */
  async waitFor(
    held: LockGuard,
    predicate: () => boolean,
    options?: SyncWaitOptions,
  ): Promise<boolean> {
    const end = deadline("wait on a Condition", options);
    while (!predicate()) {
      const timeout = end - performance.now();
      if (timeout <= 0) return false;
      await this.wait(held, end === Infinity ? undefined : { timeout });
    }
    return true;
  }

  /**
   * The blocking form of {@linkcode Condition.waitFor}, for Web Workers.
   *
   * @param held the guard that holds this condition's lock
   * @param predicate what to wait for
   * @param options `timeout` in milliseconds, for the whole wait
   * @returns the last value of `predicate()`: false only if the timeout passed
   * @throws {InvalidStateError} on the main thread, or if `held` does not hold the lock
   */
  waitForSync(held: LockGuard, predicate: () => boolean, options?: SyncWaitOptions): boolean {
    const end = deadline("wait on a Condition", options);
    while (!predicate()) {
      const timeout = end - performance.now();
      if (timeout <= 0) return false;
      this.waitSync(held, end === Infinity ? undefined : { timeout });
    }
    return true;
  }

  /**
   * Wakes up to `n` waiters, the longest-waiting first. Call it while holding the lock. Waiters
   * that gave up (a timeout), or whose worker has died (found by `acquire()`), are skipped: the
   * next live ones are woken instead.
   *
   * @param n how many to wake
   * @default {1}
   * @returns how many live waiters were woken
   * @throws {InvalidStateError} if this thread does not hold the lock (Python: `RuntimeError`)
   * @throws {RangeError} if `n` is not a non-negative integer
   */
  notify(n = 1): number {
    if (n !== Infinity) checkInt("notify a Condition", "n", n, 0, 2 ** 31 - 1);
    if (!heldHere(new Int32Array(this.lock.buffer))) {
      throw new InvalidStateError(
        "Cannot notify a Condition without holding its lock: this thread does not hold it",
      );
    }
    let woken = 0;
    while (woken < n) {
      const s = Atomics.load(this.#i32, SIGNALLED);
      if (s === Atomics.load(this.#i32, WAITERS)) break;
      const word = MARKS + ((s >>> 5) & (MAX_WAITERS / 32 - 1));
      const bit = 1 << (s & 31);
      const gaveUp = (Atomics.and(this.#i32, word, ~bit) & bit) !== 0;
      Atomics.store(this.#i32, SIGNALLED, (s + 1) | 0);
      if (!gaveUp) woken++;
    }
    if (woken > 0) Atomics.notify(this.#i32, SIGNALLED);
    return woken;
  }

  /**
   * Wakes every waiter. Call it while holding the lock.
   *
   * @returns how many live waiters were woken
   * @throws {InvalidStateError} if this thread does not hold the lock
   */
  notifyAll(): number {
    return this.notify(Infinity);
  }

  #enter(held: LockGuard): Guard {
    if (
      !(held instanceof Guard) || held.i32.buffer !== this.lock.buffer || !held.held
    ) {
      throw new InvalidStateError("Cannot wait on a Condition without holding its lock");
    }
    return held;
  }

  #ticket(): number {
    const waiters = Atomics.load(this.#i32, WAITERS);
    if (((waiters - Atomics.load(this.#i32, SIGNALLED)) | 0) >= MAX_WAITERS) {
      throw new RangeError(
        `Cannot wait on a Condition as ${MAX_WAITERS} callers are waiting already: received one more`,
      );
    }
    Atomics.store(this.#i32, OWNERS + (waiters & (MAX_WAITERS - 1)), ownerId());
    Atomics.store(this.#i32, WAITERS, (waiters + 1) | 0);
    return waiters;
  }

  /** Under the lock: marks the numbers of waiters whose thread has died, as if they gave up. */
  async #reap(): Promise<void> {
    const me = ownerId();
    const others = (): number[] => {
      const found = [];
      const end = Atomics.load(this.#i32, WAITERS);
      for (let w = Atomics.load(this.#i32, SIGNALLED); w !== end; w = (w + 1) | 0) {
        const owner = Atomics.load(this.#i32, OWNERS + (w & (MAX_WAITERS - 1)));
        if (owner !== 0 && owner !== me) found.push(w);
      }
      return found;
    };
    if (others().length === 0) return;
    const alive = await liveOwners();
    // Still under the lock: no waiter came or went meanwhile, but look again all the same.
    for (const w of others()) {
      if (alive(Atomics.load(this.#i32, OWNERS + (w & (MAX_WAITERS - 1))))) continue;
      Atomics.or(this.#i32, MARKS + ((w >>> 5) & (MAX_WAITERS / 32 - 1)), 1 << (w & 31));
    }
  }

  #leave(guard: Guard, ticket: number, w: number, notified: boolean): boolean {
    guard.hold(ticket);
    if (notified) return true;
    // Under the lock again: notified meanwhile, or else make notify() skip this number.
    if (((w - Atomics.load(this.#i32, SIGNALLED)) | 0) < 0) return true;
    Atomics.or(this.#i32, MARKS + ((w >>> 5) & (MAX_WAITERS / 32 - 1)), 1 << (w & 31));
    // Numbers given up at the head of the line leave it now, as notify() would pass over them:
    // a caller that waits with a timeout again and again, and is never notified, would otherwise
    // fill the line.
    while (true) {
      const s = Atomics.load(this.#i32, SIGNALLED);
      if (s === Atomics.load(this.#i32, WAITERS)) break;
      const word = MARKS + ((s >>> 5) & (MAX_WAITERS / 32 - 1));
      const bit = 1 << (s & 31);
      if ((Atomics.load(this.#i32, word) & bit) === 0) break;
      Atomics.and(this.#i32, word, ~bit);
      Atomics.store(this.#i32, SIGNALLED, (s + 1) | 0);
    }
    return false;
  }
}

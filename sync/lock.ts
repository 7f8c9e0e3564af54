/**
 * {@linkcode Lock}: a fair mutual-exclusion lock in shared memory, for the main thread and Web
 * Workers.
 *
 * @module
 */

import { InvalidStateError, TimeoutError } from "../future/errors.ts";
import {
  forceRelease,
  Guard,
  LOCK_BASE as BASE,
  LOCK_WORDS as WORDS,
  recover,
  recoverHolder,
  releaseHere,
} from "./_guard.ts";
import { bufferOf, deadline, refuseMainThread, type SyncWaitOptions } from "./_shared.ts";
import {
  awaitTicket,
  awaitTicketSync,
  givenUp,
  initTickets,
  outstanding,
  takeTicket,
  tryTicket,
} from "./_tickets.ts";

const MAGIC = 0x4c6f636b; // "Lock"

/**
 * Holding a {@linkcode Lock}: release it with `release()`, or let `using` / `await using` do it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lock } from "@concurrent/futures";
 *
 * const lock = new Lock();
 * {
 *   using _held = await lock.acquire();
 *   assert(lock.locked());
 * }
 * assert(!lock.locked());
 * ```
 */
export interface LockGuard extends Disposable, AsyncDisposable {
  /**
   * Whether this guard still holds the lock: false once released, or once the lock was taken
   * from it with `Lock.forceRelease()`.
   */
  readonly held: boolean;
  /**
   * Whether the previous holder's thread died holding the lock, and the lock was taken back from
   * it (by a waiting `acquire()` or by `Lock.recover()`): what it guarded may be half-updated.
   */
  readonly abandoned: boolean;
  /**
   * Releases the lock: the longest waiter gets it next. `using` calls it, unless the hold is over
   * already (released by this call or `Lock.release()`, or taken with `Lock.forceRelease()`).
   *
   * @throws {InvalidStateError} if this guard released it already, or the hold ended otherwise
   * (`Lock.release()`, `Lock.forceRelease()`)
   */
  release(): void;
}

/**
 * A mutual-exclusion lock in a `SharedArrayBuffer`, like Python's `multiprocessing.Lock`, that
 * works the same on the main thread and in Web Workers (`WorkerPoolExecutor` tasks, actors).
 *
 * - Fair: waiters get the lock in the order they asked for it (a ticket lock), so none starves.
 * - `acquire()` waits without blocking (any thread); `acquireSync()` blocks, and only a Web Worker
 *   may call it: on the main thread it throws, since it would freeze the event loop.
 * - Passing it to a task: the lock's only state is its {@linkcode Lock.buffer}; structured clone
 *   keeps the buffer shared but turns the object into a plain `{ buffer }`. Revive it in the task
 *   with {@linkcode Lock.from} (which returns a real `Lock` unchanged, so the same task code runs on
 *   `AsyncPoolExecutor` too).
 * - A holder whose worker ends while holding the lock (`self.close()`, `Deno.exit()`, an uncaught
 *   error, or the pool stopping it at a task timeout) does not block the others forever. Each
 *   worker that takes a lock is registered with a Web Lock (`navigator.locks`) that Deno releases
 *   when the worker ends; a waiting `acquire()` checks every 100 ms whether the holder is still
 *   alive and, if it is not, takes the lock back and hands it on in line: the new holder's guard
 *   has `abandoned: true`, since what the lock guarded may be half-updated. Blocking waiters
 *   (`acquireSync()`) cannot run that check; {@linkcode Lock.recover} does it for them (call it
 *   when a task rejects with `WorkerCrashedError`), and a `timeout` bounds any wait. A worker that
 *   ends while still *waiting* in line does not block the others either: each waiter records its
 *   worker with its ticket, and the same check gives up the place of a dead one (as a timeout
 *   would have). A live
 *   holder is never taken over (a worker spinning after `terminate()` is still alive), nor is the
 *   main thread. {@linkcode Lock.forceRelease} takes the lock from any holder; that holder's
 *   `release()` then throws `InvalidStateError` rather than releasing someone else's hold.
 * - Not reentrant: a holder that asks again waits for itself.
 * - `ProcessPoolExecutor` cannot share memory: a task given a `Lock` is refused with a
 *   `TypeError`.
 *
 * @example Across workers
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lock, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * const lock = new Lock();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
 * const add = async (shared: unknown, cells: Int32Array, times: number) => {
 *   const { Lock } = await import("@concurrent/futures");
 *   const lock = Lock.from(shared);
 *   for (let i = 0; i < times; i++) {
 *     using _held = lock.acquireSync();
 *     cells[0] = cells[0]! + 1; // not atomic: the lock makes it safe
 *   }
 * };
 * await Promise.all([pool.submit(add, lock, counter, 1000), pool.submit(add, lock, counter, 1000)]);
 * assert.equal(counter[0], 2000);
 * ```
 */
export class Lock {
  /** The shared memory that is the lock's whole state; it survives structured clone. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;

  /**
   * Creates an unlocked lock.
   *
   * @param buffer the memory of an existing lock (what {@linkcode Lock.from} passes); omit it
   * @throws {TypeError} if `buffer` is not the memory of a lock
   */
  constructor(buffer?: SharedArrayBuffer) {
    if (buffer === undefined) {
      this.buffer = new SharedArrayBuffer(WORDS * 4);
      this.#i32 = new Int32Array(this.buffer);
      initTickets(this.#i32, BASE, 1);
      Atomics.store(this.#i32, 0, MAGIC);
    } else {
      this.buffer = bufferOf("Lock", MAGIC, WORDS, buffer);
      this.#i32 = new Int32Array(this.buffer);
    }
  }

  /**
   * The lock behind a value that crossed a worker boundary.
   *
   * @param value a `Lock` (returned as is), its structured-cloned copy, or its buffer
   * @returns a `Lock` on the same shared memory
   * @throws {TypeError} if `value` is not one of these
   */
  static from(value: unknown): Lock {
    return value instanceof Lock ? value : new Lock(bufferOf("Lock", MAGIC, WORDS, value));
  }

  /**
   * Waits for the lock without blocking the thread.
   *
   * @param options `timeout` in milliseconds (`0`: only if free now)
   * @returns a guard that holds the lock
   * @throws {TimeoutError} if the lock is not acquired within `timeout`
   * @throws {RangeError} for a negative `timeout`, or when 1024 callers wait already
   */
  async acquire(options?: SyncWaitOptions): Promise<LockGuard> {
    const end = deadline("acquire a Lock", options);
    const t = takeTicket(this.#i32, BASE, "acquire a Lock");
    const i32 = this.#i32;
    if (!(await awaitTicket(i32, BASE, t, end, "Lock", () => recoverHolder(i32)))) {
      throw timedOut(options);
    }
    return new Guard(this.#i32, t);
  }

  /**
   * Blocks this Web Worker until it holds the lock.
   *
   * @param options `timeout` in milliseconds (`0`: only if free now)
   * @returns a guard that holds the lock
   * @throws {InvalidStateError} on the main thread, which must never block
   * @throws {TimeoutError} if the lock is not acquired within `timeout`
   * @throws {RangeError} for a negative `timeout`, or when 1024 callers wait already
   */
  acquireSync(options?: SyncWaitOptions): LockGuard {
    refuseMainThread("Lock.acquireSync()", "await lock.acquire()");
    const end = deadline("acquire a Lock", options);
    const t = takeTicket(this.#i32, BASE, "acquire a Lock");
    if (!awaitTicketSync(this.#i32, BASE, t, end, "Lock")) throw timedOut(options);
    return new Guard(this.#i32, t);
  }

  /**
   * Takes the lock if it is free now, on any thread.
   *
   * @returns a guard that holds the lock, or `undefined` if it is held
   */
  tryAcquire(): LockGuard | undefined {
    const t = tryTicket(this.#i32, BASE);
    return t === undefined ? undefined : new Guard(this.#i32, t);
  }

  /**
   * Runs `fn` while holding the lock, and releases it however `fn` ends.
   *
   * @param fn the critical section
   * @param options `timeout` for acquiring
   * @returns what `fn` returns
   * @throws {TimeoutError} if the lock is not acquired within `timeout`; whatever `fn` throws
   */
  async run<R>(fn: () => R, options?: SyncWaitOptions): Promise<Awaited<R>> {
    using _held = await this.acquire(options);
    return await fn();
  }

  /**
   * Releases the lock held by this thread (the main thread, or this Web Worker), as Python's
   * `lock.release()` does after `lock.acquire()`: the longest waiter gets it next. The guard of
   * that hold stops holding (`held` is false, and `using` does nothing more). Unlike Python's
   * `threading.Lock`, which any thread may release, only the holder's thread may: a lock held by
   * another worker is refused, so a task cannot release a hold it does not know about.
   *
   * @throws {InvalidStateError} if this thread does not hold the lock
   *
   * @example Python's acquire / release
   * ```ts
   * import assert from "node:assert/strict";
   * import { InvalidStateError, Lock } from "@concurrent/futures";
   *
   * const lock = new Lock();
   * await lock.acquire();
   * try {
   *   assert(lock.locked()); // the critical section
   * } finally {
   *   lock.release();
   * }
   * assert(!lock.locked());
   * assert.throws(() => lock.release(), InvalidStateError);
   * ```
   */
  release(): void {
    if (!releaseHere(this.#i32)) {
      throw new InvalidStateError("Cannot release a Lock that this thread does not hold");
    }
  }

  /**
   * Whether someone holds the lock.
   *
   * @returns true while held
   */
  locked(): boolean {
    return outstanding(this.#i32, BASE) > 0;
  }

  /**
   * How many callers wait for the lock (not counting the holder).
   *
   * @returns the number of waiters
   */
  get waiting(): number {
    return Math.max(0, outstanding(this.#i32, BASE) - 1 - givenUp(this.#i32, BASE));
  }

  /**
   * Takes the lock from its holder, whoever it is, and gives it to the next waiter: the way out
   * when a holder's worker died (its task's future rejected with `WorkerCrashedError`). The old
   * holder's guard stops holding: its `release()` throws `InvalidStateError`.
   *
   * @returns true if the lock was held, false if it was free
   */
  forceRelease(): boolean {
    return forceRelease(this.#i32);
  }

  /**
   * Takes the lock back if its holder's worker has ended (`self.close()`, `Deno.exit()`, an
   * uncaught error, `terminate()`), and gives it to the next waiter, whose guard then says
   * `abandoned`; and gives up the places in line of waiters whose worker has ended while they
   * waited. A live holder keeps it. A waiting `acquire()` does this by itself every 100 ms;
   * blocking waiters (`acquireSync()`) cannot, so whoever learns of the death calls this.
   *
   * @returns true if the lock was taken back from a dead holder, or a dead waiter's place was
   * given up
   */
  recover(): Promise<boolean> {
    return recover(this.#i32);
  }
}

function timedOut(options: SyncWaitOptions | undefined): TimeoutError {
  return new TimeoutError(`the Lock was not acquired within ${options?.timeout} ms`);
}

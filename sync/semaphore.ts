/**
 * {@linkcode Semaphore}: a fair counting semaphore in shared memory, for the main thread and Web
 * Workers.
 *
 * @module
 */

import { TimeoutError } from "../future/errors.ts";
import { bufferOf, checkInt, deadline, refuseMainThread, type SyncWaitOptions } from "./_shared.ts";
import {
  awaitTicket,
  awaitTicketSync,
  givenUp,
  initTickets,
  leaveLine,
  outstanding,
  permitsOf,
  recoverWaiters,
  release,
  takeTicket,
  TICKET_WORDS,
  tryTicket,
} from "./_tickets.ts";

const MAGIC = 0x53656d61; // "Sema"
const BASE = 1;
const WORDS = BASE + TICKET_WORDS;

/**
 * A permit taken from a {@linkcode Semaphore}: give it back with `release()`, or let `using` /
 * `await using` do it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Semaphore } from "@concurrent/futures";
 *
 * const semaphore = new Semaphore(1);
 * {
 *   using _permit = await semaphore.acquire();
 *   assert.equal(semaphore.value, 0);
 * }
 * assert.equal(semaphore.value, 1);
 * ```
 */
export interface Permit extends Disposable, AsyncDisposable {
  /** Gives the permit back; later calls do nothing. */
  release(): void;
}

/**
 * A counting semaphore in a `SharedArrayBuffer`, like Python's `multiprocessing.Semaphore`: at
 * most `permits` holders at a time, on the main thread and in Web Workers.
 *
 * Waiters are served in the order they asked (FIFO), so none starves. `acquire()` waits without
 * blocking; `acquireSync()` blocks and is for Web Workers only. `release()` on the semaphore
 * itself adds a permit, whoever calls it (a semaphore used as a signal); as in Python, releasing
 * more than was taken raises the count. Pass it to a task as it is and revive it there with
 * {@linkcode Semaphore.from}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Semaphore } from "@concurrent/futures";
 *
 * const slots = new Semaphore(2);
 * const a = await slots.acquire();
 * await using _b = await slots.acquire();
 * assert.equal(slots.value, 0);
 * assert.equal(slots.tryAcquire(), undefined);
 * a.release();
 * assert.equal(slots.value, 1);
 * ```
 */
export class Semaphore {
  /** The shared memory that is the semaphore's whole state; it survives structured clone. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;

  /**
   * Creates a semaphore with `permits` permits free.
   *
   * @param permits how many may hold it at once; or the buffer of an existing semaphore
   * @default {1}
   * @throws {RangeError} if `permits` is not an integer from 0 to 2^30
   */
  constructor(permits: number | SharedArrayBuffer = 1) {
    if (permits instanceof SharedArrayBuffer) {
      this.buffer = bufferOf("Semaphore", MAGIC, WORDS, permits);
      this.#i32 = new Int32Array(this.buffer);
      return;
    }
    checkInt("create a Semaphore", "permits", permits, 0, 2 ** 30);
    this.buffer = new SharedArrayBuffer(WORDS * 4);
    this.#i32 = new Int32Array(this.buffer);
    initTickets(this.#i32, BASE, permits);
    Atomics.store(this.#i32, 0, MAGIC);
  }

  /**
   * The semaphore behind a value that crossed a worker boundary.
   *
   * @param value a `Semaphore` (returned as is), its structured-cloned copy, or its buffer
   * @returns a `Semaphore` on the same shared memory
   * @throws {TypeError} if `value` is not one of these
   */
  static from(value: unknown): Semaphore {
    if (value instanceof Semaphore) return value;
    return new Semaphore(bufferOf("Semaphore", MAGIC, WORDS, value));
  }

  /**
   * Waits for a permit without blocking the thread.
   *
   * @param options `timeout` in milliseconds (`0`: only if one is free now)
   * @returns the permit
   * @throws {TimeoutError} if no permit is free within `timeout`
   * @throws {RangeError} for a negative `timeout`, or when 1024 callers wait already
   */
  async acquire(options?: SyncWaitOptions): Promise<Permit> {
    const end = deadline("acquire a Semaphore", options);
    const t = takeTicket(this.#i32, BASE, "acquire a Semaphore");
    if (!(await awaitTicket(this.#i32, BASE, t, end, "Semaphore"))) throw timedOut(options);
    leaveLine(this.#i32, BASE, t);
    return permit(this.#i32);
  }

  /**
   * Blocks this Web Worker until it has a permit.
   *
   * @param options `timeout` in milliseconds (`0`: only if one is free now)
   * @returns the permit
   * @throws {InvalidStateError} on the main thread, which must never block
   * @throws {TimeoutError} if no permit is free within `timeout`
   * @throws {RangeError} for a negative `timeout`, or when 1024 callers wait already
   */
  acquireSync(options?: SyncWaitOptions): Permit {
    refuseMainThread("Semaphore.acquireSync()", "await semaphore.acquire()");
    const end = deadline("acquire a Semaphore", options);
    const t = takeTicket(this.#i32, BASE, "acquire a Semaphore");
    if (!awaitTicketSync(this.#i32, BASE, t, end, "Semaphore")) throw timedOut(options);
    leaveLine(this.#i32, BASE, t);
    return permit(this.#i32);
  }

  /**
   * Takes a permit if one is free now and nobody waits before this caller.
   *
   * @returns the permit, or `undefined`
   */
  tryAcquire(): Permit | undefined {
    return tryTicket(this.#i32, BASE) === undefined ? undefined : permit(this.#i32);
  }

  /**
   * Runs `fn` while holding a permit, and gives it back however `fn` ends: `Lock.run()` for a
   * semaphore.
   *
   * @param fn the section that needs a permit
   * @param options `timeout` for acquiring
   * @returns what `fn` returns
   * @throws {TimeoutError} if no permit is free within `timeout`; whatever `fn` throws
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@concurrent/futures";
   *
   * const slots = new Semaphore(2);
   * let inside = 0;
   * let most = 0;
   * const visit = () =>
   *   slots.run(async () => {
   *     most = Math.max(most, ++inside);
   *     await Promise.resolve();
   *     inside--;
   *   });
   * await Promise.all([visit(), visit(), visit(), visit()]);
   * assert.equal(most, 2);
   * assert.equal(slots.value, 2);
   * ```
   */
  async run<R>(fn: () => R, options?: SyncWaitOptions): Promise<Awaited<R>> {
    using _permit = await this.acquire(options);
    return await fn();
  }

  /**
   * Adds a permit: the longest waiter gets it.
   */
  release(): void {
    release(this.#i32, BASE);
  }

  /**
   * Gives up the places in line of waiters whose worker has ended while they waited
   * (`self.close()`, `Deno.exit()`, an uncaught error, `terminate()`), so that the permits they
   * would have got go to the next ones; a permit such a waiter was given and never took comes
   * back. A waiting `acquire()` does this by itself every 100 ms; blocking waiters
   * (`acquireSync()`) cannot, so whoever learns of the death calls this. A permit held by a worker
   * that died is not given back (as in Python): `release()` adds one.
   *
   * @returns how many waiters' places were given up
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Semaphore } from "@concurrent/futures";
   *
   * const semaphore = new Semaphore(1);
   * assert.equal(await semaphore.recover(), 0); // nobody waits
   * ```
   */
  recover(): Promise<number> {
    return recoverWaiters(this.#i32, BASE, "Semaphore");
  }

  /**
   * Permits free now (0 while callers wait).
   *
   * @returns the number of free permits
   */
  get value(): number {
    return Math.max(0, permitsOf(this.#i32, BASE) - outstanding(this.#i32, BASE));
  }

  /**
   * How many callers wait for a permit.
   *
   * @returns the number of waiters
   */
  get waiting(): number {
    const waiting = outstanding(this.#i32, BASE) - permitsOf(this.#i32, BASE);
    return Math.max(0, waiting - givenUp(this.#i32, BASE));
  }
}

function permit(i32: Int32Array): Permit {
  let done = false;
  const give = () => {
    if (done) return;
    done = true;
    release(i32, BASE);
  };
  return {
    release: give,
    [Symbol.dispose]: give,
    [Symbol.asyncDispose]: () => Promise.resolve(give()),
  };
}

function timedOut(options: SyncWaitOptions | undefined): TimeoutError {
  return new TimeoutError(`no Semaphore permit was free within ${options?.timeout} ms`);
}

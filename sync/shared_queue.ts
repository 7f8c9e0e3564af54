/**
 * {@linkcode SharedQueue}: a bounded queue of structured values in shared memory, between the
 * main thread and Web Workers.
 *
 * @module
 */

import { QueueClosedError, TimeoutError } from "../future/errors.ts";

export { QueueClosedError };
import { decode, encode, encodeAsync, type Encoding, ENCODINGS } from "./_codec.ts";
import { lockAsync, lockSync, MUTEX_WORDS, takeOver, testHooks, unlock } from "./_mutex.ts";
import { checkOptionsArgument } from "../future/_options.ts";
import {
  blockOn,
  bufferOf,
  checkInt,
  deadline,
  refuseMainThread,
  show,
  stoppedError,
  type SyncWaitOptions,
  waitOn,
} from "./_shared.ts";

const MAGIC = 0x51756575; // "Queu"
const QUEUE_KEYS = ["maxBytes", "maxItems", "encoding"] as const;
// Word 1 is unused (the mutex's old place).
const HEAD = 2; // where the oldest item starts in the ring
const TAIL = 3; // where the next item goes
const USED = 4; // bytes in the ring
const COUNT = 5; // items in the ring
const MAX_ITEMS = 6;
const CAPACITY = 7;
const CLOSED = 8;
const PUTS = 9; // bumped by each put and by close(): getters sleep on it
const GETS = 10; // bumped by each get and by close(): putters sleep on it
const ENCODING = 11;
// A change to HEAD, TAIL, USED and COUNT is written here first, then applied: a thread that
// dies applying it leaves the whole change for the next holder of the mutex to apply again.
const JOURNAL = 12; // 1 while the four words below are to be applied
const J_HEAD = 13;
const J_TAIL = 14;
const J_USED = 15;
const J_COUNT = 16;
const MUTEX = 17; // MUTEX_WORDS words: see _mutex.ts
const HEADER = MUTEX + MUTEX_WORDS;
/** Each item is its length (4 bytes, little-endian) and its encoded bytes. */
const PREFIX = 4;
/** Checks before a blocking wait sleeps. */
const SPINS = 200;

/**
 * Options for {@linkcode SharedQueue}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedQueue, TimeoutError } from "@concurrent/futures";
 *
 * const queue = new SharedQueue<string>({ maxItems: 1, maxBytes: 1024, encoding: "structured" });
 * await queue.put("a");
 * await assert.rejects(queue.put("b", { timeout: 0 }), TimeoutError); // maxItems reached
 * await assert.rejects(queue.put("x".repeat(2048)), RangeError); // larger than maxBytes
 * assert.equal(await queue.get(), "a");
 * ```
 */
export interface SharedQueueOptions {
  /**
   * The ring's size in bytes; each item takes 4 bytes more than its encoding.
   * @default {1048576}
   */
  maxBytes?: number;
  /**
   * The most items the queue holds.
   * @default {Infinity}
   */
  maxItems?: number;
  /**
   * How values become bytes: `"structured"` gives what `structuredClone()` gives (`Map`, `Set`,
   * `Date`, typed arrays, `BigInt`, `undefined`, cycles, and its `DataCloneError` for what it
   * refuses), except that shared memory and a `CryptoKey` are refused, a `Proxy` is copied
   * through its traps, and a `Blob` or `File` needs `put()`; `"json"` is faster for plain data
   * and turns the rest into JSON.
   * @default {"structured"}
   */
  encoding?: Encoding;
}

/**
 * A bounded first-in first-out queue in a `SharedArrayBuffer`, like Python's
 * `multiprocessing.Queue`, for any number of producers and consumers on the main thread and in
 * Web Workers: pipelines between pools with no round trip through the main thread.
 *
 * - Values are encoded into a ring of bytes (see {@linkcode SharedQueueOptions.encoding}); what
 *   comes out is a copy, as with `postMessage`.
 * - Bounded twice: `maxBytes` and `maxItems`. A full queue makes `put()` wait (or time out);
 *   an item larger than the whole ring is refused with a `RangeError`.
 * - `put()` / `get()` wait without blocking the thread; `putSync()` / `getSync()` block and are
 *   for Web Workers only. `{ timeout: 0 }` means "only if possible now".
 * - `close()`: `put()` throws {@linkcode QueueClosedError} from then on; `get()` returns what is
 *   left, then throws it; `for await` ends there.
 * - Items leave in the order they were put; waiting callers are woken together and race for the
 *   queue (no order among them is promised).
 * - Pass it to a task as it is and revive it there with {@linkcode SharedQueue.from}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SharedQueue } from "@concurrent/futures";
 *
 * const queue = new SharedQueue({ maxItems: 2 });
 * await queue.put({ id: 1, at: new Date(0) });
 * await queue.put(new Map([["a", 1]]));
 * await assert.rejects(queue.put(3, { timeout: 0 })); // full
 * queue.close();
 * const got = [];
 * for await (const item of queue) got.push(item);
 * assert.deepEqual(got, [{ id: 1, at: new Date(0) }, new Map([["a", 1]])]);
 * ```
 */
export class SharedQueue<T = unknown> implements AsyncIterable<T> {
  /** The shared memory that is the queue's whole state; it survives structured clone. */
  readonly buffer: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #ring: Uint8Array;
  readonly #capacity: number;
  readonly #encoding: number;

  /**
   * Creates an empty queue.
   *
   * @param options capacity and encoding; or the buffer of an existing queue
   * @throws {RangeError} if `maxBytes` is not an integer from 16 to 2^31 - 64, or `maxItems` not
   * a positive integer
   * @throws {TypeError} for an unknown `encoding`
   */
  constructor(options?: SharedQueueOptions | SharedArrayBuffer) {
    if (options instanceof SharedArrayBuffer) {
      this.buffer = bufferOf("SharedQueue", MAGIC, HEADER, options);
      this.#i32 = new Int32Array(this.buffer, 0, HEADER);
    } else {
      const what = "create a SharedQueue";
      // `SharedQueue(5)` as Python's `Queue(maxsize)` is refused with a hint.
      checkOptionsArgument(what, options, QUEUE_KEYS, "maxItems");
      const maxBytes = checkInt(what, "maxBytes", options?.maxBytes ?? 1 << 20, 16, 2 ** 31 - 64);
      const maxItems = options?.maxItems === undefined || options.maxItems === Infinity
        ? 0x7fff_ffff
        : checkInt(what, "maxItems", options.maxItems, 1, 0x7fff_ffff);
      const encoding = ENCODINGS.indexOf(options?.encoding ?? "structured");
      if (encoding < 0) {
        throw new TypeError(
          `Cannot ${what} as 'encoding' must be "structured" or "json": received ${
            show(options?.encoding)
          }`,
        );
      }
      this.buffer = new SharedArrayBuffer(HEADER * 4 + maxBytes);
      this.#i32 = new Int32Array(this.buffer, 0, HEADER);
      Atomics.store(this.#i32, MAX_ITEMS, maxItems);
      Atomics.store(this.#i32, CAPACITY, maxBytes);
      Atomics.store(this.#i32, ENCODING, encoding);
      Atomics.store(this.#i32, 0, MAGIC);
    }
    this.#capacity = Atomics.load(this.#i32, CAPACITY);
    this.#encoding = Atomics.load(this.#i32, ENCODING);
    const room = this.buffer.byteLength - HEADER * 4;
    if (this.#capacity < 16 || this.#capacity > room || !ENCODINGS[this.#encoding]) {
      throw new TypeError(
        `Cannot revive a SharedQueue as its buffer is damaged: its header says ${this.#capacity} bytes of items (${room} follow it) and encoding ${this.#encoding}`,
      );
    }
    this.#ring = new Uint8Array(this.buffer, HEADER * 4, this.#capacity);
  }

  /**
   * The queue behind a value that crossed a worker boundary.
   *
   * @param value a `SharedQueue` (returned as is), its structured-cloned copy, or its buffer
   * @returns a `SharedQueue` on the same shared memory
   * @throws {TypeError} if `value` is not one of these
   */
  static from<T = unknown>(value: unknown): SharedQueue<T> {
    if (value instanceof SharedQueue) return value as SharedQueue<T>;
    return new SharedQueue<T>(bufferOf("SharedQueue", MAGIC, HEADER, value));
  }

  /**
   * Items in the queue now.
   *
   * @returns the number of items
   */
  get size(): number {
    return Atomics.load(this.#i32, COUNT);
  }

  /**
   * Bytes the items in the queue take now, prefixes included.
   *
   * @returns the number of bytes used
   */
  get bytes(): number {
    return Atomics.load(this.#i32, USED);
  }

  /**
   * Whether `close()` was called.
   *
   * @returns true once closed
   */
  get closed(): boolean {
    return Atomics.load(this.#i32, CLOSED) === 1;
  }

  /**
   * Adds a value at the end, waiting without blocking while the queue is full.
   *
   * @param value a value the queue's encoding can carry
   * @param options `timeout` in milliseconds (`0`: only if there is room now)
   * @returns a promise that settles once the value is in the queue
   * @throws {QueueClosedError} if the queue is closed
   * @throws {TimeoutError} if there is no room within `timeout`
   * @throws {RangeError} if the encoded value is larger than the whole queue
   * @throws {DOMException} `DataCloneError` if the value cannot be encoded
   */
  async put(value: T, options?: SyncWaitOptions): Promise<void> {
    const end = deadline("put into a SharedQueue", options);
    const encoded = this.#encode(value, true);
    const bytes = encoded instanceof Uint8Array ? encoded : this.#fit(await encoded);
    while (true) {
      if (!(await lockAsync(this.#i32, MUTEX, this.#repair, end))) throw full(options);
      const seq = this.#tryPut(bytes);
      if (seq === undefined) return;
      if (!(await waitOn(this.#i32, GETS, seq, end))) throw full(options);
    }
  }

  /**
   * Adds a value at the end, blocking this Web Worker while the queue is full.
   *
   * @param value a value the queue's encoding can carry
   * @param options `timeout` in milliseconds (`0`: only if there is room now)
   * @throws {InvalidStateError} on the main thread, which must never block
   * @throws {QueueClosedError} if the queue is closed
   * @throws {TimeoutError} if there is no room within `timeout`
   * @throws {RangeError} if the encoded value is larger than the whole queue
   * @throws {DOMException} `DataCloneError` if the value cannot be encoded
   * @throws {TypeError} if the value holds a `Blob` or `File` (use `put()`)
   */
  putSync(value: T, options?: SyncWaitOptions): void {
    refuseMainThread("SharedQueue.putSync()", "await queue.put()");
    const end = deadline("put into a SharedQueue", options);
    const bytes = this.#encode(value, false) as Uint8Array;
    while (true) {
      if (!lockSync(this.#i32, MUTEX, end)) throw full(options);
      this.#refuseStopped();
      const seq = this.#tryPut(bytes);
      if (seq === undefined) return;
      if (!spun(this.#i32, GETS, seq) && !blockOn(this.#i32, GETS, seq, end)) throw full(options);
    }
  }

  /**
   * A task stopped while its synchronous code ran on (Deno cannot stop a busy thread) must not
   * take an item nobody will see, nor put one its caller was told did not happen: with the mutex
   * held, it lets go and throws.
   */
  #refuseStopped(): void {
    const error = stoppedError();
    if (error === undefined) return;
    unlock(this.#i32, MUTEX);
    throw error;
  }

  /**
   * Takes the value at the front, waiting without blocking while the queue is empty.
   *
   * @param options `timeout` in milliseconds (`0`: only if there is one now)
   * @returns the value (a copy of what was put)
   * @throws {QueueClosedError} if the queue is closed and empty
   * @throws {TimeoutError} if nothing comes within `timeout`
   */
  async get(options?: SyncWaitOptions): Promise<T> {
    const end = deadline("get from a SharedQueue", options);
    while (true) {
      if (!(await lockAsync(this.#i32, MUTEX, this.#repair, end))) throw empty(options);
      const got = this.#tryGet();
      if (typeof got !== "number") return decode(this.#encoding, got) as T;
      if (!(await waitOn(this.#i32, PUTS, got, end))) throw empty(options);
    }
  }

  /**
   * Takes the value at the front, blocking this Web Worker while the queue is empty.
   *
   * @param options `timeout` in milliseconds (`0`: only if there is one now)
   * @returns the value (a copy of what was put)
   * @throws {InvalidStateError} on the main thread, which must never block
   * @throws {QueueClosedError} if the queue is closed and empty
   * @throws {TimeoutError} if nothing comes within `timeout`
   */
  getSync(options?: SyncWaitOptions): T {
    refuseMainThread("SharedQueue.getSync()", "await queue.get()");
    const end = deadline("get from a SharedQueue", options);
    while (true) {
      if (!lockSync(this.#i32, MUTEX, end)) throw empty(options);
      this.#refuseStopped();
      const got = this.#tryGet();
      if (typeof got !== "number") return decode(this.#encoding, got) as T;
      if (!spun(this.#i32, PUTS, got) && !blockOn(this.#i32, PUTS, got, end)) {
        throw empty(options);
      }
    }
  }

  /**
   * Takes the queue's internal mutex back if the thread holding it has died (its worker ended
   * inside a `put()` or `get()`), finishing or dropping the change it was making, so that the
   * queue goes on. A waiting `put()` / `get()` does this by itself every 100 ms; blocking ones
   * (`putSync()`, `getSync()`) cannot, so whoever learns of the death may call this. An item a
   * dead getter was taking is gone; one a dead putter was adding is there in full, or not at all.
   *
   * @returns true if the mutex was taken back from a dead thread
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SharedQueue } from "@concurrent/futures";
   *
   * const queue = new SharedQueue();
   * assert.equal(await queue.recover(), false); // nobody holds it
   * ```
   */
  async recover(): Promise<boolean> {
    if (!(await takeOver(this.#i32, MUTEX, this.#repair))) return false;
    unlock(this.#i32, MUTEX);
    return true;
  }

  /**
   * Closes the queue: every waiting `put()` throws {@linkcode QueueClosedError}, as do later
   * ones; `get()` returns the items left, then throws it. Calling it again does nothing.
   */
  close(): void {
    Atomics.store(this.#i32, CLOSED, 1);
    Atomics.add(this.#i32, PUTS, 1);
    Atomics.add(this.#i32, GETS, 1);
    Atomics.notify(this.#i32, PUTS);
    Atomics.notify(this.#i32, GETS);
  }

  /**
   * Gets values until the queue is closed and empty.
   *
   * @returns an iterator of the values
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    while (true) {
      try {
        yield await this.get();
      } catch (error) {
        if (error instanceof QueueClosedError) return;
        throw error;
      }
    }
  }

  #encode(value: T, wait: boolean): Uint8Array | Promise<Uint8Array> {
    if (this.closed) throw new QueueClosedError("Cannot put into a closed SharedQueue");
    const encoded = wait ? encodeAsync(this.#encoding, value) : encode(this.#encoding, value);
    return encoded instanceof Uint8Array ? this.#fit(encoded) : encoded;
  }

  #fit(bytes: Uint8Array): Uint8Array {
    if (PREFIX + bytes.length > this.#capacity) {
      throw new RangeError(
        `Cannot put into a SharedQueue as the item takes ${
          PREFIX + bytes.length
        } bytes and 'maxBytes' is ${this.#capacity}: received a larger value`,
      );
    }
    return bytes;
  }

  /** Under the mutex, which it releases: puts `bytes`, or returns the GETS to sleep on. */
  #tryPut(bytes: Uint8Array): number | undefined {
    const i32 = this.#i32;
    const need = PREFIX + bytes.length;
    if (Atomics.load(i32, CLOSED) === 1) {
      unlock(i32, MUTEX);
      throw new QueueClosedError("Cannot put into a closed SharedQueue");
    }
    const count = Atomics.load(i32, COUNT);
    const used = Atomics.load(i32, USED);
    if (count >= Atomics.load(i32, MAX_ITEMS) || used + need > this.#capacity) {
      const seq = Atomics.load(i32, GETS);
      unlock(i32, MUTEX);
      return seq;
    }
    testHooks.inside?.("locked");
    let at = Atomics.load(i32, TAIL);
    const n = bytes.length;
    at = this.#write(at, new Uint8Array([n, n >>> 8, n >>> 16, n >>> 24]));
    at = this.#write(at, bytes);
    this.#commit(Atomics.load(i32, HEAD), at, used + need, count + 1, PUTS);
    unlock(i32, MUTEX);
    Atomics.notify(i32, PUTS);
    return undefined;
  }

  /** Under the mutex, which it releases: takes the front item's bytes, or the PUTS to sleep on. */
  #tryGet(): Uint8Array | number {
    const i32 = this.#i32;
    const count = Atomics.load(i32, COUNT);
    if (count === 0) {
      const closed = Atomics.load(i32, CLOSED) === 1;
      const seq = Atomics.load(i32, PUTS);
      unlock(i32, MUTEX);
      if (closed) throw new QueueClosedError("Cannot get from a closed, empty SharedQueue");
      return seq;
    }
    let at = Atomics.load(i32, HEAD);
    const prefix = this.#read(at, PREFIX);
    at = (at + PREFIX) % this.#capacity;
    const n = (prefix[0]! | prefix[1]! << 8 | prefix[2]! << 16 | prefix[3]! << 24) >>> 0;
    const bytes = this.#read(at, n);
    const used = Atomics.load(i32, USED) - PREFIX - n;
    this.#commit((at + n) % this.#capacity, Atomics.load(i32, TAIL), used, count - 1, GETS);
    unlock(i32, MUTEX);
    Atomics.notify(i32, GETS);
    return bytes;
  }

  /**
   * Under the mutex: moves the ring to its new state through the journal, and bumps `seq` (PUTS
   * or GETS) for the other side's sleepers.
   */
  #commit(head: number, tail: number, used: number, count: number, seq: number): void {
    const i32 = this.#i32;
    Atomics.store(i32, J_HEAD, head);
    Atomics.store(i32, J_TAIL, tail);
    Atomics.store(i32, J_USED, used);
    Atomics.store(i32, J_COUNT, count);
    Atomics.store(i32, JOURNAL, 1);
    this.#apply();
    Atomics.store(i32, JOURNAL, 0);
    Atomics.add(i32, seq, 1);
  }

  #apply(): void {
    const i32 = this.#i32;
    Atomics.store(i32, HEAD, Atomics.load(i32, J_HEAD));
    Atomics.store(i32, TAIL, Atomics.load(i32, J_TAIL));
    testHooks.inside?.("committing");
    Atomics.store(i32, USED, Atomics.load(i32, J_USED));
    Atomics.store(i32, COUNT, Atomics.load(i32, J_COUNT));
  }

  /**
   * Run by whoever takes the mutex over from a thread that died holding it: a change it had
   * journalled is applied again in full; one it had not is dropped (bytes written past the tail
   * are never read).
   */
  readonly #repair = (): void => {
    if (Atomics.load(this.#i32, JOURNAL) === 1) this.#apply();
    Atomics.store(this.#i32, JOURNAL, 0);
    // Either side may have been waiting on the change.
    Atomics.add(this.#i32, PUTS, 1);
    Atomics.add(this.#i32, GETS, 1);
    Atomics.notify(this.#i32, PUTS);
    Atomics.notify(this.#i32, GETS);
  };

  #write(at: number, bytes: Uint8Array): number {
    const first = Math.min(bytes.length, this.#capacity - at);
    this.#ring.set(bytes.subarray(0, first), at);
    if (first < bytes.length) this.#ring.set(bytes.subarray(first), 0);
    return (at + bytes.length) % this.#capacity;
  }

  /** Copies `n` bytes out of the ring (into memory of this thread's own). */
  #read(at: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    const first = Math.min(n, this.#capacity - at);
    out.set(this.#ring.subarray(at, at + first));
    if (first < n) out.set(this.#ring.subarray(0, n - first), first);
    return out;
  }
}

/**
 * Spins a little while `i32[index]` is `seq`: the other side of a busy queue usually moves within
 * a microsecond, and sleeping and waking a thread costs far more. True if it moved.
 */
function spun(i32: Int32Array, index: number, seq: number): boolean {
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(i32, index) !== seq) return true;
    Atomics.pause();
  }
  return false;
}

function full(options: SyncWaitOptions | undefined): Error {
  return stoppedError() ??
    new TimeoutError(`the SharedQueue had no room within ${options?.timeout} ms`);
}

function empty(options: SyncWaitOptions | undefined): Error {
  return stoppedError() ??
    new TimeoutError(`the SharedQueue had nothing to get within ${options?.timeout} ms`);
}

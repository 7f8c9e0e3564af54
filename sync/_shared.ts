// What every primitive shares: where it may block, how it waits (blocking and async), how a
// structured-cloned copy is recognised, and the checks on its options.

import { InvalidStateError } from "../future/errors.ts";
import { checkInt, checkOptionsArgument, checkTimeout, show } from "../future/_options.ts";

const WAIT_KEYS = ["timeout"] as const;

export { checkInt, show };

/**
 * Whether this is the main thread (not a Web Worker): there, waiting must never block the event
 * loop, so only the async forms are allowed.
 */
export const isMainThread: boolean =
  typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope === "undefined";

/** Throws unless blocking is allowed here. */
export function refuseMainThread(what: string, instead: string): void {
  if (!isMainThread) return;
  throw new InvalidStateError(
    `Cannot call ${what} on the main thread: it would block the event loop; use ${instead} there`,
  );
}

/**
 * Options of every wait.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Event, Lock, type SyncWaitOptions, TimeoutError } from "@concurrent/futures";
 *
 * const brief: SyncWaitOptions = { timeout: 10 };
 * assert.equal(await new Event().wait(brief), false); // not set in time
 * const lock = new Lock();
 * using _held = await lock.acquire();
 * await assert.rejects(lock.acquire(brief), TimeoutError); // held by us
 * ```
 */
export interface SyncWaitOptions {
  /**
   * How long to wait, in milliseconds; `0` means "do not wait". It bounds the caller's wait only.
   * When it runs out, `Event.wait()` and `Condition.wait()` return `false` (as in Python), the
   * waits for a resource (`Lock`, `Semaphore`, `SharedQueue`) throw `TimeoutError`, and a
   * `Barrier` breaks (`BrokenBarrierError`).
   * @default {Infinity}
   */
  timeout?: number;
}

/** The `performance.now()` by which a wait must end. */
export function deadline(what: string, options: SyncWaitOptions | undefined): number {
  // `wait(5)` as in Python, or a misspelt key, would otherwise wait for ever.
  checkOptionsArgument(what, options, WAIT_KEYS, "timeout");
  const timeout = checkTimeout(what, "timeout", options?.timeout);
  return timeout === Infinity ? Infinity : performance.now() + timeout;
}

/**
 * Blocks while `i32[index]` is `value`, until woken or `end`. Returns false when `end` had already
 * passed (the caller then gives up); true otherwise, and the caller checks its condition again.
 */
export function blockOn(i32: Int32Array, index: number, value: number, end: number): boolean {
  const left = end - performance.now();
  if (left <= 0 || threadEnded()) return false;
  Atomics.wait(i32, index, value, left === Infinity ? undefined : left);
  // Its worker was ended meanwhile (its task stopped): give up, as at a timeout.
  return !threadEnded();
}

/**
 * Whether the pool has ended this thread's worker: a pool's worker runtime sets the check under
 * this registry symbol (actors/_actor_runtime.ts). Deno does not stop a thread asleep in
 * `Atomics.wait()`, and such a thread must not go on to take a lock when it wakes.
 */
const THREAD_ENDED = Symbol.for("@concurrent/futures/thread-ended");

/** See {@linkcode THREAD_ENDED}; false outside a pool's worker. */
export function threadEnded(): boolean {
  return (globalThis as { [THREAD_ENDED]?: () => boolean })[THREAD_ENDED]?.() === true;
}

/**
 * Throws `InvalidStateError` in a worker that was ended, or in the synchronous part of a task
 * that was stopped: a blocking wait that woke there must not let the task go on.
 */
export function refuseStopped(): void {
  const error = stoppedError();
  if (error) throw error;
}

/** The error of a wait that gives up because its worker was ended (its task stopped), or undefined. */
export function stoppedError(): InvalidStateError | undefined {
  if (!threadEnded()) return undefined;
  return new InvalidStateError(
    "Cannot go on waiting in shared memory as this worker was ended (its task was stopped)",
  );
}

// Longer timers overflow (Deno treats them as 1 ms); the loop around a wait re-arms them.
const MAX_TIMER = 0x7fff_ffff;

/**
 * The async form of {@linkcode blockOn}. The wait is registered with its own timeout, and this
 * returns only once V8 has let go of it (woken, or timed out): a registration left behind would
 * live until the next `notify()` of that word, and a waiter that polls (every 100 ms, for a dead
 * holder) would pile them up. Deno does not count a pending `Atomics.waitAsync()` as work that
 * keeps the event loop alive, neither its timeout nor a wake-up from this same thread: a timer of
 * our own keeps the loop turning until the wait settles.
 */
export async function waitOn(
  i32: Int32Array,
  index: number,
  value: number,
  end: number,
): Promise<boolean> {
  const left = end - performance.now();
  if (left <= 0) return false;
  const waiting = Atomics.waitAsync(i32, index, value, left === Infinity ? undefined : left);
  if (!waiting.async) return true;
  let settled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const keepAlive = () => {
    const rest = end - performance.now();
    // Past the deadline V8's own timeout is due: look again soon until it has fired.
    timer = setTimeout(() => {
      if (!settled) keepAlive();
    }, rest > 0 ? Math.min(Math.ceil(rest), MAX_TIMER) : 1);
  };
  keepAlive();
  try {
    await waiting.value;
  } finally {
    settled = true;
    clearTimeout(timer);
  }
  return true;
}

/** A value as an error message shows it (a buffer given to `from()` is of another kind). */
function showRevived(value: unknown): string {
  return value instanceof SharedArrayBuffer ? "a SharedArrayBuffer of another kind" : show(value);
}

/**
 * The shared memory of a primitive given to `from()`: the primitive itself, its structured-cloned
 * copy (`{ buffer }`), or the buffer. Its first word must be the primitive's `magic`.
 */
export function bufferOf(kind: string, magic: number, words: number, value: unknown) {
  const buffer = value instanceof SharedArrayBuffer
    ? value
    : (value as { buffer?: unknown } | null)?.buffer;
  if (
    buffer instanceof SharedArrayBuffer && buffer.byteLength >= words * 4 &&
    Atomics.load(new Int32Array(buffer, 0, 1), 0) === magic
  ) {
    return buffer;
  }
  throw new TypeError(
    `Cannot revive a ${kind} as the value must be a ${kind}, a copy of one that crossed a worker boundary ({ buffer }), or its SharedArrayBuffer: received ${
      showRevived(buffer instanceof SharedArrayBuffer ? buffer : value)
    }`,
  );
}

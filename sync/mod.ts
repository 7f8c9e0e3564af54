/**
 * Shared state between threads, like Python's `multiprocessing` primitives: {@linkcode Lock},
 * {@linkcode Semaphore}, {@linkcode Event}, {@linkcode Barrier}, {@linkcode Condition} and
 * {@linkcode SharedQueue}, built on `SharedArrayBuffer` and `Atomics`.
 *
 * They work the same on the main thread and in Web Workers (`WorkerPoolExecutor` tasks, actors).
 * Every wait has an async form (`acquire()`, `wait()`, `put()`, `get()`) that never blocks the
 * thread, and a blocking one (`acquireSync()`, `waitSync()`, `putSync()`, `getSync()`) that only
 * a Web Worker may call: the main thread must never block, so there it throws
 * `InvalidStateError`.
 *
 * Each primitive's whole state is one `SharedArrayBuffer`. Passed to a task, it arrives as a plain
 * `{ buffer }` (structured clone keeps the memory shared but not the class): revive it with
 * `Lock.from(value)` and the like, which return a real instance unchanged, so the same task runs
 * on every executor. `ProcessPoolExecutor` cannot share memory and refuses such a task with a
 * `TypeError`.
 *
 * Names follow Python's: state readers that are methods there are methods here
 * (`lock.locked()`, `event.isSet()`), and those that are properties there are getters here
 * (`semaphore.value`, `barrier.broken`, `barrier.parties`, `barrier.waiting`). A `timeout` bounds
 * the caller's wait: `Event.wait()` and `Condition.wait()` then return `false` (Python's answer),
 * the waits for a resource (`Lock`, `Semaphore`, `SharedQueue`) throw `TimeoutError`, and a
 * `Barrier` breaks (`BrokenBarrierError`). `Lock.run()` and `Semaphore.run()` hold the primitive
 * for the length of a function; `Barrier.reset()` is Python's.
 *
 * Shared numbers (Python's `Value` and `Array`) need no class: they are typed arrays on a
 * `SharedArrayBuffer`, passed to tasks as they are, updated with `Atomics` or under a `Lock`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Lock, SharedQueue } from "@concurrent/futures/sync";
 *
 * const total = new Float64Array(new SharedArrayBuffer(8)); // a shared Value("d")
 * const lock = new Lock();
 * const queue = new SharedQueue<number>({ maxItems: 8 });
 * const consumer = (async () => {
 *   for await (const n of queue) {
 *     using _held = await lock.acquire();
 *     total[0]! += n;
 *   }
 * })();
 * for (let i = 1; i <= 4; i++) await queue.put(i);
 * queue.close();
 * await consumer;
 * assert.equal(total[0], 10);
 * ```
 *
 * @module
 */

export * from "./lock.ts";
export * from "./semaphore.ts";
export * from "./event.ts";
export * from "./barrier.ts";
export * from "./condition.ts";
export * from "./shared_queue.ts";
export type { SyncWaitOptions } from "./_shared.ts";
export type { Encoding } from "./_codec.ts";
export { InvalidStateError, TimeoutError } from "../future/errors.ts";

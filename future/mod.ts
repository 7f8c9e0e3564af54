/**
 * Futures and the ways to wait for them: {@linkcode Future}, {@linkcode wait},
 * {@linkcode asCompleted}, and the errors they reject with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Future, wait } from "@concurrent/futures/future";
 *
 * const a = new Future<number>();
 * const b = new Future<number>();
 * a.setResult(1);
 * b.cancel();
 * const { done } = await wait([a, b]);
 * assert(done.size === 2);
 * ```
 *
 * @module
 */

export * from "./errors.ts";
export { Future, type FutureState, type WaitOptions } from "./future.ts";
export * from "./wait.ts";
export * from "./as_completed.ts";

/**
 * `@concurrent/futures`: Python's `concurrent.futures` for Deno.
 *
 * Futures with `wait()` and `asCompleted()`, and executors with one interface: submit work, get a
 * {@linkcode Future}, map over items, shut down with `await using`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, asCompleted } from "@concurrent/futures";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 10 });
 * const futures = [1, 2, 3].map((n) => pool.submit(async (x: number) => x * x, n));
 * let sum = 0;
 * for await (const future of asCompleted(futures)) sum += await future;
 * assert(sum === 14);
 * ```
 *
 * @module
 */

export * from "./future/mod.ts";
export * from "./executors/mod.ts";
export * from "./actors/mod.ts";
export * from "./sync/mod.ts";

// Callbacks a task can call on the caller's side: proxy() marks a function so that the pools send
// a stand-in for it instead of the function (which cannot cross a worker boundary).

import { show } from "../future/_options.ts";

/**
 * What a task sees of a callback passed with {@linkcode proxy}: a function that takes the same
 * arguments and returns a promise of the callback's result, resolved on the caller's side. A
 * callback declared to return `void` gives `Promise<unknown>`, so that any function (such as
 * `(n: number) => list.push(n)`) can be passed for it.
 *
 * @typeParam F The callback's own type.
 *
 * @example Typing a task's callback parameter
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, proxy, type Remote } from "@concurrent/futures";
 *
 * async function work(n: number, report: Remote<(done: number) => void>): Promise<number> {
 *   for (let i = 1; i <= n; i++) void report(i);
 *   return n;
 * }
 * const seen: number[] = [];
 * await using pool = new AsyncPoolExecutor();
 * assert.equal(await pool.submit(work, 3, proxy((done: number) => seen.push(done))), 3);
 * assert.deepEqual(seen, [1, 2, 3]);
 * ```
 */
export type Remote<F> = F extends (...args: infer A) => infer R
  ? (...args: A) => Promise<[R] extends [void] ? unknown : Awaited<R>>
  : never;

type Fn = (...args: unknown[]) => unknown;

/** The user's function behind each value proxy() returned. */
const targets = new WeakMap<Fn, Fn>();
let created = 0;

/**
 * Wraps `fn` so that it can be passed to a task as an argument (or inside one, in an array or a
 * plain object) on any executor, and called from the task while it runs. The call runs `fn` on
 * the caller's side: on the thread that submitted the task, in the order the task made its calls.
 *
 * Inside the task the argument is a {@linkcode Remote} function: calling it returns a promise of
 * `fn`'s result. Awaiting it waits for the caller's answer, and a `fn` that throws (or rejects)
 * rejects that promise with its error, class and fields kept. Not awaiting it makes the call
 * fire-and-forget: such calls are batched, and a failure of one is never an unhandled rejection.
 *
 * Ordering: calls reach the caller in the order the task made them, and every call the task made
 * before it returned has been started on the caller's side before the task's future settles.
 *
 * On {@linkcode WorkerPoolExecutor} and {@linkcode ProcessPoolExecutor} (and in the methods of
 * actors made with {@linkcode spawn}) calls travel as messages over the pool's own channel to the
 * worker. Arguments and results must be structured-cloneable; one that is not rejects that call
 * with a `DataCloneError`. Once the task has settled, or has been stopped (timeout, abort),
 * further calls are not run: their promises reject in the task with an `InvalidStateError`.
 * On {@linkcode AsyncPoolExecutor} the task gets the function this returns, which calls `fn`
 * directly, and keeps doing so after the task settled.
 *
 * @typeParam A The callback's parameters.
 * @typeParam R The callback's return type.
 * @param fn The callback, run on the caller's side.
 * @returns A function that calls `fn` and returns a promise of its result, and that the pools
 * recognise in a task's arguments.
 * @throws {TypeError} When `fn` is not a function.
 *
 * @example Progress from a task on a worker pool
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxy, type Remote, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
 * const seen: number[] = [];
 * const total = await pool.submit(
 *   async (n: number, progress: Remote<(pct: number) => void>) => {
 *     let sum = 0;
 *     for (let i = 1; i <= n; i++) {
 *       sum += i;
 *       void progress((i / n) * 100); // fire-and-forget
 *     }
 *     return sum;
 *   },
 *   4,
 *   proxy((pct: number) => seen.push(pct)),
 * );
 * assert.equal(total, 10);
 * assert.deepEqual(seen, [25, 50, 75, 100]);
 * ```
 *
 * @example Awaiting the caller's answer
 * ```ts
 * import assert from "node:assert/strict";
 * import { proxy, type Remote, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
 * const lookup = proxy((key: string) => ({ a: 1, b: 2 })[key] ?? 0);
 * const sum = await pool.submit(
 *   async (keys: string[], get: Remote<(key: string) => number>) => {
 *     let total = 0;
 *     for (const key of keys) total += await get(key);
 *     return total;
 *   },
 *   ["a", "b", "c"],
 *   lookup,
 * );
 * assert.equal(sum, 3);
 * ```
 */
export function proxy<A extends unknown[], R>(
  fn: (...args: A) => R,
): (...args: A) => Promise<Awaited<R>> {
  if (typeof fn !== "function") {
    throw new TypeError(
      `Cannot create a proxy as 'fn' must be a function: received ${show(fn)}`,
    );
  }
  if (targets.has(fn as Fn)) return fn as unknown as (...args: A) => Promise<Awaited<R>>;
  const remote = (...args: A): Promise<Awaited<R>> => {
    let result: Promise<Awaited<R>>;
    try {
      result = Promise.resolve(fn(...args)) as Promise<Awaited<R>>;
    } catch (error) {
      result = Promise.reject(error);
    }
    // Fire-and-forget: a call nobody awaits must not become an unhandled rejection.
    result.catch(() => {});
    return result;
  };
  targets.set(remote as Fn, fn as Fn);
  created++;
  return remote;
}

/** The callback behind `value` if it came from proxy(). */
export function proxyTarget(value: unknown): ((...args: unknown[]) => unknown) | undefined {
  return typeof value === "function" ? targets.get(value as Fn) : undefined;
}

/** Whether proxy() was ever called: until then no task's arguments need to be searched. */
export function anyProxies(): boolean {
  return created > 0;
}

/**
 * {@linkcode taskSignal}: how a running task sees that it should stop.
 *
 * @module
 */

/** Whatever can hand out the running task's signal; created lazily by the owner. */
export interface SignalSource {
  /** The signal of the task. */
  readonly signal: AbortSignal;
}

let current: SignalSource | undefined;
const NEVER: AbortSignal = new AbortController().signal;

/**
 * The `AbortSignal` of the task that is running now. It aborts when the task's `timeout` or
 * `deadline` passes, or when its `signal` aborts.
 *
 * Call it synchronously at the start of the task (before the first `await`) and keep the signal:
 * pass it to `fetch`, listen for `abort`, or poll `signal.aborted` / `signal.throwIfAborted()` in
 * hot loops. In a `WorkerPoolExecutor` worker the polled properties read a flag in shared memory,
 * so they see the abort even while the loop never yields to the event loop. Called outside a task,
 * it returns a signal that never aborts, so the same function also runs on the main thread.
 *
 * @returns the running task's signal
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor, taskSignal, TimeoutError } from "@concurrent/futures";
 *
 * async function slow(): Promise<string> {
 *   const signal = taskSignal();
 *   await new Promise((resolve) => signal.addEventListener("abort", resolve));
 *   return "stopped early";
 * }
 * await using pool = new AsyncPoolExecutor();
 * const error = await pool.with({ timeout: 10 }).submit(slow).exception();
 * assert(error instanceof TimeoutError);
 * ```
 */
export function taskSignal(): AbortSignal {
  return current?.signal ?? NEVER;
}

/**
 * Calls `fn(...args)` with `signal` as the current task signal; internal to the library.
 *
 * @param signal what `taskSignal()` reads during the synchronous part of the call
 * @param fn the task
 * @param args its arguments
 * @returns what `fn` returns
 */
export function callWithSignal(
  signal: SignalSource,
  fn: (...args: unknown[]) => unknown,
  args: unknown[],
): unknown {
  const previous = current;
  current = signal;
  try {
    return fn(...args);
  } finally {
    current = previous;
  }
}

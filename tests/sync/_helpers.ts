// Helpers for the sync/ tests: a worker pool over the sync fixture tasks, and a bounded wait for
// a condition on shared state.

import { WorkerPoolExecutor } from "../../mod.ts";

export const SYNC_TASKS = new URL("../fixtures/sync_tasks.ts", import.meta.url);

/** A pool whose workers load the sync fixture tasks. */
export function syncPool(maxWorkers: number): WorkerPoolExecutor {
  return new WorkerPoolExecutor({ maxWorkers, modules: [SYNC_TASKS] });
}

/**
 * Waits until `predicate()` holds, checking every few milliseconds; fails after `ms`. It orders a
 * test after an observed state (a waiter has queued, a worker holds the lock), not after a delay.
 */
export async function until(predicate: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * The async form of {@linkcode until}: waits until `check()` resolves true, asking again every
 * few milliseconds. For a fact that settles on its own after an event the test observed, such as
 * Deno letting go of a dead worker's Web Locks a little after the pool saw it end.
 */
export async function untilAsync(
  check: () => Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const end = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

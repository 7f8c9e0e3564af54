import { Future } from "../../future/mod.ts";

/** The states a test can put a future in, with how it finished. */
export type Kind = "pending" | "running" | "cancelled" | "succeeded" | "failed";

/** A future in the given state; a failed one holds `error`, a succeeded one holds 42. */
export function futureIn(kind: Kind, error: unknown = new Error("boom")): Future<number> {
  const future = new Future<number>();
  if (kind === "running") future.setRunningOrNotifyCancel();
  if (kind === "cancelled") future.cancel();
  if (kind === "succeeded") future.setResult(42);
  if (kind === "failed") future.setException(error);
  return future;
}

/** Resolves after one macrotask, so every queued microtask has run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Resolves after `n` macrotasks. */
export async function ticks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await tick();
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Tracks whether a promise has settled yet, without handling it on the caller's behalf. */
export function track<T>(promise: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  promise.then(() => settled = true, () => settled = true);
  return { settled: () => settled, promise };
}

/**
 * Collects the errors passed to `reportError()` while in scope, and stops them from ending the
 * test run; the listener is removed on dispose.
 */
export function captureReportedErrors(): { errors: unknown[] } & Disposable {
  const errors: unknown[] = [];
  const listener = (event: ErrorEvent) => {
    event.preventDefault();
    errors.push(event.error);
  };
  globalThis.addEventListener("error", listener);
  return {
    errors,
    [Symbol.dispose]: () => globalThis.removeEventListener("error", listener),
  };
}

/** The names of the futures in `set`, looked up in `names`, sorted. */
export function namesOf<T>(set: Iterable<Future<T>>, names: Map<Future<T>, string>): string[] {
  return [...set].map((future) => names.get(future) ?? "?").sort();
}

// The library's own access to a future's private state: what executors need and users must not
// see. Future's static block installs the functions (they read `#private` fields); the bindings
// here are live, so importers call them directly.

import type { Future } from "./future.ts";

/** The outcome of a done future, read synchronously. */
export interface Outcome<T> {
  /** Whether it failed (a cancelled future has failed with `CancelledError`). */
  failed: boolean;
  /** The value, when it did not fail. */
  value: T | undefined;
  /** The error, when it failed. */
  error: unknown;
}

/** The producer behind a future, told of `cancel()` calls. */
export interface FutureOwner {
  /**
   * `cancel()` on a running future: whether its work can still be called off (a task handed to a
   * worker that has not started it). The future is cancelled when this answers true.
   */
  cancelRunning(): boolean;
  /** The future was cancelled (before the done callbacks run). */
  cancelled(): void;
}

/**
 * Told when code awaits a pending future of an executor that lets a waiting task give back its
 * slot (secede, then rejoin); internal to the library.
 */
export interface AwaitHook {
  /**
   * Called as a pending future is awaited. Inside one of the executor's own tasks the task gives
   * back its slot and this returns the rejoin: called once the future is done, it resolves when
   * the task may go on (it holds a slot again). Elsewhere it returns `undefined`.
   */
  awaiting(): (() => Promise<void>) | undefined;
}

interface Hooks {
  removeDoneCallback<T>(future: Future<T>, fn: (future: Future<T>) => void): void;
  outcomeOf<T>(future: Future<T>): Outcome<T>;
  setOwner<T>(future: Future<T>, owner: FutureOwner | undefined): void;
  setAwaitHook<T>(future: Future<T>, hook: AwaitHook): void;
  awaitHookOf(future: Future<unknown>): AwaitHook | undefined;
}

/** Removes a callback added with `addDoneCallback`. */
export let removeDoneCallback: Hooks["removeDoneCallback"];

/** Reads a future's outcome synchronously. */
export let outcomeOf: Hooks["outcomeOf"];

/**
 * Gives a future its owner: one object per producer, where a closure per future would cost
 * memory at a million tasks.
 */
export let setOwner: Hooks["setOwner"];

/** Gives a future the hook its awaiters call. */
export let setAwaitHook: Hooks["setAwaitHook"];

/** The await hook a future was given, if any. */
export let awaitHookOf: Hooks["awaitHookOf"];

/** Called once, by Future's static block. */
export function installHooks(hooks: Hooks): void {
  ({ removeDoneCallback, outcomeOf, setOwner, setAwaitHook, awaitHookOf } = hooks);
}

/**
 * The await hooks of a set of pending futures, each with how many of them it serves, kept as they
 * settle: a wait that comes back many times over a large set (`asCompleted()`) finds the rejoin
 * among its few hooks instead of scanning every future each time.
 */
export class PendingHooks {
  #counts = new Map<AwaitHook, number>();

  /** Counts a pending future. */
  add(future: Future<unknown>): void {
    const hook = awaitHookOf(future);
    if (hook !== undefined) this.#counts.set(hook, (this.#counts.get(hook) ?? 0) + 1);
  }

  /** Uncounts a future added before, now settled or dropped. */
  delete(future: Future<unknown>): void {
    const hook = awaitHookOf(future);
    if (hook === undefined) return;
    const left = this.#counts.get(hook)! - 1;
    if (left === 0) this.#counts.delete(hook);
    else this.#counts.set(hook, left);
  }

  /**
   * The rejoin for a wait on these futures: from the first hook (in the order the futures came)
   * whose executor is running the caller as one of its tasks, or `undefined`.
   */
  awaiting(): (() => Promise<void>) | undefined {
    for (const hook of this.#counts.keys()) {
      const rejoin = hook.awaiting();
      if (rejoin !== undefined) return rejoin;
    }
    return undefined;
  }
}

/** `promise`, settled only once `rejoin` (if any) has resolved; internal to the library. */
export function joined<T>(
  promise: Promise<T>,
  rejoin: (() => Promise<void>) | undefined,
): Promise<T> {
  if (rejoin === undefined) return promise;
  return promise.then(
    (value) => rejoin().then(() => value),
    (error) => rejoin().then(() => Promise.reject(error)),
  );
}

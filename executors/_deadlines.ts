// Tasks that share a deadline share its timer. A deadline is a point in time, and a program often
// gives the same one to many tasks (`executor.with({ deadline })` over a `map()`): a timer of its
// own per task, and its error made in advance, cost about 13 µs and 2 KB a task at submit. Here
// the first task of a deadline arms the timer, the next ones join a set (O(1) in and out), and the
// last one to leave disarms it.

import { startTimer } from "../future/_timer.ts";

/** What a deadline calls when it passes. */
export interface DeadlineHandler {
  deadlinePassed(): void;
}

/** The handlers of one deadline, and its timer. */
class Due {
  /** The only handler, while there has been one: most deadlines serve a single task. */
  #one: DeadlineHandler | undefined;
  /** From the second handler on: a `Set` iterates in insertion order, the order subscribed. */
  #many: Set<DeadlineHandler> | undefined;
  disarm: () => void = () => {};

  constructor(handler: DeadlineHandler) {
    this.#one = handler;
  }

  add(handler: DeadlineHandler): void {
    if (this.#many !== undefined) this.#many.add(handler);
    else if (handler !== this.#one) this.#many = new Set([this.#one!, handler]);
  }

  /** Removes `handler` if it is there; returns whether none is left. */
  delete(handler: DeadlineHandler): boolean {
    if (this.#many !== undefined) return this.#many.delete(handler) && this.#many.size === 0;
    if (handler !== this.#one) return false;
    this.#one = undefined;
    return true;
  }

  /** Calls each handler in the order they subscribed; one that left meanwhile is skipped. */
  pass(): void {
    const many = this.#many;
    if (many === undefined) {
      const one = this.#one;
      this.#one = undefined;
      if (one !== undefined) call(one);
      return;
    }
    for (const handler of many) {
      many.delete(handler);
      call(handler);
    }
  }
}

function call(handler: DeadlineHandler): void {
  try {
    handler.deadlinePassed();
  } catch (error) {
    // Reported once the other handlers have run.
    queueMicrotask(() => reportError(error));
  }
}

/** The deadlines with a handler, by their time (epoch ms). */
const dues = new Map<number, Due>();

/**
 * Calls `handler.deadlinePassed()` once `deadline` (epoch ms, as `Date.now()`) has passed, unless
 * `unsubscribeDeadline()` comes first. Subscribing a handler twice to one deadline does nothing.
 */
export function subscribeDeadline(deadline: number, handler: DeadlineHandler): void {
  const existing = dues.get(deadline);
  if (existing !== undefined) return existing.add(handler);
  const due = new Due(handler);
  dues.set(deadline, due);
  due.disarm = startTimer(() => {
    if (dues.get(deadline) === due) dues.delete(deadline);
    due.pass();
  }, Math.max(0, deadline - Date.now()));
}

/** Undoes `subscribeDeadline(deadline, handler)`, in O(1); nothing if it is not subscribed. */
export function unsubscribeDeadline(deadline: number, handler: DeadlineHandler): void {
  const due = dues.get(deadline);
  if (due === undefined || !due.delete(handler)) return;
  dues.delete(deadline);
  due.disarm();
}

/** How many deadlines have a timer armed (for tests). */
export function armedDeadlines(): number {
  return dues.size;
}

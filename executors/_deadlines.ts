// Tasks that share a deadline share its timer. A deadline is a point in time, and a program often
// gives the same one to many tasks (`executor.with({ deadline })` over a `map()`): a timer of its
// own per task, and its error made in advance, cost about 13 µs and 2 KB a task at submit. Here
// the first task of a deadline arms the timer, the next ones join a set (O(1) in and out), and the
// last one to leave disarms it.

import { startTimer } from "../future/_timer.ts";
import { Subscribers } from "../future/_subscribers.ts";

/** What a deadline calls when it passes. */
export interface DeadlineHandler {
  deadlinePassed(): void;
}

/** The handlers of one deadline, and its timer. */
class Due extends Subscribers<DeadlineHandler> {
  disarm: () => void = () => {};
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
    // Each in the order subscribed; one that left meanwhile is skipped.
    due.drain(call);
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

// Task graphs: futures passed as arguments are awaited before the task is queued, and their
// values are sent in their place. A task waiting for its inputs holds no worker slot.

import { Future } from "../future/future.ts";
import { outcomeOf, removeDoneCallback } from "../future/_hooks.ts";
import { DependencyError } from "./errors.ts";
import type { JobKind } from "./_task.ts";

/** What came of a task's inputs. */
export type Inputs =
  | { ok: true; args: unknown[] }
  | { ok: false; cancelled: true }
  | { ok: false; cancelled: false; error: DependencyError };

/**
 * Whether a task's arguments hold futures: top-level arguments of a call, or items of a map()
 * chunk. The common case (none) is checked without allocating.
 */
export function hasFutures(kind: JobKind, args: unknown[]): boolean {
  const values = kind === "chunk" ? args[0] as unknown[] : args;
  for (let i = 0; i < values.length; i++) if (values[i] instanceof Future) return true;
  return false;
}

/**
 * Waits for the futures among a task's arguments, then calls `done` once: with the arguments
 * where each future is replaced by its value, or as soon as one is cancelled or fails. Returns a
 * function that stops waiting (when the task is stopped first).
 */
export function awaitInputs(
  kind: JobKind,
  args: unknown[],
  done: (inputs: Inputs) => void,
): () => void {
  const values = kind === "chunk" ? [...args[0] as unknown[]] : [...args];
  const pending = new Map<Future<unknown>, number[]>();
  values.forEach((value, index) => {
    if (value instanceof Future) {
      const at = pending.get(value);
      if (at) at.push(index);
      else pending.set(value, [index]);
    }
  });
  let finished = false;
  const stop = () => {
    finished = true;
    for (const future of pending.keys()) removeDoneCallback(future, onDone);
    pending.clear();
  };
  const onDone = (future: Future<unknown>) => {
    if (finished) return;
    const at = pending.get(future)!;
    pending.delete(future);
    if (future.cancelled()) {
      stop();
      return settleDependent(() => done({ ok: false, cancelled: true }));
    }
    const outcome = outcomeOf(future);
    if (outcome.failed) {
      stop();
      const error = new DependencyError(at[0]!, outcome.error);
      return settleDependent(() => done({ ok: false, cancelled: false, error }));
    }
    for (const index of at) values[index] = outcome.value;
    if (pending.size === 0) {
      finished = true;
      done({ ok: true, args: kind === "chunk" ? [values] : values });
    }
  };
  // Callbacks run at once for futures already done, so copy the keys before adding them.
  for (const future of [...pending.keys()]) {
    if (finished) break;
    future.addDoneCallback(onDone);
  }
  return stop;
}

/**
 * How deep a failure (or a cancellation) has gone down a chain of dependent tasks in this call
 * stack: each dependent settles in the done callback of its input, so a chain of thousands of
 * tasks would overflow the stack. Past `MAX_DEPTH` levels the next settles in a microtask.
 */
let depth = 0;
const MAX_DEPTH = 64;

function settleDependent(settle: () => void): void {
  if (depth >= MAX_DEPTH) {
    queueMicrotask(settle);
    return;
  }
  depth++;
  try {
    settle();
  } finally {
    depth--;
  }
}

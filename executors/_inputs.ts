// Task graphs: futures passed as arguments are awaited before the task is queued, and their
// values are sent in their place. A task waiting for its inputs holds no worker slot.

import { Future } from "../future/future.ts";
import { outcomeOf, removeDoneCallback } from "../future/_hooks.ts";
import { DependencyError } from "./errors.ts";
import type { JobKind } from "./_task.ts";

/** An input that was cancelled, or failed. */
export type InputFailure =
  | { cancelled: true }
  | { cancelled: false; error: DependencyError };

/**
 * What came of a task's inputs. `cut`: an item of a map() chunk after the first was cancelled or
 * failed; `args` hold the items before it, which still run, and the chunk then fails with `cut`.
 */
export type Inputs =
  | { ok: true; args: unknown[]; cut?: InputFailure }
  | ({ ok: false } & InputFailure);

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
 * where each future is replaced by its value, or as soon as one is cancelled or fails. In a map()
 * chunk, an item that is cancelled or fails ends the chunk at its place, as a chunk of one item
 * would: the items before it are still awaited and run (see `Inputs`). Returns a function that
 * stops waiting (when the task is stopped first).
 */
export function awaitInputs(
  kind: JobKind,
  args: unknown[],
  done: (inputs: Inputs) => void,
): () => void {
  const chunk = kind === "chunk";
  const values = chunk ? [...args[0] as unknown[]] : [...args];
  const pending = new Map<Future<unknown>, number[]>();
  values.forEach((value, index) => {
    if (value instanceof Future) {
      const at = pending.get(value);
      if (at) at.push(index);
      else pending.set(value, [index]);
    }
  });
  let finished = false;
  // In a chunk: the first item cancelled or failed so far, and why.
  let cutAt = values.length;
  let cut: InputFailure | undefined;
  const stop = () => {
    finished = true;
    for (const future of pending.keys()) removeDoneCallback(future, onDone);
    pending.clear();
  };
  const onDone = (future: Future<unknown>) => {
    if (finished) return;
    const at = pending.get(future);
    // Dropped: it stood only after an item of the chunk that failed.
    if (at === undefined) return;
    pending.delete(future);
    const first = at[0]!;
    let failure: InputFailure | undefined;
    if (future.cancelled()) failure = { cancelled: true };
    else {
      const outcome = outcomeOf(future);
      if (outcome.failed) {
        // A map() item is the only argument of its call, whatever its place in the chunk: a
        // chunk of one item (a plain call) says argument 0, and so does this.
        failure = {
          cancelled: false,
          error: new DependencyError(chunk ? 0 : first, outcome.error),
        };
      } else for (const index of at) values[index] = outcome.value;
    }
    if (failure && (!chunk || first === 0)) {
      stop();
      return settleDependent(() => done({ ok: false, ...failure }));
    }
    if (failure) {
      // Items after the failed one are not awaited: they do not run.
      cutAt = first;
      cut = failure;
      for (const [other, where] of pending) {
        if (where[0]! > cutAt) {
          removeDoneCallback(other, onDone);
          pending.delete(other);
        }
      }
    }
    if (pending.size === 0) {
      finished = true;
      if (cut) done({ ok: true, args: [values.slice(0, cutAt)], cut });
      else done({ ok: true, args: chunk ? [values] : values });
    }
  };
  // Callbacks run at once for futures already done, so copy the keys before adding them.
  for (const future of [...pending.keys()]) {
    if (finished) break;
    if (pending.has(future)) future.addDoneCallback(onDone);
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

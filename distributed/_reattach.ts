// Futures for tasks this process did not submit: a client started again with the same `clientId`
// asks for a task of an earlier run by its id, and gets a future that settles from the stored
// outcome (at once when it is stored, otherwise when a worker stores it).

import { Future } from "../future/future.ts";
import { CancelledError } from "../future/errors.ts";
import type { Blobs } from "./_stores.ts";
import { outcomeError, readOutcome } from "./_outcome.ts";

/** The futures handed out by `futureOf()` for tasks not submitted here. */
export class Reattached {
  readonly #client: string;
  readonly #waiting = new Map<string, Future<unknown>>();

  constructor(client: string) {
    this.#client = client;
  }

  /** The future of task `id`, and whether it is new (the caller then looks for its outcome). */
  futureOf(id: string): { future: Future<unknown>; created: boolean } {
    let future = this.#waiting.get(id);
    if (future) return { future, created: false };
    future = new Future<unknown>();
    // Not ours to cancel: the task may run for another client with the same id.
    future.setRunningOrNotifyCancel();
    this.#waiting.set(id, future);
    return { future, created: true };
  }

  /** Whether a future waits for task `id`. */
  waits(id: string): boolean {
    return this.#waiting.has(id);
  }

  /** The ids of the tasks whose futures still wait (the reconcile step reads them again). */
  waiting(): string[] {
    return [...this.#waiting.keys()];
  }

  /** Settles the future waiting for `id`, if any, from a stored outcome; false when none waits. */
  offer(
    id: string,
    bytes: Uint8Array,
    store: Blobs,
    track: (work: Promise<unknown>) => void,
  ): boolean {
    const future = this.#waiting.get(id);
    if (!future) return false;
    this.#waiting.delete(id);
    track(
      readOutcome(bytes, store).then(
        (record) =>
          record.ok ? future.setResult(record.value) : future.setException(outcomeError(record)),
        (error) => future.setException(error),
      ),
    );
    return true;
  }

  /** At shutdown: the futures still waiting are cancelled. */
  close(): void {
    for (const future of this.#waiting.values()) {
      future.setException(new CancelledError("the executor was shut down before the outcome came"));
    }
    this.#waiting.clear();
  }
}

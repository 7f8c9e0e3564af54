// The worker of the raw postMessage floor: one message per task in, one message per result out,
// nothing else. It runs the same task functions as the pool.

import * as tasks from "./_worker_tasks.ts";

/** A task for the raw floor: `tasks[fn](...args)`, answered with the same `id`. */
export interface RawRequest {
  id: number;
  fn: keyof typeof tasks;
  args: unknown[];
}

/** The answer to a {@linkcode RawRequest}. */
export interface RawResponse {
  id: number;
  value: unknown;
}

type Fn = (...args: unknown[]) => unknown;

const scope = globalThis as unknown as {
  onmessage: ((event: MessageEvent<RawRequest>) => void) | null;
  postMessage(message: RawResponse): void;
};

scope.onmessage = (event) => {
  const { id, fn, args } = event.data;
  scope.postMessage({ id, value: (tasks[fn] as Fn)(...args) });
};

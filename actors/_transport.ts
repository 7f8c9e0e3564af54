// What carries protocol messages to a Web Worker.

import type { HostMessage, WorkerMessage } from "./_protocol.ts";

/** The host's end of a channel to one worker. */
export interface Transport {
  /** Sends a message; throws `DataCloneError` when it cannot be cloned. */
  post(message: HostMessage, transfer?: Transferable[]): void;
  /** Ends the worker. */
  terminate(): void;
}

/** What a transport reports to its owner. */
export interface TransportEvents {
  message(message: WorkerMessage): void;
  /** The worker failed outside our protocol (an error our worker code did not catch). */
  error(message: string): void;
}

/**
 * Deno's permission options for a worker. Anything but `"inherit"` needs Deno's
 * `--unstable-worker-options` flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type WorkerPermissions, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * // Or, with --unstable-worker-options: "none", or { read: ["./data"], net: false }.
 * const permissions: WorkerPermissions = "inherit";
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 1, permissions });
 * assert.equal(await pool.submit(() => 6 * 7), 42);
 * ```
 */
export type WorkerPermissions = "inherit" | "none" | Deno.PermissionOptionsObject;

/** A transport over a Deno Web Worker running `url`. */
export function webWorkerTransport(
  url: URL,
  name: string,
  permissions: WorkerPermissions | undefined,
  events: TransportEvents,
): Transport {
  const options: WorkerOptions & { deno?: { permissions: WorkerPermissions } } = {
    type: "module",
    name,
  };
  if (permissions !== undefined && permissions !== "inherit") options.deno = { permissions };
  const worker = new Worker(url, options);
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => events.message(event.data);
  worker.onerror = (event: ErrorEvent) => {
    // Without preventDefault() an error in a worker ends the whole process.
    event.preventDefault();
    events.error(event.message);
  };
  worker.onmessageerror = () => events.error("a message from the worker could not be read");
  return {
    post: (message, transfer) => worker.postMessage(message, transfer ?? []),
    terminate: () => worker.terminate(),
  };
}

/** Whether `error` says a value could not be cloned into a message (`DataCloneError`). */
export function isCloneError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "DataCloneError";
}

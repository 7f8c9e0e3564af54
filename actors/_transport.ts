// What carries protocol messages: a Web Worker here; a subprocess pipe can implement the same.

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

/** Deno's permission options for a worker. */
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

/**
 * Deno ends the whole process (exit code 70, which cannot be caught) when a worker is given
 * permissions without `--unstable-worker-options`. Refuse early, with an explanation, when the
 * flag is certainly missing.
 */
export function checkWorkerOptionsFlag(what: string): void {
  if (workerOptionsEnabled() !== false) return;
  throw new Error(
    `Cannot ${what} with 'permissions': Deno needs the --unstable-worker-options flag (or "unstable": ["worker-options"] in deno.json) to give workers their own permissions, and without it ends the process with exit code 70`,
  );
}

function workerOptionsEnabled(): boolean | undefined {
  let args: string[];
  try {
    args = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
  } catch {
    return undefined;
  }
  if (args.includes("--unstable-worker-options") || args.includes("--unstable")) return true;
  let config: string | undefined;
  for (const [i, arg] of args.entries()) {
    if (arg === "--config" || arg === "-c") config = args[i + 1];
    else if (arg.startsWith("--config=")) config = arg.slice("--config=".length);
    else if (arg === "--no-config") return false;
  }
  const candidates: string[] = [];
  if (config) candidates.push(config);
  else {
    for (let dir = Deno.cwd();;) {
      candidates.push(`${dir}/deno.json`, `${dir}/deno.jsonc`);
      const parent = dir.replace(/\/[^/]*$/, "");
      if (parent === dir || parent === "") break;
      dir = parent;
    }
  }
  for (const path of candidates) {
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch {
      continue;
    }
    return /"unstable"\s*:\s*\[[^\]]*"worker-options"/.test(text);
  }
  return false;
}

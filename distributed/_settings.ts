// Which layout settings a client or worker gave explicitly: only those are checked against the
// JetStream objects that exist (see `_verify.ts`); the rest takes what the server holds.

import { show } from "../future/_options.ts";
import { defaultLayout, type LayoutOptions } from "./_layout.ts";
import type { RequestedLayout } from "./_verify.ts";

/** The executor option (or, in kebab case, the worker flag) behind each layout field. */
export const LAYOUT_OPTION = {
  ackWait: "ackWait",
  maxDeliver: "maxDeliveries",
  maxAckPending: "maxInFlight",
  streamMaxMsgs: "streamMaxMessages",
  storage: "storage",
  replicas: "replicas",
  resultTtl: "resultTtl",
} as const satisfies Record<keyof LayoutOptions, string>;

/** The fields of `layout` whose option is present in `given`. */
export function requestedLayout(
  layout: LayoutOptions,
  given: object,
): RequestedLayout {
  const options = given as Record<string, unknown>;
  const requested: Record<string, unknown> = {};
  for (const [field, option] of Object.entries(LAYOUT_OPTION)) {
    if (options[option] !== undefined) requested[field] = layout[field as keyof LayoutOptions];
  }
  return requested as RequestedLayout;
}

/** The worker's flags for the layout settings, in `parseArgs` form (`--ack-wait` is its own). */
export const LAYOUT_FLAGS = {
  replicas: { type: "string" },
  storage: { type: "string" },
  "result-ttl": { type: "string" },
  "max-in-flight": { type: "string" },
  "max-deliveries": { type: "string" },
  "stream-max-messages": { type: "string" },
} as const;

/** The layout settings a worker was given as flags, checked. */
export interface LayoutFlags {
  replicas?: number;
  storage?: "file" | "memory";
  resultTtl?: number;
  maxInFlight?: number;
  maxDeliveries?: number;
  streamMaxMessages?: number;
}

/**
 * Reads the layout flags from `parseArgs` values.
 *
 * @throws {RangeError} or {TypeError} naming the flag and quoting its value
 */
export function layoutFlags(values: Record<string, unknown>, what: string): LayoutFlags {
  const out: LayoutFlags = {};
  const ints = [
    ["replicas", "replicas"],
    ["result-ttl", "resultTtl"],
    ["max-in-flight", "maxInFlight"],
    ["max-deliveries", "maxDeliveries"],
    ["stream-max-messages", "streamMaxMessages"],
  ] as const;
  for (const [flag, field] of ints) {
    const text = values[flag];
    if (text === undefined) continue;
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `Cannot ${what} as '--${flag}' must be a positive integer: received ${show(text)}`,
      );
    }
    out[field] = value;
  }
  const storage = values.storage;
  if (storage !== undefined) {
    if (storage !== "file" && storage !== "memory") {
      throw new TypeError(
        `Cannot ${what} as '--storage' must be "file" or "memory": received ${show(storage)}`,
      );
    }
    out.storage = storage;
  }
  return out;
}

/** The full layout and the explicitly requested part, from a worker's options. */
export function workerLayout(
  options: LayoutFlags & { ackWait?: number },
): { layout: LayoutOptions; requested: RequestedLayout } {
  const layout: LayoutOptions = {
    ackWait: options.ackWait ?? defaultLayout.ackWait,
    maxDeliver: options.maxDeliveries ?? defaultLayout.maxDeliver,
    maxAckPending: options.maxInFlight ?? defaultLayout.maxAckPending,
    streamMaxMsgs: options.streamMaxMessages ?? defaultLayout.streamMaxMsgs,
    storage: options.storage ?? defaultLayout.storage,
    replicas: options.replicas ?? defaultLayout.replicas,
    resultTtl: options.resultTtl ?? defaultLayout.resultTtl,
  };
  return { layout, requested: requestedLayout(layout, options) };
}

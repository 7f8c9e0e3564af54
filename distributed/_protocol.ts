// The messages between a DistributedExecutor and its workers. Types only: a protocol change is a
// one-file diff. Task and outcome bodies are encoded by `_codec.ts` (JSON for plain data, V8
// serialization otherwise); start notices are V8-serialized.

import type { WireError } from "../actors/error_codec.ts";

/**
 * A task function on the wire: an export of a task module (its URL where the client loaded it,
 * and the SHA-256 of the file when the client could read it), or a self-contained source.
 */
export type WireFn = { module: string; name: string; hash?: string } | { source: string };

/**
 * The protocol version a client writes in its task messages. 2: the client reads outcomes encoded
 * as JSON (a worker answers a version 1 task V8-serialized), and task bodies may be JSON (workers
 * of version 1 cannot read them: upgrade workers first).
 */
export const PROTOCOL = 2;

/** The body of a task message on `futs.task.<queue>`. */
export interface TaskEnvelope {
  v: 1 | 2;
  /** The task id, unique within its client. */
  id: string;
  /** The submitting client's id; the result key is `<client>.<id>`. */
  client: string;
  fn: WireFn;
  /** `call`: `fn(...args)`; `chunk`: `args[0]` is a list of items, each mapped with `fn`. */
  kind: "call" | "chunk";
  /** The arguments, unless they are in the object store under `argsBlob`. */
  args?: unknown[];
  argsBlob?: string;
  /** What the payload `argsBlob` was when the client stored it (checked by the reader). */
  argsSeal?: { digest: string; size: number };
  timeout?: number;
  deadline?: number;
  /** Deliveries a task may use before it counts as a poison task. */
  maxAttempts: number;
  submittedAt: number;
}

/** The value stored in the results bucket under `<client>.<id>`. */
export interface ResultRecord {
  v: 1;
  ok: boolean;
  value?: unknown;
  error?: WireError;
  /** For a failed chunk: the values before the failing item. */
  values?: unknown[];
  /** The encoded record is in the object store under this name. */
  blob?: string;
  /** What the payload `blob` was when the worker stored it (checked by the reader). */
  seal?: { digest: string; size: number };
  worker: string;
  deliveries: number;
  /** How long the task ran on the worker, in ms (absent where it did not run). */
  ms?: number;
}

/**
 * One task's start, published on `futs.started.<client>` in a list: the tasks a worker started in
 * one turn of its event loop that are still running at its end (a task done by then sends none;
 * its outcome says it started). Workers before this list sent one note a message.
 */
export interface StartedNote {
  id: string;
  worker: string;
  deliveries: number;
}

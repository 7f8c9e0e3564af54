// The wire protocol between a pool and its workers: types and constants, no logic, so that a
// protocol change is a one-file diff. The host and the worker both import it. Tasks and results
// travel in batches, laid out in columns: a batch names its functions once, and each task is a
// run of plain values in one flat array, so that structured clone writes no object (and no key)
// per task. Rare per-task fields ride in a sparse side table of the batch.

import type { WireError } from "./error_codec.ts";

/** Bumped on every incompatible change; the worker refuses an `init` of another version. */
export const PROTOCOL_VERSION = 9;

/**
 * The per-worker Int32Array in shared memory: control words, then one claim slot per task in
 * flight. A slot holds `seq` while its task waits, `-seq` once the worker claimed it, and 0 once
 * the host revoked it; each side changes it only with a compare-and-swap, so a task is either
 * run by the worker or taken back by the host (to retire the worker, or to give the task to an
 * idle worker), never both.
 */
export const Ctl = {
  /** The seq of the task the host asks to stop (read by `taskSignal().aborted`). */
  Abort: 0,
  /** Why: 1 timeout, 2 aborted. */
  AbortKind: 1,
  /** The seq of the last task whose synchronous part returned (to tell spinning workers). */
  Returned: 2,
  /** Always 0, and only the host uses it: its timers wait on it (see `PoolWorker.after`). */
  Timer: 3,
  /**
   * 1 once the host ends the worker. Deno does not stop a thread asleep in `Atomics.wait()`: a
   * blocking wait of sync/ that wakes in an ended worker gives up instead of going on (taking a
   * lock and running the critical section of a task that was stopped).
   */
  Ended: 4,
  /** Where the claim slots begin. */
  Slots: 5,
  /** How many claim slots. */
  SlotCount: 256,
  /** The length of the array. */
  Size: 5 + 256,
} as const;

/**
 * How a task names its function: an export of a task module, shipped source (sent once per
 * worker, in its table of functions; see `RunMessage.fns`), or a method of the worker's actor
 * instance (a user actor, see `InitMessage.actor`).
 */
export type FnRef =
  | { readonly module: number; readonly name: string }
  | {
    readonly id: number;
    readonly source: string;
    /** The function's own name, bound to it in the worker. */
    readonly name?: string;
    /** Where it was submitted from, shown in its stack frames. */
    readonly site?: string;
    /**
     * It may be the export `name` of `modules[exportOf]` (the program's main module, whose
     * exports the host cannot read while it evaluates): the worker takes that export when its
     * text is `source`.
     */
    readonly exportOf?: number;
    /** Otherwise, why it cannot go by source: the worker throws this as a `TypeError`. */
    readonly refused?: string;
  }
  | { readonly method: string };

/**
 * The fields of a task that few tasks have, in a batch's side table (see `RunMessage.extras`).
 * A field added here costs nothing to the tasks that lack it.
 */
export interface TaskExtras {
  /** `fn(item)` for each item of the task's single argument, in place of `fn(...args)`. */
  readonly kind?: "chunk";
  /**
   * Where the task's proxied callbacks were in its arguments (each a path of keys, replaced by
   * null); a callback's index here is its id in `WireCall.proxy`.
   */
  readonly proxies?: readonly (readonly (string | number)[])[];
  /** The W3C trace context the task runs in (a rare field: only when the submitter traces). */
  readonly traceparent?: string;
}

/** How many values of `RunMessage.tasks` come before a task's arguments. */
export const TASK_HEADER = 4;

/** Host → worker: load the modules, run the initializer, then answer `ready` or `initFailed`. */
export interface InitMessage {
  readonly type: "init";
  readonly version: number;
  readonly workerId: number;
  readonly modules: readonly string[];
  readonly initializer?: FnRef;
  readonly initargs: unknown[];
  /**
   * Makes the worker a user actor: the default export of `modules[module]`, constructed with
   * `args` when it is a class, whose methods are then called with `{ method }` references.
   */
  readonly actor?: { readonly module: number; readonly args: unknown[] };
  /** The control slots in shared memory (a thread); a process has none. */
  readonly ctl?: SharedArrayBuffer;
  /**
   * A Web Lock (`navigator.locks`) the thread holds for as long as it lives: the host tells by it
   * whether a thread it ended while busy is still running (Deno cannot stop a busy thread).
   */
  readonly aliveLock?: string;
}

/**
 * Host → worker: run these tasks in order. `tasks` is flat: for each task `fn, seq, slot, nargs`
 * (see `TASK_HEADER`) then its `nargs` arguments, where `fn` indexes the worker's table of
 * functions, `seq` numbers the task on this worker (positive), and `slot` is its claim slot in
 * shared memory or -1 for none. A batch with no new function and no extras goes as its `tasks`
 * array alone (a {@linkcode RunBatch}).
 */
export interface RunMessage {
  readonly type: "run";
  /** Functions new to the worker: they join its table, in order, before the tasks run. */
  readonly fns: FnRef[];
  readonly tasks: unknown[];
  /** Per-task rare fields, as `[index of the task in the batch, fields]`, in task order. */
  readonly extras?: [number, TaskExtras][];
}

/** Host → worker: the `tasks` of a {@linkcode RunMessage} that needs nothing else. */
export type RunBatch = unknown[];

/** Host → worker: abort the signal of a running (async) task. */
export interface AbortMessage {
  readonly type: "abort";
  readonly seq: number;
  readonly reason: WireError;
}

/** The caller's answer to one `WireCall`. */
export type WireReply =
  | { readonly call: number; readonly ok: true; readonly value: unknown }
  | { readonly call: number; readonly ok: false; readonly error: WireError };

/** Host → worker: answers to calls, in the order they settled on the host. */
export interface RepliesMessage {
  readonly type: "replies";
  readonly replies: WireReply[];
}

/**
 * Host → worker: from now on, tell when each task ended (`on`, results of type `stamped`), or
 * stop. Sent before a batch when it changes: while an observer watches the pool, the worker's
 * clock reading at a task's end (which it reads anyway, for the run time) spares the host one.
 */
export interface StampMessage {
  readonly type: "stamp";
  readonly on: boolean;
}

/** Host → worker: answer with `pong` (a worker inside a running task cannot, until it returns). */
export interface PingMessage {
  readonly type: "ping";
  readonly id: number;
}

/** Everything the host sends. */
export type HostMessage =
  | RunBatch
  | InitMessage
  | RunMessage
  | StampMessage
  | AbortMessage
  | RepliesMessage
  | PingMessage;

/** Worker → host: initialised and ready for tasks. */
export interface ReadyMessage {
  readonly type: "ready";
  /**
   * The worker's `performance.timeOrigin`: its clock readings (the `end` of stamped results)
   * plus this are epoch milliseconds, comparable with the host's.
   */
  readonly origin: number;
  /** The worker's `performance.now()` as it sent this: the host takes off a lead it shows. */
  readonly now: number;
}

/** Worker → host: a module or the initializer failed; the pool breaks. */
export interface InitFailedMessage {
  readonly type: "initFailed";
  readonly stage: "module" | "actor" | "initializer" | "protocol";
  readonly error: WireError;
}

/**
 * Worker → host, from a worker without claim slots (a process): task `seq` is about to start.
 * A task that was sent but never acknowledged did not run, so it can go to another worker when
 * this one ends.
 */
export interface StartedMessage {
  readonly type: "started";
  readonly seq: number;
}

/**
 * Worker → host: outcomes of finished tasks, flat: for each `seq, ms, value` when the task
 * returned a value, `-seq, ms, error` (a `WireError`) when it failed; `ms` is its run time in the
 * worker. Of type `stamped` (see `StampMessage`), each has one more column, `seq, ms, end, value`:
 * `end` is the worker's `performance.now()` when the task ended. The type tells the layout, so
 * that the message has the same keys either way.
 */
export interface ResultsMessage {
  readonly type: "results" | "stamped";
  readonly results: unknown[];
  /** For a chunk that failed, the values of the items before the failing one, by seq. */
  readonly values?: [number, unknown[]][];
}

/**
 * Worker → host: the `results` of a {@linkcode ResultsMessage} without `values`, alone: the
 * common case, and the cheapest message to clone. Stamped results start with a 0 (no task's
 * seq), which tells their layout.
 */
export type ResultsBatch = unknown[];

/** The first value of a {@linkcode ResultsBatch} of stamped results. */
export const STAMPED = 0;

/**
 * A task's call to one of its proxied callbacks: `proxy` is the callback's index in the task's
 * `TaskExtras.proxies`, and `call` numbers the call on this worker, for the reply.
 */
export interface WireCall {
  readonly seq: number;
  readonly proxy: number;
  readonly call: number;
  readonly args: unknown[];
}

/**
 * Worker → host: calls to proxied callbacks, in the order tasks made them. Sent before any
 * results flushed with them, so a task's calls reach the host before its outcome.
 */
export interface CallsMessage {
  readonly type: "calls";
  readonly calls: WireCall[];
}

/** Worker → host: the worker is about to end (`self.close()`, `Deno.exit()`, an uncaught error). */
export interface ExitMessage {
  readonly type: "exit";
  readonly cause: "close" | "exit" | "uncaught";
  readonly code: number;
  readonly error?: WireError;
}

/** Worker → host: the answer to `ping`; its event loop was free. */
export interface PongMessage {
  readonly type: "pong";
  readonly id: number;
}

/** Everything the worker sends. */
export type WorkerMessage =
  | PongMessage
  | ReadyMessage
  | InitFailedMessage
  | StartedMessage
  | ResultsMessage
  | ResultsBatch
  | CallsMessage
  | ExitMessage;

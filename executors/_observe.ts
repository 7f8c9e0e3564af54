// The hook that metrics, traces and the dashboard (observe/) hang on: an executor's core holds at
// most one observer, and the engines report to it with one call per event. With no observer the
// cost is a null check per event: nothing is allocated per task.
//
// This file has no imports beyond types, so a Web Worker that loads the executors loads nothing
// more for it.

import type { Job, Task } from "./_task.ts";

/**
 * A worker's phase, as an observer hears of it (the phases of executors/_membership.ts).
 * `draining`: retiring, and its event loop answered, so it finishes its other tasks before it
 * ends. `ended`: gone, it leaves the list.
 */
export type ObservedWorkerState =
  | "starting"
  | "idle"
  | "busy"
  | "retiring"
  | "draining"
  | "ended";

/**
 * Receives an executor's events. Called synchronously by the engines: it must be quick, and it
 * must not throw (what it throws would break the engine; observe/ guards every call).
 */
export interface ExecutorObserver {
  /** `submit()` (or one `map()` chunk) created a task; the caller's context is current. */
  submitted(task: Task): void;
  /** An attempt was queued (attempt 1, then each retry). */
  queued(job: Job): void;
  /**
   * An attempt was handed to a worker (its name), or started on the event loop (`undefined`).
   * A task taken back from one worker and given to another is reported again.
   */
  started(job: Job, worker: string | undefined): void;
  /**
   * A worker reported how long the attempt ran there (`ms`), just before it settles, and when it
   * ended (`end`, epoch ms by the worker's clock), or -1 where it did not say. A distributed
   * executor tells it before `started()` when the outcome is the first news of the start.
   */
  ran(job: Job, ms: number, end: number): void;
  /** An attempt settled: `ok`, or with `error`. `job.started` says whether it ran. */
  ended(job: Job, ok: boolean, error: unknown): void;
  /** A task's future settled: `outcome` 0 with a value, 1 with an error, 2 cancelled. */
  settled(task: Task, outcome: 0 | 1 | 2): void;
  /** A worker changed state. */
  worker(name: string, state: ObservedWorkerState): void;
  /**
   * The calling code's context (a tracer's active span), as a function that runs code in it, or
   * undefined: `map()` asks at its call, and submits the chunks it pulls later in that context, as
   * if they were submitted at the call.
   */
  context?(): InContext | undefined;
}

/** Runs `run` in a context captured earlier (see `ExecutorObserver.context`). */
export type InContext = (run: () => void) => void;

/** What an executor's core offers an observer. */
export interface Observable {
  /** Set by observe/; engines call it when it is set. */
  observer: ExecutorObserver | undefined;
  /** The executor's label, e.g. `WorkerPoolExecutor 'cpu'`. */
  readonly label: string;
}

/**
 * A distributed executor's cluster, as its workers' heartbeats tell it (distributed/_heartbeat.ts
 * implements it; observe/ reads it).
 */
export interface ObservedCluster {
  /** A worker not heard of for this long is gone, in ms; by default three of its intervals. */
  expiry: number | undefined;
  /** Called when a worker joins or leaves, and when a new stream depth arrives. */
  onChange: (() => void) | undefined;
  /** The workers heard of lately. */
  workers(): { name: string; running: number; pid: number; host: string | undefined }[];
  /** Tasks in the stream no worker has taken, as last read (one read per call at most). */
  streamDepth(): number | undefined;
}

const observables = new WeakMap<object, Observable>();
const clusters = new WeakMap<object, () => ObservedCluster>();

/**
 * Called by each executor's constructor: makes `executor` observable through `core`, and its
 * cluster through `cluster` (a distributed executor; called when an observer first asks).
 */
export function makeObservable(
  executor: object,
  core: Observable,
  cluster?: () => ObservedCluster,
): void {
  observables.set(executor, core);
  if (cluster) clusters.set(executor, cluster);
}

/** The cluster of a distributed executor (it starts watching it), or undefined. */
export function clusterOf(executor: object): ObservedCluster | undefined {
  return clusters.get(executor)?.();
}

/** The core behind a public executor, or undefined for an object that is not one. */
export function observableOf(executor: object): Observable | undefined {
  return observables.get(executor);
}

let carried: string | undefined;

/**
 * Calls `submit` with `traceparent` as the trace context of the tasks it submits (synchronously):
 * their attempts run in it on the workers. A distributed worker passes on the context that came
 * with a task this way.
 */
export function carryTraceparent<T>(traceparent: string | undefined, submit: () => T): T {
  const outer = carried;
  carried = traceparent;
  try {
    return submit();
  } finally {
    carried = outer;
  }
}

/** The trace context set by `carryTraceparent()` around the current submit, if any. */
export function carriedTraceparent(): string | undefined {
  return carried;
}

// One executor's recorder: the observer installed on its core. It keeps what stats() does not:
// the histograms, a per-second timeline, the recent task bars (for the task stream), recent
// failures and what each worker is doing. Everything is bounded.

import type { ExecutorObserver, Observable, ObservedWorkerState } from "../executors/_observe.ts";
import type { Job, Task } from "../executors/_task.ts";
import { CancelledError } from "../future/errors.ts";
import { outcomeOf } from "../future/future.ts";
import { Histogram } from "./_histogram.ts";

import type { Outcome } from "./metrics.ts";

/** One bar of the task stream. Times are epoch milliseconds. */
export interface TaskBar {
  lane: string;
  fn: string;
  start: number;
  end: number;
  outcome: Outcome;
  attempt: number;
}

/** A recent failure. */
export interface Failure {
  at: number;
  fn: string;
  attempt: number;
  error: string;
}

/** What a worker (or an event-loop slot, or a cluster worker) is doing. */
export interface WorkerView {
  name: string;
  state: Exclude<ObservedWorkerState, "ended">;
  /** Attempts in flight on it. */
  running: number;
  /** When it was last heard of (epoch ms). */
  seen: number;
}

/** One second of the timeline. */
export interface Second {
  /** Epoch seconds. */
  t: number;
  completed: number;
  failed: number;
  /** Sum and count of run times that ended in this second, in ms. */
  runMs: number;
  runs: number;
}

/** Receives the same events as the recorder, after it (tracing hangs here). */
export type Sink = Partial<ExecutorObserver>;

interface JobRecord {
  queuedAt: number;
  startedAt: number;
  lane: string | undefined;
  /** The event-loop slot it holds (AsyncPoolExecutor), or -1. */
  slot: number;
  runMs: number | undefined;
}

const BARS = 600;
const FAILURES = 20;
const SECONDS = 300;

/** Epoch milliseconds with sub-millisecond precision. */
export const now = (): number => performance.timeOrigin + performance.now();

/** The recorder of one executor. */
export class Recorder implements ExecutorObserver {
  readonly duration = new Histogram();
  readonly wait = new Histogram();
  readonly attempts: Record<Outcome, number> = { completed: 0, failed: 0, cancelled: 0 };
  readonly tasks: Record<Outcome, number> = { completed: 0, failed: 0, cancelled: 0 };
  readonly workers = new Map<string, WorkerView>();
  /** The newest task bars (up to twice as many are kept between trims; read the last 600). */
  readonly bars: TaskBar[] = [];
  /** The newest failures, last 20 at least. */
  readonly failures: Failure[] = [];
  /** One entry per second with activity, the last 300 at least. */
  readonly timeline: Second[] = [];
  readonly sinks = new Set<Sink>();
  readonly #jobs = new Map<Job, JobRecord>();
  /** Event-loop slots in use (AsyncPoolExecutor has no workers: its tasks run in slots). */
  readonly #slots: boolean[] = [];
  /** Listeners told when something changed (the dashboard batches its updates). */
  onChange: (() => void) | undefined;

  constructor(readonly core: Observable) {}

  submitted(task: Task): void {
    for (const sink of this.sinks) sink.submitted?.(task);
  }

  queued(job: Job): void {
    const t = now();
    this.#jobs.set(job, { queuedAt: t, startedAt: 0, lane: undefined, slot: -1, runMs: undefined });
    for (const sink of this.sinks) sink.queued?.(job);
  }

  started(job: Job, worker: string | undefined): void {
    const record = this.#jobs.get(job);
    if (!record) return;
    const t = now();
    if (record.lane !== undefined) {
      // Taken back from one worker and given to another.
      this.#leave(record);
    } else {
      record.startedAt = t;
      this.wait.observe((t - record.queuedAt) / 1000);
    }
    if (worker === undefined) {
      let slot = this.#slots.indexOf(false);
      if (slot < 0) slot = this.#slots.length;
      this.#slots[slot] = true;
      record.slot = slot;
      worker = `slot ${slot + 1}`;
    }
    record.lane = worker;
    const view = this.#worker(worker, t);
    view.running++;
    view.state = "busy";
    for (const sink of this.sinks) sink.started?.(job, worker);
    this.onChange?.();
  }

  ran(job: Job, ms: number): void {
    const record = this.#jobs.get(job);
    if (record) record.runMs = ms;
    for (const sink of this.sinks) sink.ran?.(job, ms);
  }

  ended(job: Job, ok: boolean, error: unknown): void {
    const record = this.#jobs.get(job);
    this.#jobs.delete(job);
    const t = now();
    const outcome: Outcome = ok
      ? "completed"
      : error instanceof CancelledError
      ? "cancelled"
      : "failed";
    const fn = fnName(job.fn);
    if (record && record.lane !== undefined) {
      this.attempts[outcome]++;
      const start = record.runMs === undefined
        ? record.startedAt
        : Math.max(record.startedAt, t - record.runMs);
      const ms = t - start;
      this.duration.observe(ms / 1000);
      const second = this.#second(t);
      if (ok) second.completed++;
      else second.failed++;
      second.runMs += ms;
      second.runs++;
      push(
        this.bars,
        { lane: record.lane, fn, start, end: t, outcome, attempt: job.attempt },
        BARS,
      );
      this.#leave(record);
    }
    if (!ok && outcome === "failed") {
      push(this.failures, { at: t, fn, attempt: job.attempt, error: describe(error) }, FAILURES);
    }
    for (const sink of this.sinks) sink.ended?.(job, ok, error);
    this.onChange?.();
  }

  settled(task: Task): void {
    const future = task.future;
    if (future.cancelled()) this.tasks.cancelled++;
    else if (outcomeOf(future).failed) this.tasks.failed++;
    else this.tasks.completed++;
    for (const sink of this.sinks) sink.settled?.(task);
  }

  worker(name: string, state: ObservedWorkerState): void {
    if (state === "ended") this.workers.delete(name);
    else this.#worker(name, now()).state = state;
    for (const sink of this.sinks) sink.worker?.(name, state);
    this.onChange?.();
  }

  /**
   * Makes the worker list that of a cluster's heartbeats: cluster workers have no exit event
   * here, so those no longer heard of leave (unless a task of ours is still on them).
   */
  syncCluster(alive: { name: string; running: number }[]): void {
    const t = now();
    const names = new Set<string>();
    for (const { name, running } of alive) {
      names.add(name);
      const view = this.#worker(name, t);
      if (view.running === 0) view.state = running > 0 ? "busy" : "idle";
    }
    for (const [name, view] of this.workers) {
      if (!names.has(name) && view.running === 0) this.workers.delete(name);
    }
  }

  /** The timeline's last `seconds` seconds, oldest first, with empty seconds filled in. */
  recent(seconds: number): Second[] {
    const end = Math.floor(now() / 1000);
    const byT = new Map(this.timeline.map((s) => [s.t, s]));
    const out: Second[] = [];
    for (let t = end - seconds + 1; t <= end; t++) {
      out.push(byT.get(t) ?? { t, completed: 0, failed: 0, runMs: 0, runs: 0 });
    }
    return out;
  }

  #leave(record: JobRecord): void {
    const view = record.lane === undefined ? undefined : this.workers.get(record.lane);
    if (view) {
      view.running = Math.max(0, view.running - 1);
      view.seen = now();
      if (view.running === 0 && view.state === "busy") view.state = "idle";
    }
    if (record.slot >= 0) {
      this.#slots[record.slot] = false;
      record.slot = -1;
    }
  }

  #worker(name: string, t: number): WorkerView {
    let view = this.workers.get(name);
    if (!view) this.workers.set(name, view = { name, state: "idle", running: 0, seen: t });
    view.seen = t;
    return view;
  }

  #second(t: number): Second {
    const sec = Math.floor(t / 1000);
    const last = this.timeline.at(-1);
    if (last && last.t === sec) return last;
    const second = { t: sec, completed: 0, failed: 0, runMs: 0, runs: 0 };
    push(this.timeline, second, SECONDS);
    return second;
  }
}

// Trimmed in halves, not per item: readers take the newest `max` (or fewer) entries.
function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length >= 2 * max) list.splice(0, list.length - max);
}

/** A task function's name, for span names and the task stream. */
export function fnName(fn: (...args: unknown[]) => unknown): string {
  return fn.name || "anonymous";
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

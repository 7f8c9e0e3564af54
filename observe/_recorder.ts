// One executor's recorder: the observer installed on its core. It keeps what stats() does not:
// the histograms, a per-second timeline, the recent task bars (for the task stream), recent
// failures and what each worker is doing. Everything is bounded.

import type { ExecutorObserver, Observable, ObservedWorkerState } from "../executors/_observe.ts";
import type { Job, Task } from "../executors/_task.ts";
import { CancelledError } from "../future/errors.ts";
import { outcomeOf } from "../future/_hooks.ts";
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

const BARS = 1024;
const FAILURES = 20;
/** Seconds the timeline keeps (a power of two: the ring is indexed by `second & (SECONDS - 1)`). */
const SECONDS = 512;
/** Observations held before they go into the histograms. */
const PENDING = 256;
const OUTCOMES: readonly Outcome[] = ["completed", "failed", "cancelled"];

/** Epoch milliseconds with sub-millisecond precision. */
export const now = (): number => performance.timeOrigin + performance.now();

/**
 * The recorder of one executor. Recording allocates nothing per event: what an attempt needs
 * between its events lives in typed arrays at a slot of its own (`Job.observerSlot`), bars and
 * seconds go into typed-array rings, names are interned once, and run and wait times wait in a
 * buffer that is added to the histograms in batches (when it is full, and before any read).
 */
export class Recorder implements ExecutorObserver {
  readonly attempts: Record<Outcome, number> = { completed: 0, failed: 0, cancelled: 0 };
  readonly tasks: Record<Outcome, number> = { completed: 0, failed: 0, cancelled: 0 };
  /** Whether `tasks` is counted here (the executor's stats() has no `futures`). */
  countTasks = true;
  readonly workers = new Map<string, WorkerView>();
  /** The newest failures, last 20 at least. */
  readonly failures: Failure[] = [];
  /** Receive the same events, after the recorder (tracing adds one). */
  readonly sinks: Sink[] = [];
  /** Listeners told when something changed (the dashboard batches its updates). */
  onChange: (() => void) | undefined;

  readonly #duration = new Histogram();
  readonly #wait = new Histogram();
  #pendingDuration = new Float64Array(PENDING);
  #pendingWait = new Float64Array(PENDING);
  #durations = 0;
  #waits = 0;

  // Per attempt in flight, at its slot.
  #queuedAt = new Float64Array(64);
  #startedAt = new Float64Array(64);
  #runMs = new Float64Array(64);
  #lane = new Int32Array(64);
  #asyncSlot = new Int32Array(64);
  #free: number[] = [];
  #slots = 0;

  // Lanes (worker names) and function names, interned.
  readonly #laneIds = new Map<string, number>();
  readonly #laneNames: string[] = [];
  readonly #views: (WorkerView | undefined)[] = [];
  readonly #fnIds = new Map<string, number>();
  readonly #fnNames: string[] = [];
  /** Event-loop slots in use (AsyncPoolExecutor has no workers: its tasks run in slots). */
  readonly #loopSlots: boolean[] = [];
  /** The lane of each event-loop slot. */
  readonly #loopLanes: number[] = [];

  // The task bars, a ring.
  readonly #barStart = new Float64Array(BARS);
  readonly #barEnd = new Float64Array(BARS);
  readonly #barLane = new Int32Array(BARS);
  readonly #barFn = new Int32Array(BARS);
  readonly #barOutcome = new Uint8Array(BARS);
  readonly #barAttempt = new Int32Array(BARS);
  #bars = 0;

  // The timeline, a ring of seconds.
  readonly #secT = new Float64Array(SECONDS).fill(-1);
  readonly #secCompleted = new Float64Array(SECONDS);
  readonly #secFailed = new Float64Array(SECONDS);
  readonly #secRunMs = new Float64Array(SECONDS);
  readonly #secRuns = new Float64Array(SECONDS);

  constructor(readonly core: Observable) {}

  /** Run times of attempts, in seconds. */
  get duration(): Histogram {
    this.#flush();
    return this.#duration;
  }

  /** Times attempts waited before they started, in seconds. */
  get wait(): Histogram {
    this.#flush();
    return this.#wait;
  }

  submitted(task: Task): void {
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.submitted?.(task);
  }

  queued(job: Job): void {
    let slot = job.observerSlot;
    if (slot < 0) slot = job.observerSlot = this.#slot();
    this.#queuedAt[slot] = now();
    this.#startedAt[slot] = 0;
    this.#runMs[slot] = -1;
    this.#lane[slot] = -1;
    this.#asyncSlot[slot] = -1;
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.queued?.(job);
  }

  started(job: Job, worker: string | undefined): void {
    const slot = job.observerSlot;
    if (slot < 0) return;
    const t = now();
    if (this.#lane[slot]! >= 0) {
      // Taken back from one worker and given to another.
      this.#leave(slot, t);
    } else {
      this.#startedAt[slot] = t;
      this.#observe(this.#pendingWait, (t - this.#queuedAt[slot]!) / 1000, false);
    }
    let lane: number;
    if (worker === undefined) {
      let index = this.#loopSlots.indexOf(false);
      if (index < 0) index = this.#loopSlots.length;
      this.#loopSlots[index] = true;
      this.#asyncSlot[slot] = index;
      lane = this.#loopLanes[index] ??= this.#laneOf(`slot ${index + 1}`);
    } else lane = this.#laneOf(worker);
    this.#lane[slot] = lane;
    const view = this.#view(lane, t);
    view.running++;
    view.state = "busy";
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.started?.(job, worker);
    this.onChange?.();
  }

  ran(job: Job, ms: number): void {
    if (job.observerSlot >= 0) this.#runMs[job.observerSlot] = ms;
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.ran?.(job, ms);
  }

  ended(job: Job, ok: boolean, error: unknown): void {
    const slot = job.observerSlot;
    const t = now();
    const outcome = ok ? 0 : error instanceof CancelledError ? 2 : 1;
    if (slot >= 0 && this.#lane[slot]! >= 0) {
      this.attempts[OUTCOMES[outcome]!]++;
      const runMs = this.#runMs[slot]!;
      const start = runMs < 0
        ? this.#startedAt[slot]!
        : Math.max(this.#startedAt[slot]!, t - runMs);
      const ms = t - start;
      this.#observe(this.#pendingDuration, ms / 1000, true);
      const second = this.#second(t);
      if (ok) this.#secCompleted[second]!++;
      else this.#secFailed[second]!++;
      this.#secRunMs[second]! += ms;
      this.#secRuns[second]!++;
      const bar = this.#bars++ & (BARS - 1);
      this.#barStart[bar] = start;
      this.#barEnd[bar] = t;
      this.#barLane[bar] = this.#lane[slot]!;
      this.#barFn[bar] = this.#fnOf(job.fn);
      this.#barOutcome[bar] = outcome;
      this.#barAttempt[bar] = job.attempt;
      this.#leave(slot, t);
    }
    if (slot >= 0) {
      job.observerSlot = -1;
      this.#free.push(slot);
    }
    if (outcome === 1) {
      push(
        this.failures,
        { at: t, fn: fnName(job.fn), attempt: job.attempt, error: describe(error) },
        FAILURES,
      );
    }
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.ended?.(job, ok, error);
    this.onChange?.();
  }

  settled(task: Task): void {
    if (this.countTasks) {
      const future = task.future;
      if (future.cancelled()) this.tasks.cancelled++;
      else if (outcomeOf(future).failed) this.tasks.failed++;
      else this.tasks.completed++;
    }
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.settled?.(task);
  }

  worker(name: string, state: ObservedWorkerState): void {
    if (state === "ended") {
      this.workers.delete(name);
      const lane = this.#laneIds.get(name);
      if (lane !== undefined) this.#views[lane] = undefined;
    } else this.#view(this.#laneOf(name), now()).state = state;
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) sinks[i]!.worker?.(name, state);
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
      const view = this.#view(this.#laneOf(name), t);
      if (view.running === 0) view.state = running > 0 ? "busy" : "idle";
    }
    for (const [name, view] of this.workers) {
      if (!names.has(name) && view.running === 0) this.worker(name, "ended");
    }
  }

  /** The newest task bars (up to 1024), oldest first. */
  get bars(): TaskBar[] {
    const out: TaskBar[] = [];
    for (let i = Math.max(0, this.#bars - BARS); i < this.#bars; i++) {
      const bar = i & (BARS - 1);
      out.push({
        lane: this.#laneNames[this.#barLane[bar]!]!,
        fn: this.#fnNames[this.#barFn[bar]!]!,
        start: this.#barStart[bar]!,
        end: this.#barEnd[bar]!,
        outcome: OUTCOMES[this.#barOutcome[bar]!]!,
        attempt: this.#barAttempt[bar]!,
      });
    }
    return out;
  }

  /** The timeline's last `seconds` seconds (at most 512), oldest first, empty seconds included. */
  recent(seconds: number): Second[] {
    const end = Math.floor(now() / 1000);
    const out: Second[] = [];
    for (let t = end - Math.min(seconds, SECONDS) + 1; t <= end; t++) {
      const i = t & (SECONDS - 1);
      out.push(
        this.#secT[i] === t
          ? {
            t,
            completed: this.#secCompleted[i]!,
            failed: this.#secFailed[i]!,
            runMs: this.#secRunMs[i]!,
            runs: this.#secRuns[i]!,
          }
          : { t, completed: 0, failed: 0, runMs: 0, runs: 0 },
      );
    }
    return out;
  }

  #slot(): number {
    const free = this.#free.pop();
    if (free !== undefined) return free;
    if (this.#slots === this.#queuedAt.length) {
      const grow = <A extends Float64Array | Int32Array>(a: A): A => {
        const b = new (a.constructor as new (n: number) => A)(a.length * 2);
        b.set(a);
        return b;
      };
      this.#queuedAt = grow(this.#queuedAt);
      this.#startedAt = grow(this.#startedAt);
      this.#runMs = grow(this.#runMs);
      this.#lane = grow(this.#lane);
      this.#asyncSlot = grow(this.#asyncSlot);
    }
    return this.#slots++;
  }

  #observe(pending: Float64Array, seconds: number, duration: boolean): void {
    const n = duration ? this.#durations++ : this.#waits++;
    pending[n] = seconds;
    if (n + 1 === PENDING) this.#flush();
  }

  #flush(): void {
    for (let i = 0; i < this.#durations; i++) this.#duration.observe(this.#pendingDuration[i]!);
    for (let i = 0; i < this.#waits; i++) this.#wait.observe(this.#pendingWait[i]!);
    this.#durations = this.#waits = 0;
  }

  #laneOf(name: string): number {
    let id = this.#laneIds.get(name);
    if (id === undefined) {
      id = this.#laneNames.push(name) - 1;
      this.#laneIds.set(name, id);
    }
    return id;
  }

  // By name: a closure submitted in a loop is a new function each time, with the same name.
  #fnOf(fn: (...args: unknown[]) => unknown): number {
    const name = fn.name || "anonymous";
    let id = this.#fnIds.get(name);
    if (id === undefined) {
      // Past 10000 names (generated ones), the rest share the last.
      if (this.#fnIds.size >= 10_000) return this.#fnNames.length - 1;
      id = this.#fnNames.push(name) - 1;
      this.#fnIds.set(name, id);
    }
    return id;
  }

  #leave(slot: number, t: number): void {
    const view = this.#views[this.#lane[slot]!];
    if (view) {
      view.running = Math.max(0, view.running - 1);
      view.seen = t;
      if (view.running === 0 && view.state === "busy") view.state = "idle";
    }
    const index = this.#asyncSlot[slot]!;
    if (index >= 0) {
      this.#loopSlots[index] = false;
      this.#asyncSlot[slot] = -1;
    }
  }

  #view(lane: number, t: number): WorkerView {
    let view = this.#views[lane];
    if (!view) {
      const name = this.#laneNames[lane]!;
      view = this.workers.get(name);
      if (!view) this.workers.set(name, view = { name, state: "idle", running: 0, seen: t });
      this.#views[lane] = view;
    }
    view.seen = t;
    return view;
  }

  #second(t: number): number {
    const sec = Math.floor(t / 1000);
    const i = sec & (SECONDS - 1);
    if (this.#secT[i] !== sec) {
      this.#secT[i] = sec;
      this.#secCompleted[i] =
        this.#secFailed[i] =
        this.#secRunMs[i] =
        this.#secRuns[i] =
          0;
    }
    return i;
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

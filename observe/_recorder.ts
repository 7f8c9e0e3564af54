// One executor's recorder: the observer installed on its core. It keeps what stats() does not:
// the histograms, a per-second timeline, the recent task bars (for the task stream), recent
// failures and what each worker is doing. Everything is bounded, however many workers come and go:
// an ended worker's lane (or a freed event-loop slot's, past maxWorkers) is reused once no bar in
// the ring and no attempt names it, so the lanes are the live workers' and those an attempt in
// flight or one of the 1024 bars still names.

import type {
  ExecutorObserver,
  InContext,
  Observable,
  ObservedWorkerState,
} from "../executors/_observe.ts";
import type { Job, Task } from "../executors/_task.ts";
import { CancelledError } from "../future/errors.ts";
import { describeError, messageOf } from "../future/_text.ts";
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
  /** When it was last heard of (epoch ms; a task's start on it may not count). */
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

/** Receives the same events as the recorder, after it (tracing hangs here): see `addSink()`. */
export type Sink = Partial<ExecutorObserver>;

const BARS = 1024;
const FAILURES = 20;
/** Seconds the timeline keeps (a power of two: the ring is indexed by `second & (SECONDS - 1)`). */
const SECONDS = 512;
// What is kept of an attempt in flight: a row of numbers per slot, one cache line.
const ROW = 8;
/** Rows the recorder starts with, and returns to once no attempt is in flight. */
const ROWS = 64;
const QUEUED = 0;
const STARTED = 1;
const RUN_MS = 2;
const LANE = 3;
const LOOP_SLOT = 4;
/** When the worker says the attempt ended (epoch ms), or -1. */
const ENDED = 5;
// A task bar: a row of the bars ring.
const BAR = 8;
const BAR_START = 0;
const BAR_END = 1;
const BAR_LANE = 2;
const BAR_FN = 3;
const BAR_OUTCOME = 4;
const BAR_ATTEMPT = 5;
/** The time it waited before it started, in seconds, or -1 (unknown, or already observed). */
const BAR_WAIT = 6;
/** 1 when how long it ran is known (it goes into the run-time histogram and the timeline's). */
const BAR_TIMED = 7;
// A second of the timeline: a row of the seconds ring.
const SEC = 8;
const SEC_T = 0;
const SEC_COMPLETED = 1;
const SEC_FAILED = 2;
const SEC_RUN_MS = 3;
const SEC_RUNS = 4;
const OUTCOMES: readonly Outcome[] = ["completed", "failed", "cancelled"];
// Events held back (see `Recorder`): a row of numbers each, and a reference beside it.
const HELD = 32;
const HELD_ROW = 4;
const HELD_STARTED = 0;
const HELD_RAN = 1;
const HELD_ENDED = 2;
const HELD_SETTLED = 3;
const HELD_WORKER = 4;
const STATES: readonly Exclude<ObservedWorkerState, "ended">[] = [
  "starting",
  "idle",
  "busy",
  "retiring",
  "draining",
];

const ORIGIN = performance.timeOrigin;
/** Lanes looked up by comparing names in a list, before a map is asked. */
const SCANNED_LANES = 8;

/**
 * Epoch milliseconds with sub-millisecond precision. A clock read is the dearest step of
 * recording (measured 150–300 ns on a VM's kvm-clock): the recorder reads none per attempt on
 * the engines whose workers report when their tasks ran (WorkerPool and ProcessPool), three
 * elsewhere.
 */
export const now = (): number => ORIGIN + performance.now();

/**
 * The recorder of one executor. Recording allocates nothing per event and looks nothing up in a
 * map on the way of a task: what an attempt needs between its events is a row of a typed array
 * at a slot of its own (`Job.observerSlot`; free rows are a list through the rows), an attempt
 * that ends writes a row of the bars ring (its wait time too) and a count, and worker and
 * function names are interned once (and found again by identity). Between round trips the
 * caches have gone cold, so what counts is how few cache lines an attempt touches: the row, the
 * bar, this object and the worker's view. The rest is done in batches, off the task's way: bars
 * are folded into the run-time and wait histograms and the per-second timeline when half the
 * ring is new, and before any read. The queue time is the engine's own (`Job.queuedAt`) where it keeps one,
 * and where the worker reports when the attempt ended and how long it ran, its end and start
 * are those: no clock read at all.
 *
 * What a round trip costs is the cache lines and the code it goes through: between two round trips
 * of a pool (tens of µs, with other threads at work) the recorder's lines and code have gone
 * cold, and each touched costs a miss. So where the news of an attempt carries its own times (a
 * worker said when it ended and how long it ran) and no sink asks for it now, each event is
 * noted in a small log (a few numbers and a worker's name or a task function: no job, task or
 * value is kept, only a function until its batch is done), and the log is done a batch at a time:
 * at a start once it is half full (a start comes just after its task was sent, while the worker
 * runs), when it is full, before an event that cannot wait (a failure, a start that reads the
 * clock), and before any read. A batch is done with warm code and warm lines.
 */
export class Recorder implements ExecutorObserver {
  // What every event reads comes first: an object's fields are laid out in this order, and these
  // share a cache line or two.
  // Events held back, in order: `HELD_ROW` numbers each (what, then its numbers), and a
  // reference (a function, a worker's name).
  #heldCount = 0;
  readonly #held = new Float64Array(HELD * HELD_ROW);
  readonly #heldRefs: unknown[] = new Array(HELD).fill(undefined);
  /** Sinks that hear of every event as it happens (added without `follows`). */
  #eager = 0;
  /** Sinks added with `follows` that want to hear of submits (see `wake()`). */
  #awake = 0;
  /**
   * Tasks the sinks follow now (a tracer's spans). While none is followed (and no sink is eager,
   * and no listener waits for changes), events may be held back: see the class's comment.
   */
  following = 0;
  /** Listeners told when something changed (the dashboard batches its updates). */
  onChange: (() => void) | undefined;
  readonly #sinks: Sink[] = [];
  /** Whether the engine reports run times (`ran()`), learned from the first report. */
  #runsReported = false;
  // Attempts ended, by outcome: fields of this object, which every event reads anyway.
  #completed = 0;
  #failed = 0;
  #cancelled = 0;
  readonly #tasks = new Float64Array(3);
  /** Whether `tasks` is counted here (the executor's stats() has no `futures`). */
  countTasks = true;
  /**
   * Event-loop slots listed even when free (an AsyncPoolExecutor's `maxWorkers`). A task that
   * awaits a nested submit of its own pool gives back its pool slot but stays in flight, so its
   * attempt keeps its slot here and the nested one takes another: slots past these come and go
   * with nesting, and leave the list once free (the list would grow to the deepest nesting ever).
   */
  keptSlots = 0;
  readonly #workers = new Map<string, WorkerView>();
  /** The newest failures. */
  readonly #failures: Failure[] = [];

  readonly #duration = new Histogram();
  readonly #wait = new Histogram();

  // Per attempt in flight, a row at its slot.
  #rows = new Float64Array(ROWS * ROW);
  /** The first free slot, or -1; a free row's first number is the next (a list through the rows). */
  #freeSlot = -1;
  #slots = 0;
  /** Slots taken: once none is, rows grown by a burst of attempts are let go. */
  #taken = 0;
  // The last task function and its id: a loop submits the same function again and again.
  #lastFn: unknown;
  #lastFnId = 0;

  // Lanes (worker names) and function names, interned. A lane is a live worker's, or an ended
  // worker's that a bar in the ring or an attempt still names (it is reused after that).
  /** The live workers' lanes, by name. */
  readonly #laneIds = new Map<string, number>();
  /** Each lane's name while its worker lives (then `#laneOf` finds it), else undefined. */
  readonly #laneNames: (string | undefined)[] = [];
  /**
   * Each lane's view. An ended worker's stays (out of `workers`) until its lane is reused: its
   * bars are named after it, and its `running` counts the attempts that still name the lane.
   */
  readonly #views: (WorkerView | undefined)[] = [];
  /** Per lane, `#bars` just after its newest bar. */
  readonly #laneBars: number[] = [];
  /** The lanes of ended workers, oldest first. */
  readonly #endedLanes: number[] = [];
  readonly #fnIds = new Map<string, number>();
  readonly #fnNames: string[] = [];
  /**
   * Event-loop slots (AsyncPoolExecutor has no workers: its tasks run in slots): how many there
   * are, and those free now, the latest freed last (a start takes one in O(1): a search for a
   * free one cost as many looks as tasks in flight, quadratic with many at once). Free slots past
   * `keptSlots` are let go from the top; those of them still in the free list are at or past
   * `#loopSlotCount` (it grows only once the list is empty) and are skipped when popped.
   */
  #loopSlotCount = 0;
  readonly #freeLoopSlots: number[] = [];
  /** The lane of each event-loop slot. */
  readonly #loopLanes: number[] = [];
  /** 1 for each event-loop slot in use: what is free below a slot let go is let go too. */
  readonly #loopSlotBusy: number[] = [];

  // The task bars, a ring; those before `#folded` are in the histogram and the timeline.
  readonly #barRows = new Float64Array(BARS * BAR);
  #bars = 0;
  #folded = 0;

  // The timeline, a ring of seconds.
  readonly #secRows = new Float64Array(SECONDS * SEC);

  constructor(readonly core: Observable) {
    for (let i = 0; i < SECONDS; i++) this.#secRows[i * SEC + SEC_T] = -1;
  }

  /** The sinks, in the order they hear of events. */
  get sinks(): readonly Sink[] {
    return this.#sinks;
  }

  /**
   * Adds a sink: it receives every event after the recorder. `follows`: it keeps `following` up
   * to date with the tasks it follows, and needs no event of an attempt while it follows none
   * (a tracer: nothing to do unless a task has a span); else it hears of every event at once.
   */
  addSink(sink: Sink, follows = false): void {
    this.#sinks.push(sink);
    if (!follows) this.#eager++;
  }

  /**
   * A sink added with `follows` wants to hear of submits from now on (a tracer, once a provider
   * is registered): until one does, a submit reaches no such sink.
   */
  wake(): void {
    this.#awake++;
  }

  /** The workers (or event-loop slots, or cluster workers) heard of, by name. */
  get workers(): Map<string, WorkerView> {
    this.#flush();
    return this.#workers;
  }

  /** The newest failures, last 20 at least. */
  get failures(): Failure[] {
    this.#flush();
    return this.#failures;
  }

  /** Attempts ended, by outcome. */
  get attempts(): Record<Outcome, number> {
    this.#flush();
    return { completed: this.#completed, failed: this.#failed, cancelled: this.#cancelled };
  }

  /** Tasks settled, by outcome (counted only where `countTasks`). */
  get tasks(): Record<Outcome, number> {
    this.#flush();
    return counts(this.#tasks);
  }

  /** @internal Rows held for attempts in flight: for tests, which check that a burst's go. */
  get rows(): number {
    this.#flush();
    return this.#rows.length / ROW;
  }

  /** @internal Events held back now (not done yet): for tests. */
  get held(): number {
    return this.#heldCount;
  }

  /** @internal Lanes held, live or not: for tests, which check that ended ones are reused. */
  get lanes(): number {
    this.#flush();
    return this.#laneNames.length;
  }

  /** Run times of attempts, in seconds. */
  get duration(): Histogram {
    this.#flush();
    this.#fold();
    return this.#duration;
  }

  /** Times attempts waited before they started, in seconds. */
  get wait(): Histogram {
    this.#flush();
    this.#fold();
    return this.#wait;
  }

  submitted(task: Task): void {
    if (this.#eager === 0 && this.#awake === 0) return;
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.submitted?.(task);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
  }

  queued(job: Job): void {
    // Nothing kept here: the core stamps when the attempt was queued (`Job.queuedAt`), and its
    // row is taken once it starts, so a million queued attempts hold no rows.
    if (this.#quiet()) return;
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.queued?.(job);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
  }

  started(job: Job, worker: string | undefined): void {
    // Settled already (its end was heard of): a row taken now would never be given back.
    if (job.settled) return;
    // Where the worker reports the run time, the start follows from it when the attempt ends;
    // an attempt that may be stopped (then no run time comes) is stamped as it starts.
    const options = job.options;
    const stoppable = options.timeout !== undefined || options.deadline !== undefined ||
      options.signal !== undefined;
    const timeless = this.#runsReported && !stoppable;
    if (timeless && worker !== undefined && this.#quiet()) {
      this.#hold(HELD_STARTED, this.#rowOf(job) / ROW, 0, 0, worker);
      // Just after the send (a worker pool's): a good time for a batch.
      if (this.#heldCount >= HELD / 2) this.#flush();
      return;
    }
    this.#flush();
    this.#start(this.#rowOf(job), worker, timeless ? 0 : now());
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.started?.(job, worker);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
    this.onChange?.();
  }

  /** The attempt at `row` started on `worker` (an event-loop slot if undefined) at `t`, or 0. */
  #start(row: number, worker: string | undefined, t: number): void {
    const rows = this.#rows;
    if (rows[row + LANE]! >= 0) {
      // Taken back from one worker and given to another.
      this.#leave(row, t);
    } else {
      rows[row + STARTED] = t;
      // Stamped as it starts (an engine that reports no run times): its wait is known now.
      const queuedAt = rows[row + QUEUED]!;
      if (t > 0 && queuedAt > 0) this.#wait.observe(Math.max(0, t - queuedAt) / 1000);
    }
    let lane: number;
    if (worker === undefined) {
      const free = this.#freeLoopSlots;
      let index = free.pop();
      while (index !== undefined && index >= this.#loopSlotCount) index = free.pop();
      if (index === undefined) index = this.#newLoopSlot();
      this.#loopSlotBusy[index] = 1;
      rows[row + LOOP_SLOT] = index;
      lane = this.#loopLanes[index]!;
    } else lane = this.#laneOf(worker);
    rows[row + LANE] = lane;
    const view = this.#view(lane, t);
    view.running++;
    view.state = "busy";
  }

  ran(job: Job, ms: number, end: number): void {
    this.#runsReported = true;
    const slot = job.observerSlot;
    // The end comes with it: the rest can wait (see the class's comment).
    if (slot >= 0 && end > 0 && this.#quiet()) {
      this.#hold(HELD_RAN, slot, ms, end, undefined);
      return;
    }
    this.#flush();
    if (job.settled && slot < 0) return;
    const row = this.#rowOf(job);
    this.#rows[row + RUN_MS] = ms;
    this.#rows[row + ENDED] = end;
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.ran?.(job, ms, end);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
  }

  ended(job: Job, ok: boolean, error: unknown): void {
    const slot = job.observerSlot;
    // Its run time, with when it ended, is the last event held back: so can this be.
    if (ok && slot >= 0 && this.#lastHeldRan(slot) && this.#quiet()) {
      job.observerSlot = -1;
      this.#hold(HELD_ENDED, slot, job.attempt, 0, job.fn);
      return;
    }
    this.#flush();
    const outcome = ok ? 0 : error instanceof CancelledError ? 2 : 1;
    let t = 0;
    if (slot >= 0) {
      job.observerSlot = -1;
      t = this.#endRow(slot, outcome, job.fn, job.attempt);
    }
    if (outcome === 1) {
      push(
        this.#failures,
        { at: t || now(), fn: fnName(job.fn), attempt: job.attempt, error: describe(error) },
        FAILURES,
      );
    }
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.ended?.(job, ok, error);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
    this.onChange?.();
  }

  /**
   * The attempt at `slot` ended with `outcome` (0 completed, 1 failed, 2 cancelled): its bar, its
   * count and its worker's view; its row is let go. Returns when it ended (epoch ms), or 0 where
   * it did not run.
   */
  #endRow(
    slot: number,
    outcome: number,
    fn: (...args: unknown[]) => unknown,
    attempt: number,
  ): number {
    let t = 0;
    const rows = this.#rows;
    const row = slot * ROW;
    const runMs = rows[row + RUN_MS]!;
    const startedAt = rows[row + STARTED]!;
    // Handed to a worker, and called off there before it started (a worker pool takes back a
    // task its worker has not started): it did not run, so it leaves no bar and no run time.
    // Where workers report run times, a cancelled attempt that reported none did not run, even
    // one stamped as it was handed over (a task with a timeout, a deadline or a signal).
    const ran = outcome !== 2 || runMs >= 0 || (startedAt > 0 && !this.#runsReported);
    if (rows[row + LANE]! >= 0 && !ran) {
      this.#cancelled++;
      this.#leave(row, 0);
    } else if (rows[row + LANE]! >= 0) {
      const end = rows[row + ENDED]!;
      t = end > 0 ? end : now();
      if (outcome === 0) this.#completed++;
      else if (outcome === 1) this.#failed++;
      else this.#cancelled++;
      const queuedAt = rows[row + QUEUED]!;
      // A worker's clock (its own time origin) can run a fraction of a millisecond behind this
      // thread's: the end it reports is never taken to be before the attempt was queued or
      // started here, plus the time it ran.
      if (end > 0 && runMs >= 0) t = Math.max(t, Math.max(startedAt, queuedAt) + runMs);
      // From the run time its worker reported: after when it was queued and, when the end is
      // the worker's reading, after when it was handed over here too. An end read here (a
      // distributed task's outcome) may come long after a start heard of late (a start notice,
      // or the outcome itself), so that start does not count then. With no run time either
      // (its worker died before it said), when it started is not known: its bar marks when it
      // ended, and it has no run time.
      const timed = runMs >= 0 || startedAt > 0;
      const start = runMs < 0
        ? startedAt || t
        : end > 0
        ? Math.max(startedAt, queuedAt, t - runMs)
        : Math.max(queuedAt, t - runMs);
      const lane = rows[row + LANE]!;
      const bars = this.#barRows;
      const bar = (this.#bars++ & (BARS - 1)) * BAR;
      this.#laneBars[lane] = this.#bars;
      bars[bar + BAR_START] = start;
      bars[bar + BAR_END] = t;
      bars[bar + BAR_LANE] = lane;
      bars[bar + BAR_FN] = this.#fnOf(fn);
      bars[bar + BAR_OUTCOME] = outcome;
      bars[bar + BAR_ATTEMPT] = attempt;
      // Its wait, unless it was observed when the attempt started.
      bars[bar + BAR_WAIT] = startedAt === 0 && queuedAt > 0 && timed
        ? Math.max(0, start - queuedAt) / 1000
        : -1;
      bars[bar + BAR_TIMED] = timed ? 1 : 0;
      if (this.#bars - this.#folded >= BARS / 2) this.#fold();
      this.#leave(row, t);
    }
    rows[row] = this.#freeSlot;
    this.#freeSlot = slot;
    if (--this.#taken === 0 && rows.length > ROWS * ROW) {
      // Nothing in flight names a slot: a million attempts queued once keep no 64 MB after.
      this.#rows = new Float64Array(ROWS * ROW);
      this.#freeSlot = -1;
      this.#slots = 0;
    }
    return t;
  }

  settled(task: Task, outcome: 0 | 1 | 2): void {
    if (this.#quiet()) {
      // Nothing to do where the executor's stats() count tasks (its pools do).
      if (this.countTasks) this.#hold(HELD_SETTLED, outcome, 0, 0, undefined);
      return;
    }
    this.#flush();
    if (this.countTasks) this.#tasks[outcome]!++;
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.settled?.(task, outcome);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
  }

  worker(name: string, state: ObservedWorkerState): void {
    if (state !== "ended" && this.#quiet()) {
      return this.#hold(HELD_WORKER, STATES.indexOf(state), 0, 0, name);
    }
    this.#flush();
    if (state === "ended") this.#end(name);
    else this.#view(this.#laneOf(name), 0).state = state;
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!.worker?.(name, state);
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
    this.onChange?.();
  }

  context(): InContext | undefined {
    const sinks = this.#sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        const inContext = sinks[i]!.context?.();
        if (inContext) return inContext;
      } catch (error) {
        failed(sinks[i]!, error);
      }
    }
    return undefined;
  }

  /**
   * Makes the worker list that of a cluster's heartbeats: cluster workers have no exit event
   * here, so those no longer heard of leave (unless a task of ours is still on them).
   */
  syncCluster(alive: { name: string; running: number }[]): void {
    this.#flush();
    const t = now();
    const names = new Set<string>();
    for (const { name, running } of alive) {
      names.add(name);
      const view = this.#view(this.#laneOf(name), t);
      if (view.running === 0) view.state = running > 0 ? "busy" : "idle";
    }
    for (const [name, view] of this.#workers) {
      if (!names.has(name) && view.running === 0) this.worker(name, "ended");
    }
  }

  /** The newest task bars (up to 1024), oldest first. */
  get bars(): TaskBar[] {
    this.#flush();
    const out: TaskBar[] = [];
    const bars = this.#barRows;
    for (let i = Math.max(0, this.#bars - BARS); i < this.#bars; i++) {
      const bar = (i & (BARS - 1)) * BAR;
      out.push({
        lane: this.#views[bars[bar + BAR_LANE]!]!.name,
        fn: this.#fnNames[bars[bar + BAR_FN]!]!,
        start: bars[bar + BAR_START]!,
        end: bars[bar + BAR_END]!,
        outcome: OUTCOMES[bars[bar + BAR_OUTCOME]!]!,
        attempt: bars[bar + BAR_ATTEMPT]!,
      });
    }
    return out;
  }

  /** The timeline's last `seconds` seconds (at most 512), oldest first, empty seconds included. */
  recent(seconds: number): Second[] {
    this.#flush();
    this.#fold();
    const end = Math.floor(now() / 1000);
    const out: Second[] = [];
    const secs = this.#secRows;
    for (let t = end - Math.min(seconds, SECONDS) + 1; t <= end; t++) {
      const i = (t & (SECONDS - 1)) * SEC;
      out.push(
        secs[i + SEC_T] === t
          ? {
            t,
            completed: secs[i + SEC_COMPLETED]!,
            failed: secs[i + SEC_FAILED]!,
            runMs: secs[i + SEC_RUN_MS]!,
            runs: secs[i + SEC_RUNS]!,
          }
          : { t, completed: 0, failed: 0, runMs: 0, runs: 0 },
      );
    }
    return out;
  }

  /** Whether events may be held back: no sink wants them now, and no listener waits. */
  #quiet(): boolean {
    return this.#eager === 0 && this.following === 0 && this.onChange === undefined;
  }

  /** Holds an event back: what it is, its numbers, and a reference. */
  #hold(what: number, a: number, b: number, c: number, ref: unknown): void {
    if (this.#heldCount === HELD) this.#flush();
    const i = this.#heldCount++;
    const at = i * HELD_ROW;
    const held = this.#held;
    held[at] = what;
    held[at + 1] = a;
    held[at + 2] = b;
    held[at + 3] = c;
    this.#heldRefs[i] = ref;
  }

  /** Whether the last event held is the run time of the attempt at `slot`. */
  #lastHeldRan(slot: number): boolean {
    const at = (this.#heldCount - 1) * HELD_ROW;
    return at >= 0 && this.#held[at] === HELD_RAN && this.#held[at + 1] === slot;
  }

  /** Does what the events held back ask, in their order. */
  #flush(): void {
    const count = this.#heldCount;
    if (count === 0) return;
    this.#heldCount = 0;
    const held = this.#held;
    const refs = this.#heldRefs;
    for (let i = 0; i < count; i++) {
      const at = i * HELD_ROW;
      const ref = refs[i];
      refs[i] = undefined;
      const a = held[at + 1]!;
      switch (held[at]) {
        case HELD_STARTED:
          this.#start(a * ROW, ref as string, 0);
          break;
        case HELD_RAN: {
          const rows = this.#rows;
          rows[a * ROW + RUN_MS] = held[at + 2]!;
          rows[a * ROW + ENDED] = held[at + 3]!;
          break;
        }
        case HELD_ENDED:
          this.#endRow(a, 0, ref as (...args: unknown[]) => unknown, held[at + 2]!);
          break;
        case HELD_SETTLED:
          this.#tasks[a]!++;
          break;
        default:
          this.#view(this.#laneOf(ref as string), 0).state = STATES[a]!;
      }
    }
  }

  /** The row of `job`'s attempt, taken (as it starts, or its run time comes first) if it has none. */
  #rowOf(job: Job): number {
    const slot = job.observerSlot;
    if (slot >= 0) return slot * ROW;
    const row = (job.observerSlot = this.#slot()) * ROW;
    const rows = this.#rows;
    rows[row + QUEUED] = job.queuedAt > 0 ? ORIGIN + job.queuedAt : 0;
    rows[row + STARTED] = 0;
    rows[row + RUN_MS] = -1;
    rows[row + LANE] = -1;
    rows[row + LOOP_SLOT] = -1;
    rows[row + ENDED] = -1;
    return row;
  }

  #slot(): number {
    this.#taken++;
    const free = this.#freeSlot;
    if (free >= 0) {
      this.#freeSlot = this.#rows[free * ROW]!;
      return free;
    }
    if ((this.#slots + 1) * ROW > this.#rows.length) {
      const rows = new Float64Array(this.#rows.length * 2);
      rows.set(this.#rows);
      this.#rows = rows;
    }
    return this.#slots++;
  }

  /** Adds the bars not yet folded into the run-time histogram and the timeline. */
  #fold(): void {
    const bars = this.#barRows;
    const secs = this.#secRows;
    for (let i = this.#folded; i < this.#bars; i++) {
      const bar = (i & (BARS - 1)) * BAR;
      const start = bars[bar + BAR_START]!;
      const end = bars[bar + BAR_END]!;
      const ms = end - start;
      const timed = bars[bar + BAR_TIMED] === 1;
      if (timed) this.#duration.observe(ms / 1000);
      const wait = bars[bar + BAR_WAIT]!;
      if (wait >= 0) this.#wait.observe(wait);
      const second = Math.floor(end / 1000);
      const row = (second & (SECONDS - 1)) * SEC;
      if (secs[row + SEC_T] !== second) {
        secs[row + SEC_T] = second;
        secs[row + SEC_COMPLETED] = secs[row + SEC_FAILED] = secs[row + SEC_RUN_MS] = 0;
        secs[row + SEC_RUNS] = 0;
      }
      // The timeline counts what completed and what failed; a cancelled attempt is neither.
      const outcome = bars[bar + BAR_OUTCOME];
      if (outcome !== 2) secs[row + (outcome === 0 ? SEC_COMPLETED : SEC_FAILED)]!++;
      if (timed) {
        secs[row + SEC_RUN_MS]! += ms;
        secs[row + SEC_RUNS]!++;
      }
    }
    this.#folded = this.#bars;
  }

  #laneOf(name: string): number {
    // Workers' names are the same strings each time: a short scan finds them without hashing.
    const names = this.#laneNames;
    const scanned = Math.min(names.length, SCANNED_LANES);
    for (let i = 0; i < scanned; i++) if (names[i] === name) return i;
    let id = this.#laneIds.get(name);
    if (id === undefined) {
      id = this.#reusableLane();
      if (id < 0) {
        id = names.length;
        this.#laneBars.push(-BARS);
      }
      names[id] = name;
      this.#views[id] = undefined;
      this.#laneIds.set(name, id);
    }
    return id;
  }

  /** The worker (or event-loop slot) `name` is gone: it leaves the list, and its lane ends. */
  #end(name: string): void {
    this.#workers.delete(name);
    const lane = this.#laneIds.get(name);
    if (lane !== undefined) {
      // The name may come back (a cluster worker heard of again): it gets a lane anew (an
      // event-loop slot takes its own back if it is still free, see #newLoopSlot).
      this.#laneIds.delete(name);
      this.#laneNames[lane] = undefined;
      this.#endedLanes.push(lane);
    }
  }

  /** A new event-loop slot, on top of those there are, with its lane. */
  #newLoopSlot(): number {
    const index = this.#loopSlotCount++;
    const name = `slot ${index + 1}`;
    // Slots let go end their lanes from the top down, and come back from the bottom up: the
    // last lane ended is this slot's own, unless another took it. Taken again, it is not one
    // more lane per slot each time nesting comes back (an ended lane waits for its bars to
    // leave the ring before it is reused), and the bars it has still name it.
    const ended = this.#endedLanes;
    const last = ended[ended.length - 1];
    const view = last === undefined ? undefined : this.#views[last];
    if (last !== undefined && view?.name === name) {
      ended.pop();
      this.#laneNames[last] = name;
      this.#laneIds.set(name, last);
      this.#workers.set(name, view);
      this.#loopLanes[index] = last;
    } else this.#loopLanes[index] = this.#laneOf(name);
    return index;
  }

  /**
   * The highest event-loop slot was freed, past `keptSlots`: it is let go, with the free ones
   * just below it. Slots are named by their index, so the list can only shrink from the top.
   */
  #trimLoopSlots(): void {
    const busy = this.#loopSlotBusy;
    let count = this.#loopSlotCount;
    while (count > this.keptSlots && busy[count - 1] !== 1) {
      this.#end(this.#laneNames[this.#loopLanes[--count]!]!);
    }
    this.#loopSlotCount = count;
    this.#loopLanes.length = busy.length = count;
    // Those let go from the free list are skipped as they are popped; when they are most of it,
    // it is compacted now (each is dropped once, so this costs O(1) a slot).
    const free = this.#freeLoopSlots;
    if (free.length > 2 * count) {
      let kept = 0;
      for (const index of free) if (index < count) free[kept++] = index;
      free.length = kept;
    }
  }

  /** An ended worker's lane that no bar in the ring and no attempt names any more, or -1. */
  #reusableLane(): number {
    const ended = this.#endedLanes;
    for (let i = 0; i < ended.length; i++) {
      const lane = ended[i]!;
      if (this.#bars - this.#laneBars[lane]! >= BARS && !this.#views[lane]?.running) {
        ended.splice(i, 1);
        return lane;
      }
    }
    return -1;
  }

  // By name: a closure submitted in a loop is a new function each time, with the same name.
  #fnOf(fn: (...args: unknown[]) => unknown): number {
    if (fn === this.#lastFn) return this.#lastFnId;
    const name = fnName(fn);
    let id = this.#fnIds.get(name);
    if (id === undefined) {
      // Past 10000 names (generated ones), the rest share the last.
      if (this.#fnIds.size >= 10_000) return this.#fnNames.length - 1;
      id = this.#fnNames.push(name) - 1;
      this.#fnIds.set(name, id);
    }
    this.#lastFn = fn;
    return this.#lastFnId = id;
  }

  #leave(row: number, t: number): void {
    const rows = this.#rows;
    const view = this.#views[rows[row + LANE]!];
    if (view) {
      view.running = Math.max(0, view.running - 1);
      if (t > 0) view.seen = t;
      if (view.running === 0 && view.state === "busy") view.state = "idle";
    }
    const index = rows[row + LOOP_SLOT]!;
    if (index >= 0) {
      rows[row + LOOP_SLOT] = -1;
      this.#loopSlotBusy[index] = 0;
      if (index === this.#loopSlotCount - 1 && index >= this.keptSlots) this.#trimLoopSlots();
      else this.#freeLoopSlots.push(index);
    }
  }

  #view(lane: number, t: number): WorkerView {
    let view = this.#views[lane];
    if (!view) {
      const name = this.#laneNames[lane]!;
      view = this.#workers.get(name);
      if (!view) {
        this.#workers.set(name, view = { name, state: "idle", running: 0, seen: t || now() });
      }
      this.#views[lane] = view;
    }
    // 0: the time was not read (it is not needed for the attempt).
    if (t > 0) view.seen = t;
    return view;
  }
}

function counts(c: Float64Array): Record<Outcome, number> {
  return { completed: c[0]!, failed: c[1]!, cancelled: c[2]! };
}

// Trimmed in halves, not per item: readers take the newest `max` (or fewer) entries.
function push<T>(list: T[], item: T, max: number): void {
  list.push(item);
  if (list.length >= 2 * max) list.splice(0, list.length - max);
}

/** A task function's name, for span names and the task stream. */
export function fnName(fn: (...args: unknown[]) => unknown): string {
  try {
    // A name redefined by the program may be anything, or a getter that throws.
    const name: unknown = fn.name;
    return typeof name === "string" && name !== "" ? name : "anonymous";
  } catch {
    return "anonymous";
  }
}

/** The longest failure text kept, in characters: the dashboard sends the failures each second. */
export const FAILURE_TEXT = 2_000;

function describe(error: unknown): string {
  const text = describeError(error);
  if (text.length <= FAILURE_TEXT) return text;
  return `${text.slice(0, FAILURE_TEXT)}… (${text.length - FAILURE_TEXT} more characters)`;
}

const reported = new WeakSet<Sink>();

/**
 * A sink (a tracer) threw: the engine that called the recorder must not see it (it would break
 * the task's bookkeeping, or end the program as an uncaught error), so it is logged, once per
 * sink, and the sink is called again at the next event.
 */
function failed(sink: Sink, error: unknown): void {
  if (reported.has(sink)) return;
  reported.add(sink);
  console.error(
    `@concurrent/futures: an observer of an executor threw (later errors of it are not shown): ${
      stackOf(error)
    }`,
  );
}

/** An error's stack, else its message, else its text. Never throws. */
function stackOf(error: unknown): string {
  try {
    if (error instanceof Error && typeof error.stack === "string") return error.stack;
  } catch {
    // As in messageOf().
  }
  return messageOf(error);
}

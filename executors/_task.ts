// A submitted task and its attempts: the logic every executor shares (timeouts, deadline, abort,
// retries, circuit breakers). Engines only see `Job`s: one attempt at running the function.

import { Future } from "../future/future.ts";
import { startTimer } from "../future/_timer.ts";
import { type FutureOwner, outcomeOf, setOwner } from "../future/_hooks.ts";
import { subscribeAbort, unsubscribeAbort } from "../future/_abort_registry.ts";
import { messageOf } from "../future/_text.ts";
import { subscribeDeadline, unsubscribeDeadline } from "./_deadlines.ts";
import {
  BrokenExecutorError,
  CancelledError,
  CircuitOpenError,
  InvalidStateError,
  TimeoutError,
  WorkerCrashedError,
} from "../future/errors.ts";
import { type CircuitBreakers, type CircuitPermit, stoppedByCircuit } from "./circuit_breaker.ts";
import { defaultRetryOn, retryDelay, sleep } from "./retry.ts";
import type { TaskOptions } from "./executor.ts";
import { ChunkFailure } from "./_map.ts";
import { awaitInputs, hasFutures } from "./_inputs.ts";
import type { ExecutorObserver } from "./_observe.ts";
import type { QueueLinks } from "./_job_queue.ts";

/** `call`: `fn(...args)`. `chunk`: `args` is a list of items and the result is `fn(item)` for each. */
export type JobKind = "call" | "chunk";

/**
 * What an engine hears of its jobs, from the jobs themselves: one object (the engine) for every
 * job, given when the job is made, in place of hooks set on each job.
 */
export interface JobPolicy {
  /** A started job settled, whatever the outcome. */
  jobEnded?(job: Job): void;
  /** A started job was aborted (timeout, signal, stop), after it rejected: stop the work. */
  jobAborted?(job: Job, reason: unknown): void;
  /** A job settled before it started (cancelled, stopped while queued): drop it now. */
  jobDropped?(job: Job): void;
  /**
   * `cancel()` on the running future of a first attempt: whether the engine took the job back
   * from a worker that had not started it.
   */
  jobRevoked?(job: Job): boolean;
}

/** What an engine needs from the executor that owns the task. */
export interface TaskHost {
  schedule(job: Job): void;
  /** The engine's policy for the jobs it runs. */
  readonly jobs: JobPolicy;
  readonly breakers: CircuitBreakers | undefined;
  readonly broken: BrokenExecutorError | undefined;
  /**
   * The task's first attempt is about to be scheduled: it waits to start from now on. Called once,
   * once its inputs are ready: a task that waits for them holds no place in the queue.
   */
  taskQueued(task: Task): void;
  /**
   * The task no longer waits to start: it started, or it settled first. Called once, and only for
   * a task that `taskQueued()` counted.
   */
  taskLeftQueue(task: Task): void;
  /** The task settled; `failed` tells whether with an error (when not cancelled). */
  taskDone(task: Task, failed: boolean): void;
  readonly observer?: ExecutorObserver | undefined;
}

// Crashes a task suffered because its worker was ended for another task's sake: they never count
// toward the poison-task rule.
const bystanderCrashes = new WeakSet<object>();

/** A `WorkerCrashedError` for a task whose worker was ended because of another task. */
export function bystanderCrash(
  message: string,
  options?: ConstructorParameters<typeof WorkerCrashedError>[1],
): WorkerCrashedError {
  const error = new WorkerCrashedError(message, options);
  bystanderCrashes.add(error);
  return error;
}

// A task's flags, in one small integer: a field each would cost 8 bytes on a million tasks.
/** Its kind is `chunk` (else `call`). */
const CHUNK = 1;
/** The arguments are one value kept as is, not an array (most tasks take one argument). */
const ONE_ARG = 2;
/** This object is a later attempt of a task, not the task (and first attempt) itself. */
const RETRY = 4;
/** The first attempt is scheduled and has not started (the host counts the task as queued). */
const QUEUED = 8;
/** The task's first attempt (this object) is its current attempt. */
const CURRENT = 16;
// The attempt's state: queued, then running once an engine starts it; it settles as ended (after
// running) or dropped (never started).
const STATE = 32 | 64;
const RUNNING = 32;
const ENDED = 64;
const DROPPED = 32 | 64;
/** The attempt holds its pass through its domain's circuit (see `admit()`). */
const ADMITTED = 128;
/**
 * The attempt's worker died under it, by the attempt's own doing as far as anyone can tell (see
 * `crashed()`): it counts toward the poison-task rule. An attempt that rejected with a
 * `WorkerCrashedError` of its own (an `AsyncPoolExecutor` task awaiting a crashed task of another
 * pool, say) did not crash anything.
 */
const CRASHED = 256;
/** The attempt's crash broke its pool: the task is not retried (see `crashed()`). */
const FINAL = 512;

/**
 * A submitted task, and one attempt at running it: the task object is its own first attempt, so
 * a queued task is one object (with its future), and only a retry makes another, for the next
 * attempt. Engines see attempts as `Job`s: they queue them, `start()` them and settle them; the
 * task owns the future, the deadline and the retry loop.
 */
export class Task implements QueueLinks<Task>, FutureOwner {
  readonly future: Future<unknown>;
  /** The host (on a task), or the task (on a later attempt). */
  readonly #link: TaskHost | Task;
  #flags: number;
  readonly fn: (...args: unknown[]) => unknown;
  /** The arguments, or the one argument (see `ONE_ARG`). */
  #args: unknown;
  readonly options: TaskOptions;
  /** Links in the executor's list of unsettled tasks. */
  previousLive: Task | undefined;
  nextLive: Task | undefined;
  /** Its number in that list (see `LiveTasks`). */
  liveSeq = 0;
  // The links of the engine's queue the attempt waits in (see _job_queue.ts).
  nextQueued: Task | undefined;
  previousQueued: Task | undefined;
  queuedIn: object | undefined;
  /** When the engine queued it (`performance.now()`), for wait-time statistics. */
  queuedAt = 0;
  /** Where the engine sent the attempt, while it runs there (fields, not a map entry per task). */
  placedOn: unknown;
  /** The attempt's number on that worker. */
  placedSeq = 0;
  /** Where an observer keeps what it records of this attempt (see observe/_recorder.ts). */
  observerSlot = -1;
  /**
   * What few tasks need (inputs, a deadline, a signal, a timeout, retries, breakers, chunks, a
   * stop, a trace context), made on first use: a million queued plain tasks do not each carry a
   * dozen empty fields.
   */
  #rare: TaskRare | undefined;

  constructor(
    host: TaskHost,
    kind: JobKind,
    fn: (...args: unknown[]) => unknown,
    args: unknown[],
    options: TaskOptions,
    /** Given for a later attempt: the task it is an attempt of (its future is the task's). */
    of?: Task,
  ) {
    this.future = of ? of.future : new Future();
    this.#link = of ?? host;
    this.#flags = (kind === "chunk" ? CHUNK : 0) | (of ? RETRY : 0);
    this.fn = fn;
    this.options = options;
    this.args = args;
    if (!of) setOwner(this.future, this);
  }

  // --- the attempt (what an engine sees as a Job) ---

  /** The task this is an attempt of (itself, for the first attempt). */
  get task(): Task {
    return this.#flags & RETRY ? this.#link as Task : this;
  }

  /** 1 for the first attempt, then 2, 3, ... */
  get attempt(): number {
    return this.#flags & RETRY ? this.#rare!.attempt : 1;
  }

  get kind(): JobKind {
    return this.#flags & CHUNK ? "chunk" : "call";
  }

  /** The arguments; futures among them are replaced by their values before the first attempt. */
  get args(): unknown[] {
    return this.#flags & ONE_ARG ? [this.#args] : this.#args as unknown[];
  }
  set args(args: unknown[]) {
    if (args.length === 1) {
      this.#args = args[0];
      this.#flags |= ONE_ARG;
    } else {
      this.#args = args;
      this.#flags &= ~ONE_ARG;
    }
  }

  /** Whether it has settled: an engine drops a queued job that has. */
  get settled(): boolean {
    return (this.#flags & ENDED) !== 0;
  }
  get started(): boolean {
    const state = this.#flags & STATE;
    return state === RUNNING || state === ENDED;
  }

  /** The signal the running function sees; created on first use. */
  get signal(): AbortSignal {
    const extra = this.#extra();
    extra.controller ??= new AbortController();
    return extra.controller.signal;
  }

  /**
   * Marks the job as running; the engine calls it right before handing the job to a runner.
   * Returns false when the job must not run (it settled while queued, or its future was cancelled).
   */
  start(): boolean {
    if (this.settled) return false;
    const task = this.task;
    // The signal may have aborted while its abort event is still being dispatched: another
    // task's listener ran first and freed the slot this job is now offered.
    const signal = this.options.signal;
    if (signal?.aborted) {
      task.stop(signal.reason);
      return false;
    }
    // Likewise its deadline may have passed with its timer not yet run (the task that held the
    // slot was stopped at the same deadline): a task never starts after its deadline.
    const deadline = this.options.deadline;
    if (deadline !== undefined && Date.now() >= deadline) {
      task.stop(deadlineError(deadline));
      return false;
    }
    if (task === this) {
      let claimed: boolean;
      try {
        claimed = this.future.setRunningOrNotifyCancel();
      } catch {
        // Its holder settled the future (or set it running) while it waited: the task does not
        // run, and a future left running fails with why.
        this.#finish(
          false,
          new InvalidStateError(
            "Cannot start a task whose future its holder settled or set running while it was queued: the task did not run",
          ),
        );
        return false;
      }
      if (!claimed) {
        this.#finish(false, new CancelledError());
        return false;
      }
      this.leftQueue();
    }
    if (!this.admit()) return false;
    this.#flags = (this.#flags & ~STATE) | RUNNING;
    const timeout = this.options.timeout;
    if (timeout !== undefined && timeout !== Infinity) {
      this.#extra().stopTimer = startTimer(
        () =>
          this.abort(
            new TimeoutError(`the task did not finish within its timeout of ${timeout} ms`),
          ),
        timeout,
      );
    }
    return true;
  }

  /**
   * Takes the attempt's pass through its domain's circuit as its engine hands it over: a pool as
   * it starts it (`start()` does), a distributed executor as it publishes it. So a task queued
   * while the circuit opened does not run. False when the circuit refuses: the task is stopped
   * with `CircuitOpenError` (with its last error, after retries), and nothing ran.
   */
  admit(): boolean {
    const domain = this.options.domain;
    if (domain === undefined || this.#flags & ADMITTED) return true;
    const task = this.task;
    const breakers = task.#host.breakers;
    if (!breakers) return true;
    try {
      task.#extra().permit = breakers.enter(domain);
    } catch (error) {
      task.stop(task.#refusedBy(error));
      return false;
    }
    this.#flags |= ADMITTED;
    return true;
  }

  resolve(value: unknown): void {
    this.#finish(true, value);
  }

  reject(error: unknown): void {
    this.#finish(false, error);
  }

  /**
   * Rejects with `error` because the worker running the attempt died: the crash is charged to the
   * task (two make it a poison task) unless `error` says the worker was ended for another task's
   * sake (`bystanderCrash()`). `error` is the `WorkerCrashedError`, or a map() chunk's failure
   * that carries one. `final`: the crash breaks the pool, and the task is not retried (it keeps
   * its `WorkerCrashedError`).
   */
  crashed(error: Error, final = false): void {
    if (this.settled) return;
    if (!bystanderCrashes.has(error)) this.#flags |= CRASHED;
    if (final) this.#flags |= FINAL;
    this.#finish(false, error);
  }

  /** Rejects at once with `reason` and tells the engine to stop the work. */
  abort(reason: unknown): void {
    if (this.settled) return;
    this.#rare?.controller?.abort(reason);
    const wasRunning = (this.#flags & STATE) === RUNNING;
    this.#finish(false, reason);
    if (wasRunning) this.policy.jobAborted?.(this, reason);
  }

  /** Settles the attempt: `ok` with the value `outcome`, or failed with the error `outcome`. */
  #finish(ok: boolean, outcome: unknown): void {
    if (this.settled) return;
    if (!ok) outcome = inspectable(outcome);
    const ran = (this.#flags & STATE) === RUNNING;
    this.#flags = (this.#flags & ~STATE) | (ran ? ENDED : DROPPED);
    this.#rare?.stopTimer?.();
    // The future settles before the engine hears of it: an engine that starts the next job at once
    // (a synchronous task on AsyncPoolExecutor) must not settle that job's future first.
    const policy = this.policy;
    this.task.attemptDone(this, ok, outcome);
    if (ran) policy.jobEnded?.(this);
    else policy.jobDropped?.(this);
  }

  // --- the task ---

  get #host(): TaskHost {
    return this.#flags & RETRY ? (this.#link as Task).#host : this.#link as TaskHost;
  }

  /** The engine's policy for this task's jobs. */
  get policy(): JobPolicy {
    return this.#host.jobs;
  }

  /**
   * The W3C trace context its attempts run in on a worker: set when it is submitted inside
   * `carryTraceparent()`, or by a tracer for each attempt (see _observe.ts).
   */
  get traceparent(): string | undefined {
    return this.#rare?.traceparent;
  }
  set traceparent(traceparent: string | undefined) {
    if (traceparent !== undefined || this.#rare) this.#extra().traceparent = traceparent;
  }

  #extra(): TaskRare {
    return this.#rare ??= new TaskRare();
  }

  /** The attempt running or queued now. */
  get #current(): Task | undefined {
    return this.#flags & CURRENT ? this : this.#rare?.current;
  }

  /**
   * `cancel()` on the running future: true when no attempt runs and none will (then the task is
   * stopped): between attempts (a retry's backoff), with a retry still queued, or when the engine
   * takes back an unstarted first attempt.
   */
  cancelRunning(): boolean {
    const job = this.#current;
    if (job === undefined) return this.#rare?.stopped !== true;
    if (job !== this) return !job.started;
    return this.#host.jobs.jobRevoked?.(job) === true;
  }

  /** The task's `signal` aborted (see `run()`): the task stops with its reason. */
  signalAborted(): void {
    this.stop(this.options.signal!.reason);
  }

  /** The task's deadline passed (it subscribed to it in `run()`). */
  deadlinePassed(): void {
    this.stop(deadlineError(this.options.deadline!));
  }

  /** A future cancelled while queued settles its task at once: nothing waits for the queue. */
  cancelled(): void {
    this.stop(new CancelledError());
  }

  /** Starts the task; the future settles exactly once, whatever happens. */
  run(): void {
    const { signal, deadline } = this.options;
    if (signal) {
      if (signal.aborted) return this.#settle(false, signal.reason);
      // The task itself is the subscriber (see `signalAborted`): one listener serves every task
      // sharing the signal, and a task needs no closure for it.
      subscribeAbort(signal, this);
    }
    if (deadline !== undefined) {
      if (Date.now() >= deadline) return this.#settle(false, deadlineError(deadline));
      // Tasks of one deadline share its timer (see `deadlinePassed`).
      subscribeDeadline(deadline, this);
    }
    if (!this.#hasFutures()) return this.#attempt(1);
    const rare = this.#extra();
    // Inputs already done call back before awaitInputs() returns: the task waits from here on,
    // so that a stop in that call back settles it, and what it returns is kept only if it still
    // waits then.
    const waiting = rare.stopWaitingForInputs = () => {};
    const stopWaiting = awaitInputs(this.kind, this.args, (inputs) => {
      if (inputs.ok) {
        rare.stopWaitingForInputs = undefined;
        this.args = inputs.args;
        const cut = inputs.cut;
        if (cut) rare.inputError = cut.cancelled ? new CancelledError() : cut.error;
        this.#attempt(1);
      } else if (inputs.cancelled) {
        // The future tells its owner, this task, which stops and settles.
        this.future.cancel();
      } else {
        this.stop(inputs.error);
      }
    });
    if (rare.stopWaitingForInputs === waiting) rare.stopWaitingForInputs = stopWaiting;
  }

  #hasFutures(): boolean {
    if (this.#flags & ONE_ARG && !(this.#flags & CHUNK)) return this.#args instanceof Future;
    return hasFutures(this.kind, this.args);
  }

  /** The first attempt started: the task no longer counts as queued. */
  leftQueue(): void {
    if (!(this.#flags & QUEUED)) return;
    this.#flags &= ~QUEUED;
    this.#host.taskLeftQueue(this);
  }

  /** Stops the task for good: the current attempt is aborted and no retry follows. */
  stop(reason: unknown): void {
    const rare = this.#extra();
    if (rare.stopped) return;
    rare.stopped = true;
    rare.stopReason = reason;
    rare.stopController?.abort(reason);
    this.#current?.abort(reason);
    // A task still waiting for its inputs has no attempt to abort: it settles here.
    if (rare.stopWaitingForInputs) {
      rare.stopWaitingForInputs();
      rare.stopWaitingForInputs = undefined;
      this.#settle(false, reason);
    }
  }

  /** Called by a job when it settles: count it, then retry or settle the future. */
  attemptDone(job: Task, ok: boolean, outcome: unknown): void {
    this.#host.observer?.ended(job, ok, ok ? undefined : outcome);
    if (job !== this.#current) return;
    if (job === this) this.#flags &= ~CURRENT;
    else this.#rare!.current = undefined;
    const rare = this.#rare;
    const permit = rare?.permit;
    if (rare) rare.permit = undefined;
    if (ok) {
      permit?.success();
      if (rare?.isolating) {
        // The item run alone after a crash did not crash: the rest of the chunk goes on together.
        rare.isolating = false;
        const items = this.args[0] as unknown[];
        if (items.length > 1 && !rare.stopped && !this.future.done()) {
          rare.done = [...rare.done ?? [], ...outcome as unknown[]];
          this.args = [items.slice(1)];
          rare.itemAttempts = 0;
          return this.#attempt(job.attempt + 1);
        }
      }
      const done = rare?.done;
      const values = done ? [...done, ...outcome as unknown[]] : outcome;
      const inputError = rare?.inputError;
      if (inputError) return this.#settle(false, new ChunkFailure(values as unknown[], inputError));
      return this.#settle(true, values);
    }
    return this.#failed(job, outcome, permit);
  }

  #failed(job: Task, error: unknown, permit: CircuitPermit | undefined): void {
    let outcome = error;
    const rare = this.#extra();
    // A map() chunk that failed carries the task's own error: policies judge that one. The items
    // before the failing one keep their values; a retry runs the chunk from the failing item.
    if (error instanceof ChunkFailure) {
      const { values } = error;
      error = error.error;
      if (values.length > 0) {
        rare.done = rare.done ? [...rare.done, ...values] : values;
        this.args = [(this.args[0] as unknown[]).slice(values.length)];
        rare.itemAttempts = 1;
      }
    }
    // The values of the items done before (kept through retries) come before the error.
    if (rare.done) outcome = new ChunkFailure(rare.done, error);
    const callerStopped = this.future.cancelled() ||
      (this.options.signal?.aborted === true && error === this.options.signal.reason);
    // Neither the caller's stop nor the pool's own break says anything of the domain.
    if (callerStopped || error instanceof BrokenExecutorError) permit?.release();
    else permit?.failure(error);
    const retry = this.options.retry;
    if (job.#flags & CRASHED) {
      // A worker that died in a chunk of several items cannot say which one ended it: the crash
      // is charged to none of them, and the next attempt runs the first item left alone (then
      // the rest together), so that only an item that crashes alone is charged, and a poison
      // item does not take the items before it in its chunk with it.
      const items = this.kind === "chunk" ? (this.args[0] as unknown[]).length : 1;
      if (retry && !rare.isolating && items > 1) {
        rare.isolating = true;
        rare.itemAttempts--;
      } else rare.crashes++;
    }
    const attempts = this.kind === "chunk" ? rare.itemAttempts : job.attempt;
    if (
      !retry || rare.stopped || this.#host.broken !== undefined || job.#flags & FINAL ||
      error instanceof BrokenExecutorError || this.future.done()
    ) return this.#settle(false, outcome);
    // Checked before the attempts left: a task that crashed its worker twice is reported as a
    // poison task whichever attempt the second crash was (others may have timed out first).
    if (rare.crashes >= 2) {
      const poison = new WorkerCrashedError(
        `the task crashed its worker ${rare.crashes} times and is not retried again (a poison task)`,
        { cause: error, ...crashDetails(error) },
      );
      return this.#settle(false, rare.done ? new ChunkFailure(rare.done, poison) : poison);
    }
    if (
      attempts >= retry.maxAttempts || !safeRetryOn(retry.retryOn ?? defaultRetryOn, error)
    ) return this.#settle(false, outcome);
    rare.lastError = { error };
    sleep(retryDelay(attempts, retry.backoff), this.#stopSignal()).then(
      () => this.#attempt(job.attempt + 1),
      () => this.#settle(false, rare.stopReason),
    );
  }

  #attempt(attempt: number): void {
    const rare = this.#rare;
    if (rare?.stopped) return this.#settle(false, rare.stopReason);
    // A retry whose backoff ended past the deadline (a busy event loop delayed it) never starts.
    const deadline = this.options.deadline;
    if (attempt > 1 && deadline !== undefined && Date.now() >= deadline) {
      return this.#settle(false, deadlineError(deadline));
    }
    // A circuit open now refuses at once: the attempt does not wait for its turn to be refused
    // (its pass is taken only as it starts, see `admit()`).
    const domain = this.options.domain;
    const breakers = this.#host.breakers;
    if (domain !== undefined && breakers?.state(domain) === "open") {
      try {
        breakers.enter(domain).release();
      } catch (error) {
        return this.#settle(false, this.#refusedBy(error));
      }
    }
    if (this.#flags & CHUNK) this.#extra().itemAttempts++;
    if (attempt === 1) {
      this.#flags |= CURRENT | QUEUED;
      this.#host.taskQueued(this);
      return this.#host.schedule(this);
    }
    const isolated = rare?.isolating === true;
    const args = isolated ? [(this.args[0] as unknown[]).slice(0, 1)] : this.args;
    const job = new Task(this.#host, this.kind, this.fn, args, this.options, this);
    job.#extra().attempt = attempt;
    this.#extra().current = job;
    this.#host.schedule(job);
  }

  /**
   * What the task rejects with when its circuit refuses an attempt (`error`): after retries, its
   * own last error (with the `CircuitOpenError` attached), else the refusal.
   */
  #refusedBy(error: unknown): unknown {
    const last = this.#rare?.lastError;
    return last && error instanceof CircuitOpenError ? stoppedByCircuit(last.error, error) : error;
  }

  #stopSignal(): AbortSignal {
    const rare = this.#extra();
    rare.stopController ??= new AbortController();
    if (rare.stopped) rare.stopController.abort(rare.stopReason);
    return rare.stopController.signal;
  }

  /** Settles the task: `ok` with the value `outcome`, or failed with the error `outcome`. */
  #settle(ok: boolean, outcome: unknown): void {
    this.leftQueue();
    const { signal, deadline } = this.options;
    if (deadline !== undefined) unsubscribeDeadline(deadline, this);
    if (signal !== undefined) unsubscribeAbort(signal, this);
    const future = this.future;
    let failed = !ok;
    if (!future.done()) {
      if (ok) future.setResult(outcome);
      else future.setException(outcome);
    } else failed = outcomeOf(future).failed;
    this.#host.taskDone(this, failed);
  }
}

/** One attempt at running a task, as an engine sees it: the task itself, or a later attempt. */
export type Job = Task;

/** The fields of a task (or attempt) that few use (see `Task.#rare`). */
class TaskRare {
  /** The attempt's number, on a later attempt. */
  attempt = 1;
  // Of an attempt:
  /** The signal's controller, made only for jobs whose function asks for it. */
  controller: AbortController | undefined;
  /** Stops the attempt's timeout. */
  stopTimer: (() => void) | undefined;
  // Of a task:
  traceparent: string | undefined;
  /** The attempt running or queued now, when it is not the first. */
  current: Task | undefined;
  stopWaitingForInputs: (() => void) | undefined;
  permit: CircuitPermit | undefined;
  crashes = 0;
  /** A chunk's values from earlier attempts: the items before the one that failed. */
  done: unknown[] | undefined;
  /**
   * A chunk's item that was a future and failed (`DependencyError`) or was cancelled
   * (`CancelledError`): the items before it run, then the chunk fails with this at its place.
   */
  inputError: Error | undefined;
  /** Attempts at a chunk's first item not yet done: each item has its own. */
  itemAttempts = 0;
  /** A chunk's worker died: its first item left runs alone in the next attempt. */
  isolating = false;
  /** The last attempt's error, while a retry is pending. */
  lastError: { error: unknown } | undefined;
  stopReason: unknown;
  stopped = false;
  stopController: AbortController | undefined;
}

function safeRetryOn(retryOn: (error: unknown) => boolean, error: unknown): boolean {
  try {
    return retryOn(error) === true;
  } catch (thrown) {
    // Reported after the engine's step (see Future's callbacks).
    queueMicrotask(() => reportError(thrown));
    return false;
  }
}

function crashDetails(error: unknown): { exitCode?: number; signal?: string } {
  const details: { exitCode?: number; signal?: string } = {};
  if (!(error instanceof WorkerCrashedError)) return details;
  if (error.exitCode !== undefined) details.exitCode = error.exitCode;
  if (error.signal !== undefined) details.signal = error.signal;
  return details;
}

/** What a task rejects with when its deadline passes. */
function deadlineError(deadline: number): TimeoutError {
  return new TimeoutError(`the task was not done by its deadline (${deadline})`);
}

/**
 * A thrown value the engine can look at: a proxy whose prototype cannot be read (a revoked one)
 * makes every `instanceof` on it throw, in the engine's bookkeeping, where the error would escape
 * and end the program. Such a value is replaced by a `TypeError` that says so and holds it as
 * its `cause`.
 */
function inspectable(error: unknown): unknown {
  if ((typeof error !== "object" || error === null) && typeof error !== "function") return error;
  try {
    Object.getPrototypeOf(error);
    return error;
  } catch (why) {
    return new TypeError(
      `the task failed with a value that cannot be inspected (${messageOf(why)})`,
      { cause: error },
    );
  }
}

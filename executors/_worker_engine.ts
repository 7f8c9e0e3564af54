// The engine behind WorkerPoolExecutor, a thin coordinator of three parts: dispatch (queues,
// pump, stealing: _dispatch.ts), membership (each worker's phases, idle, retire, end:
// _membership.ts) and supervision (exit reasons, restarts, breaking: _supervisor.ts). It turns
// worker events and job events into calls on them, and keeps the counters behind stats().

import { type BrokenExecutorError, TimeoutError } from "../future/errors.ts";
import type { WorkerEvents, WorkerExit } from "../actors/_pool_worker.ts";
import type { WorkerPermissions } from "../actors/_transport.ts";
import type { RestartBackoff } from "../actors/_restart_supervisor.ts";
import type { Engine, ExecutorCore } from "./_core.ts";
import type { Job } from "./_task.ts";
import type { AttemptCounts, ExecutorStats, FutureCounts } from "./executor.ts";
import { ChunkFailure } from "./_map.ts";
import { type Percentiles, Samples } from "./_samples.ts";
import { FunctionRefs } from "./_fn_ref.ts";
import { Dispatcher } from "./_dispatch.ts";
import { type Handle, Membership, messageOf } from "./_membership.ts";
import { exitVerdict, Supervision } from "./_supervisor.ts";
import type { Observable } from "./_observe.ts";

export type { RestartBackoff } from "../actors/_restart_supervisor.ts";

/** The settings of a worker pool, checked and with defaults applied. */
export interface PoolSettings {
  label: string;
  /** Web Workers, or subprocesses. */
  kind: "thread" | "process";
  /** A process's V8 heap limit in MiB. */
  memoryLimitMb: number | undefined;
  /** A process's Deno flags for loading modules; by default those this process was run with. */
  denoArgs: string[] | undefined;
  maxWorkers: number;
  modules: (string | URL)[];
  initializer: ((...args: unknown[]) => unknown) | undefined;
  initargs: unknown[];
  maxTasksPerWorker: number;
  idleTimeout: number;
  permissions: WorkerPermissions | undefined;
  onCrash: "restart" | "break";
  restartLimit: { max: number; within: number };
  restartBackoff: RestartBackoff;
}

/**
 * Counts of workers by what they are doing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type WorkerCounts, WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
 * assert.equal(pool.stats().workers.total, 0); // workers start on demand
 * await pool.submit(() => 1);
 * const workers: WorkerCounts = pool.stats().workers;
 * assert.equal(workers.total, 1);
 * assert.equal(workers.idle, 1);
 * ```
 */
export interface WorkerCounts {
  /** Workers that accept tasks (starting, busy or idle). */
  total: number;
  /** Ready workers with tasks in flight. */
  busy: number;
  /** Ready workers with nothing to do. */
  idle: number;
  /** Workers loading their modules and initializer. */
  starting: number;
  /** Workers that take no new tasks and end once their started tasks settle. */
  retiring: number;
  /**
   * Workers that were told to stop while inside a task that never yields: `terminate()` cannot
   * stop such a thread, so it may still be burning a core until the task notices its signal.
   */
  spinning: number;
  /**
   * Retiring workers that answered a ping after a task on them was stopped: their event loop is
   * free, so they finish their other tasks before they end.
   */
  draining: number;
}

/**
 * A snapshot of a worker pool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPoolExecutor, type WorkerPoolStats } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
 * for await (const _ of pool.map((n: number) => n * 2, [1, 2, 3, 4], { chunksize: 2 })) {}
 * const stats: WorkerPoolStats = pool.stats();
 * assert.equal(stats.futures.completed, 2); // one per chunk
 * assert.equal(stats.crashed, 0);
 * assert.equal(stats.workers.total, 1);
 * ```
 */
export interface WorkerPoolStats extends ExecutorStats {
  /** Workers by state. */
  workers: WorkerCounts;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks in flight on workers. */
  running: number;
  /** Attempts that finished with a value. */
  completed: number;
  /** Attempts that finished with an error (thrown, timed out, aborted, crashed). */
  failed: number;
  /** Futures settled, by outcome: what callers saw (a `map()` chunk counts as one). */
  futures: FutureCounts;
  /** Attempts by outcome (the same as `completed` and `failed`): retries count each attempt. */
  attempts: AttemptCounts;
  /** Workers that died while running tasks. */
  crashed: number;
  /** Workers replaced: after a crash, a stopped task, or `maxTasksPerWorker`. */
  restarts: number;
  /** Run time in the worker of recent tasks, in ms. */
  runTime: Percentiles;
  /** Time recent tasks waited in the queue before going to a worker, in ms. */
  waitTime: Percentiles;
}

/** The counters behind stats(), shared by the engine's parts. */
export class PoolCounters {
  /** Jobs placed on a worker and not yet answered (or stopped). */
  running = 0;
  completed = 0;
  failed = 0;
  crashed = 0;
  restarts = 0;
  readonly runTime = new Samples();
  readonly waitTime = new Samples();
  /** The executor's core, whose observer the parts report to (see _observe.ts). */
  observed: Observable | undefined;
}

// The longest delay setTimeout honours; longer ones are re-armed for the rest.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The engine of a WorkerPoolExecutor. */
export class WorkerEngine implements Engine, WorkerEvents<Job> {
  readonly chunks = true;
  #core: ExecutorCore | undefined;
  readonly #settings: PoolSettings;
  readonly #refs: FunctionRefs;
  readonly #counters = new PoolCounters();
  readonly #members: Membership;
  readonly #dispatch: Dispatcher;
  readonly #supervision: Supervision;
  #respawnTimer: ReturnType<typeof setTimeout> | undefined;
  #pumpQueued = false;
  #closed = false;

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#refs = new FunctionRefs(settings.modules);
    this.#members = new Membership(settings, this.#counters, this.#refs, this, {
      schedulePump: () => this.#schedulePump(),
      requeue: (jobs) => this.#requeue(jobs),
      unplace: (job) => void this.#dispatch.unplace(job),
      break: (message, cause) => this.#supervision.break(message, cause),
      replaces: () => !this.#closed && this.#core?.broken === undefined,
    });
    this.#dispatch = new Dispatcher(settings, this.#counters, this.#refs, this.#members);
    this.#supervision = new Supervision(settings, {
      broken: (error) => this.#broken(error),
      isBroken: () => this.#core?.broken !== undefined,
    });
  }

  /** Connects the engine to its executor and starts loading the task modules. */
  attach(core: ExecutorCore): void {
    this.#core = core;
    this.#counters.observed = core;
    this.#refs.onReady = () => this.#schedulePump();
    this.#refs.load().then(
      () => this.#schedulePump(),
      (error) =>
        this.#supervision.break(`a task module could not be loaded: ${messageOf(error)}`, error),
    );
  }

  freeSlots(): number {
    // A worker still starting has nothing placed on it: it takes a task as soon as it is ready.
    let idle = 0;
    for (const member of this.#members.serving) {
      if (member.phase === "idle" || member.phase === "starting") idle++;
    }
    return idle + Math.max(0, this.#settings.maxWorkers - this.#members.serving.size);
  }

  validateFunction(fn: unknown): void {
    this.#refs.validate(fn);
  }

  schedule(job: Job): void {
    this.#dispatch.enqueue(job);
    this.#schedulePump();
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Only when there is one: the first read of clearTimeout loads Deno's timers (see after()
    // in actors/_worker_handle.ts), which a program that set no timer need not wait for.
    if (this.#respawnTimer !== undefined) clearTimeout(this.#respawnTimer);
    await this.#members.close(this.#settings.label);
  }

  /** The process ids of the pool's workers not yet ended (none for a pool of threads). */
  pids(): number[] {
    const pids: number[] = [];
    for (const member of this.#members.all) {
      const pid = (member.handle as { pid?: number }).pid;
      if (pid !== undefined) pids.push(pid);
    }
    return pids;
  }

  stats(): WorkerPoolStats {
    const c = this.#counters;
    return {
      workers: this.#members.counts(),
      queued: this.#dispatch.queued,
      running: c.running,
      completed: c.completed,
      failed: c.failed,
      futures: this.#core?.futureCounts() ?? { completed: 0, failed: 0, cancelled: 0 },
      attempts: { completed: c.completed, failed: c.failed },
      crashed: c.crashed,
      restarts: c.restarts,
      runTime: c.runTime.percentiles(),
      waitTime: c.waitTime.percentiles(),
    };
  }

  // --- the job policy ---

  /** A queued job settled (cancelled, stopped): it leaves its queue now. */
  jobDropped(job: Job): void {
    this.#dispatch.drop(job);
  }

  /** `cancel()` on a running future: takes the job back if its worker has not started it. */
  jobRevoked(job: Job): boolean {
    const member = this.#dispatch.revoke(job);
    if (!member) return false;
    this.#members.afterTask(member);
    return true;
  }

  /**
   * A started job was aborted (timeout, signal, broken). If its worker has not started it, it is
   * taken back; otherwise the task is stopped on its worker, which retires.
   */
  jobAborted(job: Job, reason: unknown): void {
    // A job sent back to the queue (its worker retired before starting it) leaves it.
    this.#dispatch.drop(job);
    const seq = job.placedSeq;
    const member = this.#dispatch.unplace(job);
    if (!member) return;
    this.#counters.failed++;
    if (member.handle.takeBack(seq)) return this.#members.afterTask(member);
    // Its worker takes back what it has not started before the task hears of the stop: once the
    // task returns, nothing else may start there.
    this.#members.withdraw(member);
    member.handle.abortTask(seq, reason instanceof TimeoutError, reason);
    // The stopped task stays in flight: its worker, retiring, lives on until the task returns or
    // the worker proves spinning, so an async task gets the abort event of its taskSignal().
    this.#members.retire(member, job);
  }

  // --- worker events ---

  ready(worker: Handle): void {
    const member = this.#members.get(worker);
    if (!member) return;
    this.#members.ready(member);
    this.#schedulePump();
  }

  pong(worker: Handle, id: number): void {
    const member = this.#members.get(worker);
    if (member) this.#members.pong(member, id);
  }

  initFailed(worker: Handle, stage: string, error: unknown): void {
    const what = stage === "initializer"
      ? "the initializer failed"
      : "a task module could not be loaded";
    const member = this.#members.get(worker);
    if (member) this.#members.end(member);
    this.#supervision.break(`${what} in worker ${worker.id}: ${messageOf(error)}`, error);
  }

  result(
    worker: Handle,
    job: Job,
    ok: boolean,
    outcome: unknown,
    values: unknown[] | undefined,
    ms: number,
    end: number,
  ): void {
    const member = this.#dispatch.unplace(job) ?? this.#members.get(worker);
    // A stopped task that returned after all: it was settled and counted when it was stopped.
    if (job.settled) {
      if (!member) return;
      this.#members.stoppedReturned(member, job);
      return this.#members.afterTask(member);
    }
    this.#counters.runTime.add(ms);
    this.#counters.observed?.observer?.ran(job, ms, end);
    if (ok) {
      this.#counters.completed++;
      job.resolve(outcome);
    } else {
      this.#counters.failed++;
      job.reject(values ? new ChunkFailure(values, outcome) : outcome);
    }
    if (member) this.#members.afterTask(member);
  }

  exited(worker: Handle, exit: WorkerExit, started: Job[], unstarted: Job[]): void {
    const member = this.#members.get(worker);
    if (!member) return;
    // Why it ended follows from the phase it was in, read before it moves to `ended`.
    const verdict = exitVerdict(member.phase, exit);
    this.#members.forget(member);
    const carryingOn = !this.#closed && !this.#core?.broken;
    const breaking = carryingOn ? this.#supervision.judge(member, exit, verdict) : undefined;
    for (const job of started) {
      this.#dispatch.unplace(job);
      // A task stopped on a retiring worker was settled and counted then.
      if (job.settled) continue;
      this.#counters.failed++;
      // The task whose worker's death breaks the pool keeps its crash: no retry, which the break
      // would stop with BrokenExecutorError.
      job.crashed(this.#supervision.crashError(member, exit, verdict), breaking !== undefined);
    }
    this.#requeue(unstarted);
    if (!carryingOn) return;
    if (verdict !== "failedToStart") this.#counters.crashed++;
    if (breaking) return this.#supervision.break(breaking.message, breaking.cause);
    if (verdict === "retired") return;
    this.#counters.restarts++;
    this.#schedulePump();
  }

  // --- scheduling ---

  #schedulePump(): void {
    if (this.#pumpQueued) return;
    // With nothing queued and nothing to steal a pump finds no work. Skipping it matters after
    // each result: its turn would come before the code awaiting that result goes on.
    if (this.#dispatch.queued === 0 && !this.#dispatch.canSteal()) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed && this.#dispatch.queued === 0) return;
    if (this.#core?.broken) return;
    if (!this.#refs.loaded) {
      // Workers start while this side still loads the task modules: each takes tens of ms, and
      // the first task need not wait for both in turn. An initializer is named once the modules
      // are loaded, so that one from a task module goes by reference.
      if (this.#settings.initializer === undefined) this.#spawnIfNeeded();
      return;
    }
    const emptied = this.#dispatch.send(this.#dispatch.place());
    for (const member of emptied) this.#members.afterTask(member);
    this.#spawnIfNeeded();
    if (this.#dispatch.steal()) this.#schedulePump();
  }

  #spawnIfNeeded(): void {
    if (this.#closed || this.#core?.broken || this.#dispatch.queued === 0) return;
    const wait = this.#supervision.waitBeforeSpawn();
    if (wait > 0) {
      // A timer longer than setTimeout holds fires early: the pump then waits again.
      this.#respawnTimer ??= setTimeout(() => {
        this.#respawnTimer = undefined;
        this.#schedulePump();
      }, Math.min(wait, MAX_TIMER_MS));
      return;
    }
    this.#members.spawnFor(this.#dispatch.queued);
  }

  #requeue(jobs: Job[]): void {
    this.#dispatch.requeue(jobs);
    if (jobs.length > 0) this.#schedulePump();
  }

  #broken(error: BrokenExecutorError): void {
    if (this.#respawnTimer !== undefined) clearTimeout(this.#respawnTimer);
    this.#core?.breakWith(error);
    for (const job of this.#dispatch.drain()) job.reject(error);
    this.#members.endAll();
  }
}

// The engine behind WorkerPoolExecutor: the task queue, the balancer (least busy worker first,
// several tasks in flight per worker), the supervisor (crashes, restarts, retiring workers whose
// task was stopped), and the counters behind stats().

import { BrokenExecutorError, TimeoutError, WorkerCrashedError } from "../future/errors.ts";
import type { Dispatch, PoolWorker, WorkerEvents, WorkerExit } from "../actors/_pool_worker.ts";
import { WorkerHandle } from "../actors/_worker_handle.ts";
import { RestartSupervisor } from "./_supervisor.ts";
import { leastBusy, pickWorker } from "./_balancer.ts";
import { ProcessHandle } from "../actors/_process_handle.ts";
import type { WorkerPermissions } from "../actors/_transport.ts";
import type { Engine, ExecutorCore } from "./_core.ts";
import { bystanderCrash, type Job } from "./_task.ts";
import type { AttemptCounts, FutureCounts } from "./executor.ts";
import { ChunkFailure } from "./_map.ts";
import { Queue } from "../future/_queue.ts";
import { type Percentiles, Samples } from "./_samples.ts";
import { FunctionRefs } from "./_fn_ref.ts";

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

/** How replacements of crashed workers back off, as Akka's backoff supervisor does. */
export interface RestartBackoff {
  /** The delay before the second replacement in a row; the first is immediate. */
  min: number;
  /** The longest delay. */
  max: number;
  /** Each delay is stretched by up to this fraction, at random. */
  randomFactor: number;
  /** After this long without a crash, the next replacement is immediate again. */
  resetAfter: number;
}

/** Counts of workers by what they are doing. */
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
}

/** A snapshot of a worker pool. */
export interface WorkerPoolStats {
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

type Handle = PoolWorker<Job>;

/** What the engine keeps of one worker besides its handle: its phase and its timers. */
class Member {
  /** When it last went idle, while it is idle. */
  idleSince: number | undefined;
  /** One timer per idle spell at most (see #armIdle). */
  idleTimer: ReturnType<typeof setTimeout> | undefined;
  /**
   * Set once it is retiring (it takes no new tasks and ends once what it started has settled):
   * the tasks stopped on it that have not returned yet.
   */
  stopped: Set<Job> | undefined;
  /** Ends a retiring worker if a stopped task has not returned in time; unset once none is left. */
  graceTimer: ReturnType<typeof setTimeout> | undefined;

  get retiring(): boolean {
    return this.stopped !== undefined;
  }

  destroy(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.graceTimer);
    this.idleTimer = this.graceTimer = this.idleSince = undefined;
  }
}

// How long a task stopped on a worker may take to return before the worker is ended anyway, with
// whatever else it was running. Once every stopped task has returned, the worker's event loop is
// known to be free, and its other tasks may finish in their own time.
const DRAIN_GRACE_MS = 2_000;
// The longest delay setTimeout honours; longer ones are re-armed for the rest.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The engine of a WorkerPoolExecutor. */
export class WorkerEngine implements Engine, WorkerEvents<Job> {
  readonly chunks = true;
  #core: ExecutorCore | undefined;
  #settings: PoolSettings;
  #refs: FunctionRefs;
  /** Tasks waiting for a worker. */
  #queue = new Queue<Job>();
  /**
   * Tasks with a `timeout`, which wait for an idle worker (their time counts from their start);
   * kept apart so that they do not hold up the tasks behind them while other workers have room.
   */
  #exclusive = new Queue<Job>();
  #workers = new Set<Handle>();
  /** Every worker not yet ended, serving or retiring, with its record. */
  #members = new Map<Handle, Member>();
  #zombies = new Set<Handle>();
  /** Workers ended and not yet gone (a process's exit status and streams). */
  #ending = new Set<Promise<void>>();
  /** Jobs placed on a worker and not yet answered (or stopped). */
  #running = 0;
  // One handler for every job, not a closure per task.
  readonly #onAbort = (job: Job, reason: unknown) => this.#stop(job, reason);
  readonly #onRevoke = (job: Job) => this.#revoke(job);
  #supervisor: RestartSupervisor;
  #respawnTimer: ReturnType<typeof setTimeout> | undefined;
  #nextId = 1;
  #pumpQueued = false;
  #closed = false;
  #completed = 0;
  #failed = 0;
  #crashed = 0;
  #restarts = 0;
  #runTime = new Samples();
  #waitTime = new Samples();

  constructor(settings: PoolSettings) {
    this.#settings = settings;
    this.#refs = new FunctionRefs(settings.modules);
    this.#supervisor = new RestartSupervisor(settings.restartLimit, settings.restartBackoff);
  }

  /** Connects the engine to its executor and starts loading the task modules. */
  attach(core: ExecutorCore): void {
    this.#core = core;
    this.#refs.onReady = () => this.#schedulePump();
    this.#refs.load().then(
      () => this.#schedulePump(),
      (error) => this.#break(`a task module could not be loaded: ${messageOf(error)}`, error),
    );
  }

  freeSlots(): number {
    let idle = 0;
    for (const worker of this.#workers) {
      if (worker.state === "ready" && worker.inflight === 0) idle++;
    }
    return idle + Math.max(0, this.#settings.maxWorkers - this.#workers.size);
  }

  validateFunction(fn: unknown): void {
    this.#refs.validate(fn);
  }

  schedule(job: Job): void {
    job.queuedAt = performance.now();
    this.#queueOf(job).push(job);
    this.#schedulePump();
  }

  #queueOf(job: Job): Queue<Job> {
    return job.options.timeout === undefined ? this.#queue : this.#exclusive;
  }

  get #queued(): number {
    return this.#queue.length + this.#exclusive.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#respawnTimer);
    for (const worker of [...this.#members.keys()]) this.#end(worker);
    await Promise.all(this.#ending);
  }

  stats(): WorkerPoolStats {
    let busy = 0, idle = 0, starting = 0;
    for (const worker of this.#workers) {
      if (worker.state === "starting") starting++;
      else if (worker.inflight > 0) busy++;
      else idle++;
    }
    this.#pruneZombies();
    let spinning = this.#zombies.size;
    let retiring = 0;
    for (const [worker, member] of this.#members) {
      if (!member.retiring) continue;
      retiring++;
      if (worker.spinning()) spinning++;
    }
    return {
      workers: {
        total: this.#workers.size,
        busy,
        idle,
        starting,
        retiring,
        spinning,
      },
      queued: this.#queued,
      running: this.#running,
      completed: this.#completed,
      failed: this.#failed,
      futures: this.#core?.futureCounts() ?? { completed: 0, failed: 0, cancelled: 0 },
      attempts: { completed: this.#completed, failed: this.#failed },
      crashed: this.#crashed,
      restarts: this.#restarts,
      runTime: this.#runTime.percentiles(),
      waitTime: this.#waitTime.percentiles(),
    };
  }

  // --- worker events ---

  ready(worker: Handle): void {
    if (worker.state !== "ready") return;
    this.#core?.observer?.worker(`worker ${worker.id}`, "idle");
    this.#armIdle(worker);
    this.#schedulePump();
  }

  initFailed(worker: Handle, stage: string, error: unknown): void {
    const what = stage === "initializer"
      ? "the initializer failed"
      : "a task module could not be loaded";
    this.#end(worker);
    this.#break(`${what} in worker ${worker.id}: ${messageOf(error)}`, error);
  }

  result(
    worker: Handle,
    job: Job,
    ok: boolean,
    outcome: unknown,
    values: unknown[] | undefined,
    ms: number,
  ): void {
    this.#unplace(job);
    // A stopped task that returned after all: it was settled and counted when it was stopped.
    if (job.settled) {
      const member = this.#members.get(worker);
      if (member?.stopped?.delete(job) && member.stopped.size === 0) {
        clearTimeout(member.graceTimer);
        member.graceTimer = undefined;
      }
      return this.#afterTask(worker);
    }
    this.#runTime.add(ms);
    this.#core?.observer?.ran(job, ms);
    if (ok) {
      this.#completed++;
      job.resolve(outcome);
    } else {
      this.#failed++;
      job.reject(values ? new ChunkFailure(values, outcome) : outcome);
    }
    this.#afterTask(worker);
  }

  exited(worker: Handle, exit: WorkerExit, started: Job[], unstarted: Job[]): void {
    const wasRetiring = this.#members.get(worker)?.retiring === true;
    const wasStarting = !wasRetiring && this.#workers.has(worker) &&
      worker.runMs === undefined && worker.dispatched === 0;
    this.#forget(worker);
    const how = describeExit(exit, this.#settings.kind);
    for (const job of started) {
      this.#unplace(job);
      // A task stopped on a retiring worker was settled and counted then.
      if (job.settled) continue;
      this.#failed++;
      const details = {
        exitCode: exit.code,
        ...(exit.signal ? { signal: exit.signal } : {}),
        cause: exit.error,
      };
      // On a retiring worker, the stopped task is the likely culprit (a killed process ends its
      // other tasks with it): the others are not held to account as poison.
      job.reject(
        wasRetiring
          ? bystanderCrash(
            `worker ${worker.id} ${how} while running the task, after another task on it was stopped`,
            details,
          )
          : new WorkerCrashedError(`worker ${worker.id} ${how} while running the task`, details),
      );
    }
    this.#requeue(unstarted);
    if (this.#closed || this.#core?.broken) return;
    // A thread that fails before it is ready has failed to load; so has a process that ends then
    // (its import errors go to its stderr, and only its exit code comes here).
    if (wasStarting && (exit.cause === "uncaught" || this.#settings.kind === "process")) {
      return this.#break(
        `worker ${worker.id} failed to start: ${messageOf(exit.error)}`,
        exit.error,
      );
    }
    this.#crashed++;
    // A retiring worker was replaced when its task was stopped, and was on its way out anyway.
    if (wasRetiring) return;
    if (this.#settings.onCrash === "break") {
      return this.#break(`worker ${worker.id} ${how} and 'onCrash' is "break"`, exit.error);
    }
    if (!this.#supervisor.crashed(performance.now())) {
      const { max, within } = this.#settings.restartLimit;
      return this.#break(
        `more than ${max} worker restarts within ${within} ms (the restart limit); the last: worker ${worker.id} ${how}`,
        exit.error,
      );
    }
    this.#restarts++;
    this.#schedulePump();
  }

  // --- scheduling ---

  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    queueMicrotask(() => {
      this.#pumpQueued = false;
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#closed && this.#queued === 0) return;
    if (this.#core?.broken || !this.#refs.loaded) return;
    const batches = new Map<Handle, Dispatch<Job>[]>();
    const now = performance.now();
    // A task with a timeout that waits for an idle worker reserves the least busy one: it takes
    // no new tasks until it is idle, while the others keep serving the tasks behind.
    let reserved: Handle | undefined;
    const placed = (worker: Handle) => batches.get(worker)?.length ?? 0;
    const { maxTasksPerWorker } = this.#settings;
    // The worker reserved for a task with a timeout is kept from the others, not from it.
    const pickFor = (exclusive: boolean) =>
      pickWorker(this.#workers, {
        exclusive,
        placed,
        maxTasksPerWorker,
        reserved: exclusive ? undefined : reserved,
      });
    for (;;) {
      const normal = firstLive(this.#queue);
      const exclusive = firstLive(this.#exclusive);
      if (!normal && !exclusive) break;
      let job: Job | undefined;
      let worker: Handle | undefined;
      if (exclusive && (!normal || this.#olderThan(exclusive, normal))) {
        worker = pickFor(true);
        if (worker) job = exclusive;
        else if (normal) {
          reserved ??= leastBusy(this.#workers, placed);
          worker = pickFor(false);
          if (worker) job = normal;
        }
      } else if (normal) {
        worker = pickFor(false);
        if (worker) job = normal;
      }
      if (!job || !worker) break;
      this.#queueOf(job).shift();
      const refused = this.#refs.refusal(job.fn, this.#settings.label);
      if (refused) {
        job.reject(refused);
        continue;
      }
      if (!job.started) {
        job.onAbort = this.#onAbort;
        if (!job.start()) continue;
      }
      this.#core?.observer?.started(job, `worker ${worker.id}`);
      this.#waitTime.add(now - job.queuedAt);
      const dispatch: Dispatch<Job> = {
        item: job,
        kind: job.kind,
        fn: this.#refs.ref(job.fn),
        args: job.args,
        transfer: job.options.transfer,
      };
      let batch = batches.get(worker);
      if (!batch) batches.set(worker, batch = []);
      batch.push(dispatch);
    }
    for (const [worker, batch] of batches) {
      this.#clearIdle(worker);
      const failed = worker.send(batch);
      for (const { item, error } of failed) {
        this.#failed++;
        item.reject(error);
      }
      if (failed.length > 0 && worker.inflight === 0) this.#afterTask(worker);
      for (const d of batch) {
        if (d.seq !== undefined && !d.item.settled) {
          const job = d.item;
          job.placedOn = worker;
          job.placedSeq = d.seq;
          this.#running++;
          // Until the worker starts it, the task can still be cancelled (see #revoke).
          if (job.attempt === 1) job.onRevoke = this.#onRevoke;
        }
      }
    }
    this.#spawnIfNeeded();
    this.#steal();
  }

  #olderThan(a: Job, b: Job): boolean {
    return a.queuedAt <= b.queuedAt;
  }

  /**
   * When nothing is queued and a worker is idle, takes back half of the unstarted tasks of the
   * busiest worker, for the idle one: pipelining must not leave a core idle at the end of a batch
   * while another has work waiting.
   */
  #steal(): void {
    if (this.#queued > 0) return;
    const { maxTasksPerWorker } = this.#settings;
    const idle = [...this.#workers].some((w) =>
      w.state === "ready" && w.inflight === 0 && w.dispatched < maxTasksPerWorker
    );
    if (!idle) return;
    let victim: Handle | undefined;
    for (const worker of this.#workers) {
      if (worker.inflight >= 2 && worker.inflight > (victim?.inflight ?? 1)) victim = worker;
    }
    if (!victim) return;
    const taken = victim.revoke(Math.floor(victim.inflight / 2));
    this.#requeue(taken);
  }

  #spawnIfNeeded(): void {
    if (this.#closed || this.#core?.broken || this.#queued === 0) return;
    const wait = this.#supervisor.waitBeforeSpawn(performance.now());
    if (wait > 0) {
      // A timer longer than setTimeout holds fires early: the pump then waits again.
      this.#respawnTimer ??= setTimeout(() => {
        this.#respawnTimer = undefined;
        this.#schedulePump();
      }, Math.min(wait, MAX_TIMER_MS));
      return;
    }
    let starting = 0;
    for (const worker of this.#workers) if (worker.state === "starting") starting++;
    // Queued jobs that settled while waiting are counted too: they are rare and dropped soon.
    const waiting = this.#queued;
    while (this.#workers.size < this.#settings.maxWorkers && starting < waiting) {
      this.#spawn();
      starting++;
    }
  }

  #spawn(): void {
    const id = this.#nextId++;
    const { label, kind, permissions, initializer, initargs, memoryLimitMb, denoArgs } =
      this.#settings;
    const spec = {
      name: `${label} worker ${id}`,
      permissions,
      modules: this.#refs.urls,
      // Named here, not when the modules finish loading: a pump may run before that callback.
      initializer: initializer && this.#refs.ref(initializer),
      initargs,
      memoryLimitMb,
      denoArgs,
    };
    let worker: Handle;
    try {
      worker = kind === "process"
        ? new ProcessHandle<Job>(id, spec, this)
        : new WorkerHandle<Job>(id, spec, this);
    } catch (error) {
      return this.#break(`worker ${id} could not be started: ${messageOf(error)}`, error);
    }
    this.#workers.add(worker);
    this.#members.set(worker, new Member());
    this.#core?.observer?.worker(`worker ${id}`, "starting");
  }

  #afterTask(worker: Handle): void {
    if (this.#members.get(worker)?.retiring) {
      if (worker.inflight === 0) this.#end(worker);
      return;
    }
    if (worker.dispatched >= this.#settings.maxTasksPerWorker && worker.inflight === 0) {
      this.#end(worker);
      this.#restarts++;
    } else if (worker.inflight === 0) {
      this.#armIdle(worker);
    }
    this.#schedulePump();
  }

  // --- stopping tasks and workers ---

  /** Takes a job back from the worker it was sent to, if that worker has not started it. */
  #revoke(job: Job): boolean {
    const worker = job.placedOn as Handle | undefined;
    if (!worker || job.settled || !worker.takeBack(job.placedSeq)) return false;
    this.#unplace(job);
    this.#afterTask(worker);
    return true;
  }

  /** The job no longer runs where it was placed; returns that worker and seq. */
  #unplace(job: Job): Handle | undefined {
    const worker = job.placedOn as Handle | undefined;
    if (worker === undefined) return undefined;
    job.placedOn = undefined;
    job.onRevoke = undefined;
    this.#running--;
    return worker;
  }

  /**
   * A job handed to a worker was aborted (timeout, signal, broken). If the worker has not started
   * it, it is taken back; otherwise the worker is stopped and replaced.
   */
  #stop(job: Job, reason: unknown): void {
    const seq = job.placedSeq;
    const worker = this.#unplace(job);
    if (!worker) return;
    this.#failed++;
    if (worker.takeBack(seq)) return this.#afterTask(worker);
    worker.abortTask(seq, reason instanceof TimeoutError, reason);
    // The stopped task stays in flight: its worker, retiring, lives until the task returns (or
    // the grace period ends), so an async task gets the abort event of its taskSignal().
    this.#retire(worker, job);
  }

  /**
   * Takes no more tasks to `worker`: tasks it never started go back to the queue, tasks it
   * started may finish within a grace period, then it is ended.
   */
  #retire(worker: Handle, stopped: Job): void {
    const member = this.#members.get(worker);
    if (!member) return;
    if (member.stopped) {
      member.stopped.add(stopped);
      member.graceTimer ??= setTimeout(() => this.#end(worker), DRAIN_GRACE_MS);
      return;
    }
    this.#workers.delete(worker);
    this.#clearIdle(worker);
    this.#core?.observer?.worker(`worker ${worker.id}`, "retiring");
    const { unstarted } = worker.retire();
    this.#requeue(unstarted);
    if (worker.inflight === 0) {
      this.#end(worker);
    } else {
      member.stopped = new Set([stopped]);
      member.graceTimer = setTimeout(() => this.#end(worker), DRAIN_GRACE_MS);
    }
    this.#restarts++;
    this.#schedulePump();
  }

  /** Ends a worker now; tasks still in flight on it reject with WorkerCrashedError. */
  #end(worker: Handle): void {
    const wasRetiring = this.#members.get(worker)?.retiring === true;
    this.#forget(worker);
    for (const job of worker.terminate()) {
      this.#unplace(job);
      if (job.settled) continue;
      this.#failed++;
      job.reject(
        wasRetiring
          ? bystanderCrash(
            `worker ${worker.id} was ended because another task on it was stopped and did not return within ${DRAIN_GRACE_MS} ms`,
          )
          : new WorkerCrashedError(`worker ${worker.id} was ended while running the task`),
      );
    }
    this.#pruneZombies();
    if (worker.spinning()) this.#zombies.add(worker);
  }

  /** Forgets the workers that have left their loop at last; run whenever a worker ends. */
  #pruneZombies(): void {
    for (const zombie of this.#zombies) if (!zombie.spinning()) this.#zombies.delete(zombie);
  }

  #forget(worker: Handle): void {
    if (this.#members.has(worker)) this.#core?.observer?.worker(`worker ${worker.id}`, "gone");
    const gone = worker.gone;
    this.#ending.add(gone);
    gone.then(() => this.#ending.delete(gone));
    this.#workers.delete(worker);
    this.#members.get(worker)?.destroy();
    this.#members.delete(worker);
  }

  #requeue(jobs: Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      this.#unplace(job);
      if (!job.settled) this.#queueOf(job).unshift(job);
    }
    if (jobs.length > 0) this.#schedulePump();
  }

  // One timer per idle worker, not cleared when the worker gets a task: a task only forgets when
  // the worker went idle, and the timer, when it fires, checks and waits again if need be. A
  // worker used one task at a time would otherwise set and clear a timer on every task.
  #armIdle(worker: Handle): void {
    const { idleTimeout } = this.#settings;
    if (idleTimeout === Infinity) return;
    const member = this.#members.get(worker);
    if (!member) return;
    member.idleSince = performance.now();
    if (member.idleTimer === undefined) this.#idleTimer(worker, member, idleTimeout);
  }

  #idleTimer(worker: Handle, member: Member, ms: number): void {
    member.idleTimer = setTimeout(() => {
      member.idleTimer = undefined;
      const since = member.idleSince;
      if (since === undefined || worker.inflight > 0 || !this.#workers.has(worker)) return;
      const left = this.#settings.idleTimeout - (performance.now() - since);
      if (left > 0) this.#idleTimer(worker, member, left);
      else this.#end(worker);
    }, Math.min(ms, MAX_TIMER_MS));
  }

  #clearIdle(worker: Handle): void {
    const member = this.#members.get(worker);
    if (member) member.idleSince = undefined;
  }

  #break(message: string, cause: unknown): void {
    if (this.#core?.broken) return;
    clearTimeout(this.#respawnTimer);
    const error = new BrokenExecutorError(`${this.#settings.label} is broken: ${message}`, {
      cause,
    });
    this.#core?.breakWith(error);
    for (const job of this.#queue.drain()) job.reject(error);
    for (const job of this.#exclusive.drain()) job.reject(error);
    for (const worker of [...this.#members.keys()]) this.#end(worker);
  }
}

/** The head of `queue` after dropping the jobs that settled while they waited. */
function firstLive(queue: Queue<Job>): Job | undefined {
  while (queue.length > 0 && queue.peek()!.settled) queue.shift();
  return queue.peek();
}

function describeExit(exit: WorkerExit, kind: "thread" | "process"): string {
  switch (exit.cause) {
    case "close":
      return "called self.close()";
    case "uncaught":
      return `failed with an uncaught error: ${messageOf(exit.error)}`;
    case "signal":
      return `was ended by ${exit.signal} (out of memory, or killed from outside)`;
    case "exit":
      return kind === "process"
        ? `exited with code ${exit.code}`
        : `called Deno.exit(${exit.code})`;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

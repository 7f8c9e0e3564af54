// The engine behind WorkerPoolExecutor: the task queue, the balancer (least busy worker first,
// several tasks in flight per worker), the supervisor (crashes, restarts, retiring workers whose
// task was stopped), and the counters behind stats().

import { BrokenExecutorError, TimeoutError, WorkerCrashedError } from "../future/errors.ts";
import type { Dispatch, PoolWorker, WorkerEvents, WorkerExit } from "../actors/_pool_worker.ts";
import { WorkerHandle } from "../actors/_worker_handle.ts";
import { backoffDelay } from "../actors/_backoff.ts";
import { ProcessHandle } from "../actors/_process_handle.ts";
import type { WorkerPermissions } from "../actors/_transport.ts";
import type { Engine, ExecutorCore } from "./_core.ts";
import type { Job } from "./_task.ts";
import type { AttemptCounts, FutureCounts } from "./executor.ts";
import { setCancelHook } from "../future/future.ts";
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

// How long a retired worker may finish its other started tasks before it is ended anyway.
const DRAIN_GRACE_MS = 2_000;
// Pipelining: enough tasks in flight per worker to cover about this many ms of work.
const PIPELINE_MS = 10;
const MAX_PIPELINE = 128;
// The longest delay setTimeout honours; longer ones are re-armed for the rest.
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The engine of a WorkerPoolExecutor. */
export class WorkerEngine implements Engine, WorkerEvents<Job> {
  readonly chunks = true;
  #core: ExecutorCore | undefined;
  #settings: PoolSettings;
  #refs: FunctionRefs;
  #queue = new Queue<Job>();
  #workers = new Set<Handle>();
  #retiring = new Map<Handle, ReturnType<typeof setTimeout> | undefined>();
  #zombies = new Set<Handle>();
  /** Workers ended and not yet gone (a process's exit status and streams). */
  #ending = new Set<Promise<void>>();
  #idleTimers = new Map<Handle, ReturnType<typeof setTimeout>>();
  #idleSince = new Map<Handle, number>();
  #placement = new Map<Job, { worker: Handle; seq: number }>();
  #queuedAt = new WeakMap<Job, number>();
  #crashTimes: number[] = [];
  #crashesInARow = 0;
  #respawnAt = 0;
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

  validateFunction(fn: unknown): void {
    this.#refs.validate(fn);
  }

  schedule(job: Job): void {
    this.#queuedAt.set(job, performance.now());
    this.#queue.push(job);
    this.#schedulePump();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#respawnTimer);
    for (const worker of [...this.#workers, ...this.#retiring.keys()]) this.#end(worker);
    await Promise.all(this.#ending);
  }

  stats(): WorkerPoolStats {
    let busy = 0, idle = 0, starting = 0;
    for (const worker of this.#workers) {
      if (worker.state === "starting") starting++;
      else if (worker.inflight > 0) busy++;
      else idle++;
    }
    for (const zombie of this.#zombies) if (!zombie.spinning()) this.#zombies.delete(zombie);
    let spinning = this.#zombies.size;
    for (const worker of this.#retiring.keys()) if (worker.spinning()) spinning++;
    return {
      workers: {
        total: this.#workers.size,
        busy,
        idle,
        starting,
        retiring: this.#retiring.size,
        spinning,
      },
      queued: this.#queue.length,
      running: this.#placement.size,
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
    this.#placement.delete(job);
    // A stopped task that returned after all: it was settled and counted when it was stopped.
    if (job.settled) return this.#afterTask(worker);
    this.#runTime.add(ms);
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
    const wasRetiring = this.#retiring.has(worker);
    const wasStarting = !wasRetiring && this.#workers.has(worker) &&
      worker.runMs === undefined && worker.dispatched === 0;
    this.#forget(worker);
    const how = describeExit(exit, this.#settings.kind);
    for (const job of started) {
      this.#placement.delete(job);
      // A task stopped on a retiring worker was settled and counted then.
      if (job.settled) continue;
      this.#failed++;
      job.reject(
        new WorkerCrashedError(`worker ${worker.id} ${how} while running the task`, {
          exitCode: exit.code,
          ...(exit.signal ? { signal: exit.signal } : {}),
          cause: exit.error,
        }),
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
    const { max, within } = this.#settings.restartLimit;
    const now = performance.now();
    this.#crashTimes = this.#crashTimes.filter((t) => now - t < within);
    this.#crashTimes.push(now);
    if (this.#crashTimes.length > max) {
      return this.#break(
        `more than ${max} worker restarts within ${within} ms (the restart limit); the last: worker ${worker.id} ${how}`,
        exit.error,
      );
    }
    this.#restarts++;
    this.#backOff(now);
    this.#schedulePump();
  }

  /** Delays the next spawn after a crash: 0, min, 2·min, 4·min … up to max, with jitter. */
  #backOff(now: number): void {
    const { min, max, randomFactor, resetAfter } = this.#settings.restartBackoff;
    const previous = this.#crashTimes.at(-2);
    if (previous === undefined || now - previous > resetAfter) this.#crashesInARow = 0;
    const delay = backoffDelay(++this.#crashesInARow, { min, max, randomFactor });
    this.#respawnAt = Math.max(this.#respawnAt, now + delay);
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
    if (this.#closed && this.#queue.length === 0) return;
    if (this.#core?.broken || !this.#refs.loaded) return;
    const batches = new Map<Handle, Dispatch<Job>[]>();
    const now = performance.now();
    while (this.#queue.length > 0) {
      const job = this.#queue.peek()!;
      if (job.settled) {
        this.#queue.shift();
        continue;
      }
      const refused = this.#refs.refusal(job.fn, this.#settings.label);
      if (refused) {
        this.#queue.shift();
        job.reject(refused);
        continue;
      }
      const exclusive = job.options.timeout !== undefined;
      const worker = this.#pick(exclusive, batches);
      if (!worker) break;
      this.#queue.shift();
      if (!job.started) {
        job.onAbort = (reason) => this.#stop(job, reason);
        if (!job.start()) continue;
      }
      this.#waitTime.add(now - (this.#queuedAt.get(job) ?? now));
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
      this.#clearIdle(worker);
    }
    for (const [worker, batch] of batches) {
      const failed = worker.send(batch);
      for (const { item, error } of failed) {
        this.#failed++;
        item.reject(error);
      }
      if (failed.length > 0 && worker.inflight === 0) this.#afterTask(worker);
      for (const d of batch) {
        if (d.seq !== undefined && !d.item.settled) {
          this.#placement.set(d.item, { worker, seq: d.seq });
          // Until the worker starts it, the task can still be cancelled (see #revoke).
          if (d.item.attempt === 1) setCancelHook(d.item.task.future, () => this.#revoke(d.item));
        }
      }
    }
    this.#spawnIfNeeded();
    this.#steal();
  }

  /**
   * When nothing is queued and a worker is idle, takes back half of the unstarted tasks of the
   * busiest worker, for the idle one: pipelining must not leave a core idle at the end of a batch
   * while another has work waiting.
   */
  #steal(): void {
    if (this.#queue.length > 0) return;
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
    for (const job of taken) this.#placement.delete(job);
    this.#requeue(taken);
  }

  /** The least busy ready worker with room for one more task, if any. */
  #pick(exclusive: boolean, batches: Map<Handle, Dispatch<Job>[]>): Handle | undefined {
    let best: Handle | undefined;
    let bestLoad = Infinity;
    const { maxTasksPerWorker } = this.#settings;
    for (const worker of this.#workers) {
      if (worker.state !== "ready") continue;
      const load = worker.inflight + (batches.get(worker)?.length ?? 0);
      if (worker.dispatched + (batches.get(worker)?.length ?? 0) >= maxTasksPerWorker) continue;
      const room = exclusive || worker.exclusive ? 1 : depth(worker);
      if (load < room && load < bestLoad) {
        best = worker;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  #spawnIfNeeded(): void {
    if (this.#closed || this.#core?.broken || this.#queue.length === 0) return;
    const wait = this.#respawnAt - performance.now();
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
    const waiting = this.#queue.length;
    while (this.#workers.size < this.#settings.maxWorkers && starting < waiting) {
      this.#spawn();
      starting++;
    }
  }

  #spawn(): void {
    const id = this.#nextId++;
    const { label, kind, permissions, initializer, initargs, memoryLimitMb } = this.#settings;
    const spec = {
      name: `${label} worker ${id}`,
      permissions,
      modules: this.#refs.urls,
      // Named here, not when the modules finish loading: a pump may run before that callback.
      initializer: initializer && this.#refs.ref(initializer),
      initargs,
      memoryLimitMb,
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
  }

  #afterTask(worker: Handle): void {
    if (this.#retiring.has(worker)) {
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
    const placed = this.#placement.get(job);
    if (!placed || job.settled || !placed.worker.takeBack(placed.seq)) return false;
    this.#placement.delete(job);
    this.#afterTask(placed.worker);
    return true;
  }

  /**
   * A job handed to a worker was aborted (timeout, signal, broken). If the worker has not started
   * it, it is taken back; otherwise the worker is stopped and replaced.
   */
  #stop(job: Job, reason: unknown): void {
    const placed = this.#placement.get(job);
    if (!placed) return;
    this.#placement.delete(job);
    this.#failed++;
    const { worker, seq } = placed;
    if (worker.takeBack(seq)) return this.#afterTask(worker);
    worker.abortTask(seq, reason instanceof TimeoutError, reason);
    // The stopped task stays in flight: its worker, retiring, lives until the task returns (or
    // the grace period ends), so an async task gets the abort event of its taskSignal().
    this.#retire(worker);
  }

  /**
   * Takes no more tasks to `worker`: tasks it never started go back to the queue, tasks it
   * started may finish within a grace period, then it is ended.
   */
  #retire(worker: Handle): void {
    if (!this.#workers.has(worker)) return;
    this.#workers.delete(worker);
    this.#clearIdle(worker);
    const { unstarted } = worker.retire();
    this.#requeue(unstarted);
    if (worker.inflight === 0) {
      this.#end(worker);
    } else {
      this.#retiring.set(worker, setTimeout(() => this.#end(worker), DRAIN_GRACE_MS));
    }
    this.#restarts++;
    this.#schedulePump();
  }

  /** Ends a worker now; tasks still in flight on it reject with WorkerCrashedError. */
  #end(worker: Handle): void {
    const wasRetiring = this.#retiring.has(worker);
    this.#forget(worker);
    for (const job of worker.terminate()) {
      this.#placement.delete(job);
      if (job.settled) continue;
      this.#failed++;
      job.reject(
        new WorkerCrashedError(
          wasRetiring
            ? `worker ${worker.id} was ended because another task on it was stopped`
            : `worker ${worker.id} was ended while running the task`,
        ),
      );
    }
    if (worker.spinning()) this.#zombies.add(worker);
  }

  #forget(worker: Handle): void {
    const gone = worker.gone;
    this.#ending.add(gone);
    gone.then(() => this.#ending.delete(gone));
    this.#workers.delete(worker);
    this.#idleSince.delete(worker);
    clearTimeout(this.#idleTimers.get(worker));
    this.#idleTimers.delete(worker);
    clearTimeout(this.#retiring.get(worker));
    this.#retiring.delete(worker);
  }

  #requeue(jobs: Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      this.#placement.delete(job);
      if (!job.settled) this.#queue.unshift(job);
    }
    if (jobs.length > 0) this.#schedulePump();
  }

  // One timer per idle worker, not cleared when the worker gets a task: a task only forgets when
  // the worker went idle, and the timer, when it fires, checks and waits again if need be. A
  // worker used one task at a time would otherwise set and clear a timer on every task.
  #armIdle(worker: Handle): void {
    const { idleTimeout } = this.#settings;
    if (idleTimeout === Infinity) return;
    this.#idleSince.set(worker, performance.now());
    if (!this.#idleTimers.has(worker)) this.#idleTimer(worker, idleTimeout);
  }

  #idleTimer(worker: Handle, ms: number): void {
    this.#idleTimers.set(
      worker,
      setTimeout(() => {
        this.#idleTimers.delete(worker);
        const since = this.#idleSince.get(worker);
        if (since === undefined || worker.inflight > 0 || !this.#workers.has(worker)) return;
        const left = this.#settings.idleTimeout - (performance.now() - since);
        if (left > 0) this.#idleTimer(worker, left);
        else this.#end(worker);
      }, Math.min(ms, MAX_TIMER_MS)),
    );
  }

  #clearIdle(worker: Handle): void {
    this.#idleSince.delete(worker);
  }

  #break(message: string, cause: unknown): void {
    if (this.#core?.broken) return;
    clearTimeout(this.#respawnTimer);
    const error = new BrokenExecutorError(`${this.#settings.label} is broken: ${message}`, {
      cause,
    });
    this.#core?.breakWith(error);
    for (const job of this.#queue.drain()) job.reject(error);
    for (const worker of [...this.#workers, ...this.#retiring.keys()]) this.#end(worker);
  }
}

/** How many tasks to keep in flight on a worker, from how long its tasks take. */
function depth(worker: Handle): number {
  const ms = worker.runMs;
  if (ms === undefined) return 1;
  return Math.max(1, Math.min(MAX_PIPELINE, Math.ceil(PIPELINE_MS / Math.max(ms, 0.001))));
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

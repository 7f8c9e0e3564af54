// The workers of a pool and the one state machine each goes through:
//
//   starting ──ready──▶ idle ⇄ busy ──stop/close──▶ retiring ──▶ ended
//        └──────────────────┴───────────────────────────────────────▲
//
// A worker is `starting` until it acknowledges `ready` (its modules and initializer loaded),
// `idle` or `busy` while it serves, `retiring` once it takes no new tasks (a task on it was
// stopped) and `ended` once it is gone. Why a worker ended is read from the phase it ended in
// (see _supervisor.ts), never guessed from its counters. This file owns the phases, the idle
// timers, retiring (with a ping to tell a free event loop from a spinning one) and ending.

import { messageOf } from "../future/_text.ts";
import type { PoolWorker } from "../actors/_pool_worker.ts";
import { WorkerHandle } from "../actors/_worker_handle.ts";
import { ProcessHandle } from "../actors/_process_handle.ts";
import type { WorkerEvents } from "../actors/_pool_worker.ts";
import { WorkerCrashedError } from "../future/errors.ts";
import type { Candidate } from "./_balancer.ts";
import type { FunctionRefs } from "./_fn_ref.ts";
import { bystanderCrash, type Job } from "./_task.ts";
import type { PoolCounters, PoolSettings, WorkerCounts } from "./_worker_engine.ts";
import type { Observable } from "./_observe.ts";
import { isCloneError } from "../actors/_transport.ts";

/** The host side of one worker, as the engine holds it. */
export type Handle = PoolWorker<Job>;

/** Where a worker is in its life (see the diagram at the top of this file). */
export type Phase = "starting" | "idle" | "busy" | "retiring" | "ended";

/** What the balancer reads of each phase: only `ready` workers take tasks. */
const PHASE_STATES: Record<Phase, Candidate["state"]> = {
  starting: "starting",
  idle: "ready",
  busy: "ready",
  retiring: "retired",
  ended: "dead",
};

/** One worker of the pool: its handle, its phase and its timers. */
export class Member implements Candidate {
  readonly handle: Handle;
  /** Its name for observers: `worker <id>`. */
  readonly name: string;
  #phase: Phase = "starting";
  readonly #observed: Observable | undefined;
  /** When it last went idle, while it is idle. */
  idleSince: number | undefined;
  /** Cancels its idle timer; one per idle spell at most (see Membership.#armIdle). */
  idleTimer: (() => void) | undefined;
  /** While retiring: the tasks stopped on it that have not returned yet. */
  stopped: Set<Job> | undefined;
  /**
   * While retiring: the time its stopped tasks have to return. When it runs out, a worker that
   * has not answered its ping is ended (it is spinning); one that has finishes its other tasks.
   */
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** While retiring: the grace period ran out with stopped tasks still on it. */
  graceOver = false;
  /** While retiring: the ping it must answer; 0 once answered (its event loop is free). */
  ping = 0;
  /** The names of the stopped tasks it may still be running, once ended (for shutdown). */
  spinningIn: string[] | undefined;

  constructor(handle: Handle, observed?: Observable) {
    this.handle = handle;
    this.name = `worker ${handle.id}`;
    this.#observed = observed;
    observed?.observer?.worker(this.name, "starting");
  }

  get phase(): Phase {
    return this.#phase;
  }
  /** Every change of phase is reported to the executor's observer, if it has one. */
  set phase(phase: Phase) {
    if (phase === this.#phase) return;
    this.#phase = phase;
    this.#observed?.observer?.worker(this.name, phase);
  }

  get id(): number {
    return this.handle.id;
  }
  get state(): Candidate["state"] {
    return PHASE_STATES[this.phase];
  }
  get inflight(): number {
    return this.handle.inflight;
  }
  get dispatched(): number {
    return this.handle.dispatched;
  }
  get exclusive(): boolean {
    return this.handle.exclusive;
  }
  get runMs(): number | undefined {
    return this.handle.runMs;
  }
  /** Whether it answered its ping since its last task was stopped: it is not spinning. */
  get responsive(): boolean {
    return this.phase === "retiring" && this.ping === 0;
  }

  destroy(): void {
    this.idleTimer?.();
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.idleTimer = this.graceTimer = this.idleSince = undefined;
  }
}

/** What membership asks of the rest of the engine. */
export interface MembershipHost {
  schedulePump(): void;
  /** Puts tasks a worker never started back at the head of the queue. */
  requeue(jobs: Job[]): void;
  /** The job no longer runs where it was placed. */
  unplace(job: Job): void;
  break(message: string, cause: unknown): void;
  /** Whether a worker that ends is replaced: not once the pool is closed or broken. */
  replaces(): boolean;
}

// How long a task stopped on a worker has to return, and the worker to answer a ping; a worker
// that has not answered by then is ended with whatever else it was running: its thread is still
// inside the stopped task.
const GRACE_MS = 2_000;
// How long `close()` gives a thread ended while its ping was unanswered to let its Web Lock go
// before it is named as still running (an idle thread ends within a few ms of terminate()).
const ENDING_MS = 1_000;
// The longest delay setTimeout honours; longer ones are re-armed for the rest.
const MAX_TIMER_MS = 2 ** 31 - 1;
let lastPing = 0;

/** The workers of a pool, by phase. */
export class Membership {
  readonly #settings: PoolSettings;
  readonly #counters: PoolCounters;
  readonly #refs: FunctionRefs;
  readonly #events: WorkerEvents<Job>;
  readonly #host: MembershipHost;
  /** Every worker not yet ended. */
  readonly #members = new Map<Handle, Member>();
  /** Every worker not yet ended. */
  get all(): IterableIterator<Member> {
    return this.#members.values();
  }
  /** The workers that take tasks: starting, idle or busy. */
  readonly serving = new Set<Member>();
  /** Ended workers whose thread may still be inside a stopped task. */
  readonly #zombies = new Set<Member>();
  /** Workers ended and not yet gone (a process's exit status and streams). */
  readonly #ending = new Set<Promise<void>>();
  #nextId = 1;

  constructor(
    settings: PoolSettings,
    counters: PoolCounters,
    refs: FunctionRefs,
    events: WorkerEvents<Job>,
    host: MembershipHost,
  ) {
    this.#settings = settings;
    this.#counters = counters;
    this.#refs = refs;
    this.#events = events;
    this.#host = host;
  }

  get(handle: Handle): Member | undefined {
    return this.#members.get(handle);
  }

  /** Starts workers, up to `maxWorkers`, until as many are starting as `waiting` tasks. */
  spawnFor(waiting: number): void {
    let starting = 0;
    for (const member of this.serving) if (member.phase === "starting") starting++;
    while (this.serving.size < this.#settings.maxWorkers && starting < waiting) {
      if (!this.#spawn()) return;
      starting++;
    }
  }

  #spawn(): boolean {
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
    let handle: Handle;
    try {
      handle = kind === "process"
        ? new ProcessHandle<Job>(id, spec, this.#events)
        : new WorkerHandle<Job>(id, spec, this.#events);
    } catch (error) {
      // Only the initializer's arguments in its start message can fail to clone.
      const what = isCloneError(error) ? "its 'initargs' could not be sent: " : "";
      this.#host.break(`worker ${id} could not be started: ${what}${messageOf(error)}`, error);
      return false;
    }
    const member = new Member(handle, this.#counters.observed);
    this.#members.set(handle, member);
    this.serving.add(member);
    return true;
  }

  /** The worker acknowledged `ready`: starting → idle. */
  ready(member: Member): void {
    if (member.phase !== "starting") return;
    member.phase = "idle";
    this.#armIdle(member);
  }

  /** Tasks were sent to the worker: idle → busy. */
  busy(member: Member): void {
    if (member.phase !== "idle" && member.phase !== "busy") return;
    member.phase = "busy";
    member.idleSince = undefined;
  }

  /** A task on the worker settled or was taken back. */
  afterTask(member: Member): void {
    const { handle } = member;
    if (member.phase === "retiring") {
      // Stopped tasks that are still running after their grace period, on a worker whose event
      // loop is free, are given up once the other tasks have settled.
      const onlyStopped = handle.inflight === member.stopped?.size;
      if (handle.inflight === 0 || (member.graceOver && member.responsive && onlyStopped)) {
        this.end(member);
      }
      return;
    }
    if (member.phase !== "busy" && member.phase !== "idle") return;
    if (handle.inflight === 0) {
      if (handle.dispatched >= this.#settings.maxTasksPerWorker) {
        this.end(member);
        if (this.#host.replaces()) this.#counters.restarts++;
      } else {
        member.phase = "idle";
        this.#armIdle(member);
      }
    }
    this.#host.schedulePump();
  }

  /** A task stopped on the worker has returned after all. */
  stoppedReturned(member: Member, job: Job): void {
    if (member.stopped?.delete(job) && member.stopped.size === 0) {
      // Its event loop is known to be free: its other tasks may finish in their own time.
      if (member.graceTimer !== undefined) clearTimeout(member.graceTimer);
      member.graceTimer = undefined;
      member.ping = 0;
      member.graceOver = false;
    }
  }

  /**
   * A task on the worker was stopped and is still running: the worker takes no more tasks, and
   * tasks it never started go back to the queue. The stopped task has a grace period to return
   * (an async task gets the abort event of its signal), and the worker is pinged. A worker that
   * answers has a free event loop (the stopped task waits on something): it ends once its other
   * tasks have settled, however long they take. One that does not answer within the grace period
   * is inside the stopped task, and is ended with whatever else it was running.
   */
  retire(member: Member, stopped: Job): void {
    if (member.phase === "ended") return;
    this.withdraw(member);
    if (member.handle.inflight === 0) return this.end(member);
    (member.stopped ??= new Set()).add(stopped);
    this.#ping(member);
  }

  /**
   * The worker takes no more tasks: serving → retiring, and the tasks it has not started go back
   * to the queue. Done before a task on it is told to stop, so that the worker cannot start
   * another task between the stopped task returning and the take-back.
   */
  withdraw(member: Member): void {
    if (member.phase === "retiring" || member.phase === "ended") return;
    this.serving.delete(member);
    member.phase = "retiring";
    member.idleSince = undefined;
    this.#host.requeue(member.handle.retire().unstarted);
    if (this.#host.replaces()) this.#counters.restarts++;
    this.#host.schedulePump();
  }

  #ping(member: Member): void {
    lastPing = lastPing >= Number.MAX_SAFE_INTEGER ? 1 : lastPing + 1;
    member.ping = lastPing;
    member.graceOver = false;
    member.handle.ping(lastPing);
    member.graceTimer ??= setTimeout(() => {
      member.graceTimer = undefined;
      if (member.ping !== 0) return this.end(member);
      member.graceOver = true;
      this.afterTask(member);
    }, GRACE_MS);
  }

  /** The worker answered ping `id`: its event loop is free. */
  pong(member: Member, id: number): void {
    if (member.phase !== "retiring" || member.ping !== id) return;
    member.ping = 0;
    this.#counters.observed?.observer?.worker(member.name, "draining");
    this.afterTask(member);
  }

  /** Ends a worker now; tasks still in flight on it reject with WorkerCrashedError. */
  end(member: Member): void {
    if (member.phase === "ended") return;
    const wasRetiring = member.phase === "retiring";
    const names = member.stopped ? [...member.stopped].map((job) => job.fn.name) : [];
    // Its ping unanswered (its grace ran out, or the pool is closing meanwhile): its thread may be
    // busy, in the synchronous part of a task or in a loop after an await, and go on after
    // terminate(). Its Web Lock tells (see `close()` for one that was only slow to answer).
    if (wasRetiring && member.ping !== 0) member.handle.endingBusy();
    this.forget(member);
    for (const job of member.handle.terminate()) {
      this.#host.unplace(job);
      if (job.settled) continue;
      this.#counters.failed++;
      job.crashed(
        wasRetiring
          ? bystanderCrash(
            `worker ${member.id} was ended because another task on it was stopped and the worker did not answer a ping within ${GRACE_MS} ms (its thread stayed busy, likely inside that task)`,
          )
          : new WorkerCrashedError(`worker ${member.id} was ended while running the task`),
      );
    }
    this.#pruneZombies();
    if (member.handle.spinning()) {
      member.spinningIn = names;
      this.#zombies.add(member);
    }
  }

  /** The worker is gone (ended here, or exited by itself): any phase → ended. */
  forget(member: Member): void {
    const gone = member.handle.gone;
    this.#ending.add(gone);
    gone.then(() => this.#ending.delete(gone));
    member.phase = "ended";
    member.destroy();
    this.serving.delete(member);
    this.#members.delete(member.handle);
  }

  /** Ends every worker. */
  endAll(): void {
    for (const member of [...this.#members.values()]) this.end(member);
  }

  /**
   * Ends every worker and waits until they are gone. Deno cannot stop a thread inside a running
   * task: a worker still in a stopped task is named in a warning, as the process cannot exit
   * until that task returns.
   */
  async close(label: string): Promise<void> {
    this.endAll();
    await Promise.all(this.#ending);
    // A thread ended busy may have got back to its loop (and ended) since it was last looked at;
    // one ended while its answer to a ping was on its way lets its lock go within milliseconds.
    await Promise.all([...this.#zombies].map((zombie) => zombie.handle.lookAgain(ENDING_MS)));
    this.#pruneZombies();
    for (const zombie of this.#zombies) {
      const names = zombie.spinningIn?.map((name) => `'${name || "anonymous"}'`).join(", ");
      console.warn(
        `${label}: shut down, but worker ${zombie.id} is still inside ${
          names ? `task ${names}` : "a task"
        }, which was stopped and has not returned. Deno cannot stop a thread that is running JavaScript: this process cannot exit until the task returns (have it check taskSignal().aborted, or run it on ProcessPoolExecutor).`,
      );
    }
  }

  /** Counts of workers by phase. */
  counts(): WorkerCounts {
    let busy = 0, idle = 0, starting = 0;
    for (const member of this.serving) {
      if (member.phase === "starting") starting++;
      else if (member.handle.inflight > 0) busy++;
      else idle++;
    }
    this.#pruneZombies();
    let spinning = this.#zombies.size;
    let retiring = 0, draining = 0;
    for (const member of this.#members.values()) {
      if (member.phase !== "retiring") continue;
      retiring++;
      if (member.responsive) draining++;
      if (member.handle.spinning()) spinning++;
    }
    return { total: this.serving.size, busy, idle, starting, retiring, spinning, draining };
  }

  /** Forgets the workers that have left their loop at last. */
  #pruneZombies(): void {
    for (const zombie of this.#zombies) if (!zombie.handle.spinning()) this.#zombies.delete(zombie);
  }

  // One timer per idle worker, not cleared when the worker gets a task: a task only forgets when
  // the worker went idle, and the timer, when it fires, checks and waits again if need be. A
  // worker used one task at a time would otherwise set and clear a timer on every task.
  #armIdle(member: Member): void {
    const { idleTimeout } = this.#settings;
    if (idleTimeout === Infinity) return;
    member.idleSince = performance.now();
    if (member.idleTimer === undefined) this.#idleTimer(member, idleTimeout);
  }

  #idleTimer(member: Member, ms: number): void {
    member.idleTimer = member.handle.after(Math.min(ms, MAX_TIMER_MS), () => {
      member.idleTimer = undefined;
      const since = member.idleSince;
      if (since === undefined || member.phase !== "idle") return;
      const left = this.#settings.idleTimeout - (performance.now() - since);
      if (left > 0) this.#idleTimer(member, left);
      else this.end(member);
    });
  }
}

export { messageOf };

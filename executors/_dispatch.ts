// Dispatch for a worker pool: the task queues, the pump that places queued tasks on workers
// (least busy first, several in flight per worker, in one message per worker), and stealing
// unstarted tasks back for an idle worker. A queued task that settles leaves its queue at once.

import type { Dispatch } from "../actors/_pool_worker.ts";
import { leastBusy, pickWorker } from "./_balancer.ts";
import type { FunctionRefs } from "./_fn_ref.ts";
import { JobQueue } from "./_job_queue.ts";
import type { Member, Membership } from "./_membership.ts";
import type { Job } from "./_task.ts";
import type { PoolCounters, PoolSettings } from "./_worker_engine.ts";

/** Places queued jobs on the workers. */
export class Dispatcher {
  readonly #settings: PoolSettings;
  readonly #counters: PoolCounters;
  readonly #refs: FunctionRefs;
  readonly #members: Membership;
  /** Tasks waiting for a worker. */
  readonly #queue = new JobQueue<Job>();
  /**
   * Tasks with a `timeout`, which wait for an idle worker (their time counts from their start);
   * kept apart so that they do not hold up the tasks behind them while other workers have room.
   */
  readonly #exclusive = new JobQueue<Job>();

  constructor(
    settings: PoolSettings,
    counters: PoolCounters,
    refs: FunctionRefs,
    members: Membership,
  ) {
    this.#settings = settings;
    this.#counters = counters;
    this.#refs = refs;
    this.#members = members;
  }

  /** Tasks waiting for a worker. */
  get queued(): number {
    return this.#queue.length + this.#exclusive.length;
  }

  enqueue(job: Job): void {
    // Stamped already where the executor is observed (see _core.ts `schedule()`).
    if (job.queuedAt === 0) job.queuedAt = performance.now();
    this.#queueOf(job).push(job);
  }

  /** A queued job settled: it leaves its queue now. */
  drop(job: Job): void {
    this.#queueOf(job).remove(job);
  }

  /** Puts tasks a worker never started back at the head of their queues, in order. */
  requeue(jobs: Job[]): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const job = jobs[i]!;
      this.unplace(job);
      if (!job.settled) this.#queueOf(job).unshift(job);
    }
  }

  /** Takes every queued job out. */
  *drain(): Generator<Job> {
    yield* this.#queue.drain();
    yield* this.#exclusive.drain();
  }

  /** The job no longer runs where it was placed; returns that worker. */
  unplace(job: Job): Member | undefined {
    const member = job.placedOn as Member | undefined;
    if (member === undefined) return undefined;
    job.placedOn = undefined;
    this.#counters.running--;
    return member;
  }

  /** Takes a job back from the worker it was sent to, if that worker has not started it. */
  revoke(job: Job): Member | undefined {
    const member = job.placedOn as Member | undefined;
    if (!member || job.settled || !member.handle.takeBack(job.placedSeq)) return undefined;
    this.unplace(job);
    return member;
  }

  #queueOf(job: Job): JobQueue<Job> {
    // A task with a timeout waits for an idle worker so that its time counts from its start; one
    // with a domain, so that it takes its pass through the domain's circuit as it runs: sent ahead
    // of its turn, a burst of them would have taken their passes before the first failures came
    // back, and would all run after the circuit opened.
    const { timeout, domain } = job.options;
    return timeout === undefined && domain === undefined ? this.#queue : this.#exclusive;
  }

  /** Places as many queued jobs as the workers have room for; returns the workers that got some. */
  place(): Map<Member, Dispatch<Job>[]> {
    const batches = new Map<Member, Dispatch<Job>[]>();
    const now = performance.now();
    // A task with a timeout that waits for an idle worker reserves the least busy one: it takes
    // no new tasks until it is idle, while the others keep serving the tasks behind.
    let reserved: Member | undefined;
    const placed = (member: Member) => batches.get(member)?.length ?? 0;
    const { maxTasksPerWorker } = this.#settings;
    const serving = this.#members.serving;
    // The worker reserved for a task with a timeout is kept from the others, not from it.
    const pickFor = (exclusive: boolean) =>
      pickWorker(serving, {
        exclusive,
        placed,
        maxTasksPerWorker,
        reserved: exclusive ? undefined : reserved,
      });
    for (;;) {
      const normal = this.#queue.peek();
      const exclusive = this.#exclusive.peek();
      if (!normal && !exclusive) break;
      // Jobs leave their queue as they settle (see Job's policy); this only guards the rule.
      if (normal?.settled || exclusive?.settled) {
        if (normal?.settled) this.#queue.remove(normal);
        if (exclusive?.settled) this.#exclusive.remove(exclusive);
        continue;
      }
      let job: Job | undefined;
      let member: Member | undefined;
      if (exclusive && (!normal || exclusive.queuedAt <= normal.queuedAt)) {
        member = pickFor(true);
        if (member) job = exclusive;
        else if (normal) {
          reserved ??= leastBusy(serving, placed);
          member = pickFor(false);
          if (member) job = normal;
        }
      } else if (normal) {
        member = pickFor(false);
        if (member) job = normal;
      }
      if (!job || !member) break;
      this.#queueOf(job).remove(job);
      const refused = this.#refs.refusal(job.fn, this.#settings.label);
      if (refused) {
        job.reject(refused);
        continue;
      }
      // A job's wait is counted once, up to its first dispatch: one sent again (taken back from
      // a worker that had not started it, or left over by a worker that died) waited in that
      // worker's queue meanwhile, as a task sent ahead of its turn does.
      if (!job.started) {
        if (!job.start()) continue;
        this.#counters.waitTime.add(now - job.queuedAt);
      }
      const dispatch: Dispatch<Job> = {
        item: job,
        kind: job.kind,
        fn: this.#refs.ref(job.fn),
        args: job.args,
        transfer: job.options.transfer,
        traceparent: job.task.traceparent,
      };
      let batch = batches.get(member);
      if (!batch) batches.set(member, batch = []);
      batch.push(dispatch);
    }
    return batches;
  }

  /** Sends each worker its batch; returns those left with nothing in flight (a send failed). */
  send(batches: Map<Member, Dispatch<Job>[]>): Member[] {
    const emptied: Member[] = [];
    // An observer wants each task's end: the worker tells it, so this side reads no clock.
    const stamp = this.#counters.observed?.observer !== undefined;
    for (const [member, batch] of batches) {
      const failed = member.handle.send(batch, stamp);
      // The worker and the observer hear of the batch once it is on its way: this bookkeeping
      // then overlaps the tasks' run instead of delaying it.
      this.#members.busy(member);
      const observer = this.#counters.observed?.observer;
      if (observer) {
        for (const d of batch) observer.started(d.item, member.name);
      }
      for (const { item, error } of failed) {
        this.#counters.failed++;
        item.reject(error);
      }
      if (failed.length > 0 && member.handle.inflight === 0) emptied.push(member);
      for (const d of batch) {
        if (d.seq !== undefined && !d.item.settled) {
          const job = d.item;
          job.placedOn = member;
          job.placedSeq = d.seq;
          this.#counters.running++;
        }
      }
    }
    return emptied;
  }

  /**
   * When nothing is queued and a worker is idle, takes back half of the unstarted tasks of the
   * busiest worker, for the idle one: pipelining must not leave a core idle at the end of a batch
   * while another has work waiting. Returns whether it took any back (they are queued again).
   */
  steal(): boolean {
    if (this.queued > 0) return false;
    const victim = this.#victim();
    if (!victim) return false;
    const taken = victim.handle.revoke(Math.floor(victim.inflight / 2));
    this.requeue(taken);
    return taken.length > 0;
  }

  /** Whether `steal()` would find tasks to take back now. */
  canSteal(): boolean {
    return this.#victim() !== undefined;
  }

  /** The busiest worker with unstarted tasks to spare, when another worker is idle. */
  #victim(): Member | undefined {
    const { maxTasksPerWorker } = this.#settings;
    let idle = false;
    let victim: Member | undefined;
    for (const member of this.#members.serving) {
      if (member.phase === "idle" && member.dispatched < maxTasksPerWorker) idle = true;
      if (member.inflight >= 2 && member.inflight > (victim?.inflight ?? 1)) victim = member;
    }
    return idle ? victim : undefined;
  }
}

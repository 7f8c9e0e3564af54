// Where the next task goes: pure functions over what the pool knows of its workers, so that the
// placement rules can be read (and tested) apart from the engine's bookkeeping.

/** What the balancer reads of a worker. */
export interface Candidate {
  readonly state: "starting" | "ready" | "retired" | "dead";
  /** Tasks sent and not yet answered. */
  readonly inflight: number;
  /** Tasks handed to it so far. */
  readonly dispatched: number;
  /** Whether every task must have the worker to itself (no pipelining). */
  readonly exclusive: boolean;
  /** Smoothed run time of its tasks in ms; undefined before the first result. */
  readonly runMs: number | undefined;
}

/** Placement rules. */
export interface Placement<W> {
  /** Whether the task needs an idle worker (a task with a timeout: its time counts from start). */
  exclusive: boolean;
  /** Tasks already placed on each worker in this round, not yet sent. */
  placed: (worker: W) => number;
  maxTasksPerWorker: number;
  /** A worker kept free for a task that waits for an idle one. */
  reserved?: W | undefined;
}

// Pipelining: enough tasks in flight per worker to cover about this many ms of work.
const PIPELINE_MS = 10;
const MAX_PIPELINE = 128;

/** How many tasks to keep in flight on a worker, from how long its tasks take. */
export function depth(worker: Candidate): number {
  const ms = worker.runMs;
  if (ms === undefined) return 1;
  return Math.max(1, Math.min(MAX_PIPELINE, Math.ceil(PIPELINE_MS / Math.max(ms, 0.001))));
}

/** The least busy ready worker with room for one more task, if any. */
export function pickWorker<W extends Candidate>(
  workers: Iterable<W>,
  rules: Placement<W>,
): W | undefined {
  let best: W | undefined;
  let bestLoad = Infinity;
  for (const worker of workers) {
    if (worker.state !== "ready" || worker === rules.reserved) continue;
    const placed = rules.placed(worker);
    if (worker.dispatched + placed >= rules.maxTasksPerWorker) continue;
    const load = worker.inflight + placed;
    const room = rules.exclusive || worker.exclusive ? 1 : depth(worker);
    // A worker with half its pipeline still to run is topped up when more of its results come
    // back, in one message: refilling it as each result trickles in would send a message per
    // task, and the worker would answer each with a message of one result.
    if (placed === 0 && worker.inflight > 0 && worker.inflight * 2 >= room) continue;
    if (load < room && load < bestLoad) {
      best = worker;
      bestLoad = load;
      if (load === 0) break;
    }
  }
  return best;
}

/** The ready worker with the fewest tasks in flight: the one to keep free for an exclusive task. */
export function leastBusy<W extends Candidate>(
  workers: Iterable<W>,
  placed: (worker: W) => number,
): W | undefined {
  let best: W | undefined;
  let bestLoad = Infinity;
  for (const worker of workers) {
    if (worker.state !== "ready") continue;
    const load = worker.inflight + placed(worker);
    if (load < bestLoad) [best, bestLoad] = [worker, load];
  }
  return best;
}

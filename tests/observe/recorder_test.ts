import assert from "node:assert/strict";
import { AsyncPoolExecutor } from "../../mod.ts";
import { FAILURE_TEXT, Recorder } from "../../observe/_recorder.ts";
import { recorderOf } from "../../observe/_registry.ts";
import type { Job } from "../../executors/_task.ts";
import { CancelledError, WorkerCrashedError } from "../../future/errors.ts";

/** The bars the ring keeps. */
const BARS = 1024;

const recorder = () => new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'churn'" });

function square(n: number): number {
  return n * n;
}

/** A queued attempt of `square`. */
function queued(r: Recorder): Job {
  const job = {
    observerSlot: -1,
    queuedAt: performance.now(),
    fn: square,
    attempt: 1,
    options: {},
  } as unknown as Job;
  r.queued(job);
  return job;
}

/** Ends `job` as a worker pool does when the worker's result arrives. */
function finish(r: Recorder, job: Job): void {
  r.ran(job, 0.1, performance.timeOrigin + performance.now());
  r.ended(job, true, undefined);
}

/** Runs one attempt on worker `name` from queued to ended, as a worker pool reports it. */
function runOn(r: Recorder, name: string): void {
  const job = queued(r);
  r.started(job, name);
  r.worker(name, "busy");
  finish(r, job);
  r.worker(name, "idle");
}

Deno.test("Recorder reuses ended workers' lanes: 10,000 workers in turn, each bar still names its own", () => {
  const r = recorder();
  const workers = 10_000;
  for (let id = 1; id <= workers; id++) {
    // A worker replaced after each task (maxTasksPerChild: 1).
    const name = `worker ${id}`;
    r.worker(name, "starting");
    r.worker(name, "idle");
    runOn(r, name);
    r.worker(name, "retiring");
    r.worker(name, "ended");
  }
  // A lane per bar in the ring, and one for the next worker.
  assert.ok(r.lanes <= BARS + 1, `${r.lanes} lanes for ${workers} workers`);
  assert.equal(r.workers.size, 0);
  const bars = r.bars;
  assert.equal(bars.length, BARS);
  assert.deepEqual(
    bars.map((bar) => bar.lane),
    Array.from({ length: BARS }, (_, i) => `worker ${workers - BARS + 1 + i}`),
  );
  assert.ok(bars.every((bar) => bar.fn === "square" && bar.outcome === "completed"));
});

Deno.test("Recorder keeps an ended worker's lane while an attempt that ran on it has not left", () => {
  const r = recorder();
  r.worker("worker 1", "idle");
  // Two attempts on worker 1 when it crashes: one given to another worker later, one that fails.
  const movedJob = queued(r);
  const failedJob = queued(r);
  r.started(movedJob, "worker 1");
  r.started(failedJob, "worker 1");
  r.worker("worker 1", "ended");
  // Its replacement takes a task, which is still running when the others move on.
  r.worker("worker 2", "idle");
  const running = queued(r);
  r.started(running, "worker 2");
  r.ended(failedJob, false, new Error("worker 1 was ended while running the task"));
  r.started(movedJob, "worker 3");
  assert.deepEqual(
    { ...r.workers.get("worker 2")!, seen: 0 },
    { name: "worker 2", state: "busy", running: 1, seen: 0 },
  );
  finish(r, movedJob);
  finish(r, running);
  assert.deepEqual(r.bars.map((bar) => [bar.lane, bar.outcome]), [
    ["worker 1", "failed"],
    ["worker 3", "completed"],
    ["worker 2", "completed"],
  ]);
  assert.deepEqual([...r.workers.keys()].sort(), ["worker 2", "worker 3"]);
  assert.deepEqual([...r.workers.values()].map((w) => [w.state, w.running]), [
    ["idle", 0],
    ["idle", 0],
  ]);
});

Deno.test("Recorder.syncCluster() gives a worker that leaves and comes back a lane of its own", () => {
  const r = recorder();
  const alive = (...names: string[]) => names.map((name) => ({ name, running: 0 }));
  r.syncCluster(alive("w1"));
  runOn(r, "w1");
  r.syncCluster(alive());
  assert.equal(r.workers.size, 0);
  r.syncCluster(alive("w1"));
  assert.deepEqual([...r.workers.keys()], ["w1"]);
  // Other cluster workers come and go (each after a task) while w1 stays.
  const others = 3 * BARS;
  for (let i = 1; i <= others; i++) {
    r.syncCluster(alive("w1", `node ${i}`));
    runOn(r, `node ${i}`);
    assert.equal(r.workers.size, 2);
  }
  runOn(r, "w1");
  r.syncCluster(alive("w1"));
  assert.deepEqual([...r.workers.keys()], ["w1"]);
  assert.deepEqual({ ...r.workers.get("w1")!, seen: 0 }, {
    name: "w1",
    state: "idle",
    running: 0,
    seen: 0,
  });
  assert.ok(r.lanes <= BARS + 2, `${r.lanes} lanes for ${others + 1} workers`);
  assert.deepEqual(
    r.bars.slice(-3).map((bar) => bar.lane),
    [`node ${others - 1}`, `node ${others}`, "w1"],
  );
});

Deno.test("Recorder takes a row per attempt as it starts, and lets a burst's rows go once none is in flight", () => {
  const r = recorder();
  const burst = Array.from({ length: 100_000 }, () => queued(r));
  // Queued attempts hold no rows: a million queued tasks keep nothing here.
  assert.equal(r.rows, 64);
  for (const job of burst) r.started(job, "worker 1");
  assert.ok(r.rows >= burst.length, `${r.rows} rows for ${burst.length} attempts in flight`);
  // Half of them end: the others still hold their rows.
  for (const job of burst.splice(0, burst.length / 2)) finish(r, job);
  assert.ok(r.rows >= burst.length);
  // The rest fail; then one more attempt runs in a small table again.
  for (const job of burst) r.ended(job, false, new Error("lost"));
  assert.equal(r.rows, 64);
  runOn(r, "worker 1");
  assert.equal(r.attempts.completed, 50_001);
  assert.equal(r.bars.at(-1)!.lane, "worker 1");
});

Deno.test("a cluster's workers that leave leave the recorder when the cluster tells, with no read of the metrics", async () => {
  const { makeObservable } = await import("../../executors/_observe.ts");
  const { recorderOf } = await import("../../observe/_registry.ts");
  let alive = [{ name: "host:1", running: 0, pid: 1, host: "host" }];
  const cluster = {
    expiry: undefined,
    onChange: undefined as (() => void) | undefined,
    workers: () => alive,
    streamDepth: () => 0,
  };
  const executor = {};
  makeObservable(
    executor,
    { observer: undefined, label: "DistributedExecutor 'q'" },
    () => cluster,
  );
  const r = recorderOf(executor, "observe");
  for (let pid = 2; pid <= 3_000; pid++) {
    // A worker restarted under a new PID: its task starts there, then the old one's beat stops.
    const name = `host:${pid}`;
    alive = [{ name, running: 0, pid, host: "host" }];
    runOn(r, name);
    cluster.onChange!();
  }
  assert.deepEqual([...r.workers.keys()], ["host:3000"]);
  assert.ok(r.lanes <= BARS + 2, `${r.lanes} lanes for 3,000 workers in turn`);
});

Deno.test("Recorder: an attempt taken back from its worker before it started leaves no bar and no run time", () => {
  const r = recorder();
  // A first attempt that ran: the engine reports run times (no start is stamped after it).
  runOn(r, "worker 1");
  const job = queued(r);
  r.started(job, "worker 1");
  r.ended(job, false, new CancelledError());
  assert.equal(r.bars.length, 1, "only the attempt that ran has a bar");
  assert.equal(r.duration.count, 1);
  assert.equal(r.attempts.cancelled, 1);
  assert.equal(r.workers.get("worker 1")?.running, 0);
  const [second] = r.recent(1);
  assert.deepEqual([second!.completed, second!.failed, second!.runs], [1, 0, 1]);
  // One that could be stopped (a signal) is stamped as it is handed over: it did not run either.
  const stoppable = queued(r);
  (stoppable as { options: object }).options = { signal: new AbortController().signal };
  r.started(stoppable, "worker 1");
  r.ended(stoppable, false, new CancelledError());
  assert.equal(r.bars.length, 1);
  assert.equal(r.duration.count, 1);
  assert.equal(r.attempts.cancelled, 2);
});

Deno.test("Recorder: an attempt whose worker died before it said how long it ran has no run time", () => {
  const r = recorder();
  runOn(r, "worker 1");
  const job = queued(r);
  r.started(job, "worker 1");
  r.ended(job, false, new WorkerCrashedError("worker 1 died"));
  const bars = r.bars;
  assert.equal(bars.length, 2);
  // Its bar marks when it failed; it neither ran for its queue time nor counts in the histogram.
  assert.equal(bars[1]!.outcome, "failed");
  assert.equal(bars[1]!.end - bars[1]!.start, 0);
  assert.equal(r.duration.count, 1);
  const [second] = r.recent(1);
  assert.deepEqual([second!.completed, second!.failed, second!.runs], [1, 1, 1]);
});

Deno.test("Recorder: the timeline counts a cancelled attempt as neither completed nor failed", () => {
  const r = recorder();
  // An engine that reports no run times (an async pool): starts are stamped.
  const job = queued(r);
  r.started(job, undefined);
  r.ended(job, false, new CancelledError());
  assert.equal(r.bars[0]!.outcome, "cancelled");
  const [second] = r.recent(1);
  assert.deepEqual([second!.completed, second!.failed], [0, 0]);
});

Deno.test("Recorder: a run time told after a late start (a distributed outcome) places the bar by it", () => {
  const r = recorder();
  const job = queued(r);
  // At least 30 ms pass: the task runs 25 of them, somewhere else.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
  // Its start is heard of late (stamped now), then its run time and its end, read now too.
  r.started(job, "remote 1");
  r.ran(job, 25, -1);
  r.ended(job, true, undefined);
  const [bar] = r.bars;
  assert.ok(bar!.end - bar!.start >= 25, `a bar of ${bar!.end - bar!.start} ms for 25 ms of run`);
  assert.ok(r.duration.sum >= 0.025, `${r.duration.sum} s of run time recorded`);
});

Deno.test("Recorder keeps a failure's text short: a megabyte message is cut", () => {
  const r = recorder();
  const job = queued(r);
  r.started(job, "worker 1");
  r.ended(job, false, new Error("x".repeat(1_000_000)));
  const text = r.failures[0]!.error;
  assert.ok(text.length < FAILURE_TEXT + 50, `${text.length} characters kept`);
  assert.match(text, /^Error: x+… \(998007 more characters\)$/);
});

Deno.test("Recorder gives event-loop tasks as many slot lanes as were in flight at once, reused as they end", () => {
  const r = recorder();
  const batch = (n: number) => {
    const jobs = Array.from({ length: n }, () => queued(r));
    for (const job of jobs) r.started(job, undefined);
    return jobs;
  };
  const first = batch(3);
  assert.deepEqual([...r.workers.keys()].sort(), ["slot 1", "slot 2", "slot 3"]);
  for (const job of first) r.ended(job, true, undefined);
  // Two at once later take two of the free slots: no new lane.
  const second = batch(2);
  for (const job of second) r.ended(job, true, undefined);
  assert.equal(r.lanes, 3);
  // 10,000 at once: one lane each (a start takes a free slot in O(1)).
  const wide = batch(10_000);
  assert.equal(r.lanes, 10_000);
  for (const job of wide) r.ended(job, true, undefined);
  batch(10_000).forEach((job) => r.ended(job, true, undefined));
  assert.equal(r.lanes, 10_000);
});

Deno.test("Recorder lists the event-loop slots in use now: submits nested 3,000 deep leave an AsyncPoolExecutor's maxWorkers slots", async () => {
  await using pool = new AsyncPoolExecutor({ name: "io", maxWorkers: 2 });
  const r = recorderOf(pool, "test");
  let deepest = 0;
  // Each task awaits the next: it gives back its pool slot while it waits, but stays in flight.
  const nest = async (depth: number): Promise<number> => {
    if (depth === 0) {
      deepest = r.workers.size;
      return 0;
    }
    return 1 + await pool.submit(nest, depth - 1);
  };
  assert.equal(await pool.submit(nest, 3000), 3000);
  assert.equal(deepest, 3001);
  assert.deepEqual([...r.workers.keys()].sort(), ["slot 1", "slot 2"]);
  // The innermost ended first: the newest bars are those of slots 1024 down to 1.
  const names = Array.from({ length: BARS }, (_, i) => `slot ${BARS - i}`);
  assert.deepEqual(r.bars.map((bar) => bar.lane), names);
  const lanes = r.lanes;
  // Nesting again takes the same lanes back, and lets them go again.
  assert.equal(await pool.submit(nest, 3000), 3000);
  assert.equal(deepest, 3001);
  assert.equal(r.lanes, lanes);
  assert.deepEqual([...r.workers.keys()].sort(), ["slot 1", "slot 2"]);
  assert.deepEqual(r.bars.map((bar) => bar.lane), names);
});

Deno.test("Recorder lets free event-loop slots go from the top, down to a busy one or the kept ones", () => {
  const r = recorder();
  r.keptSlots = 1;
  const jobs = Array.from({ length: 5 }, () => queued(r));
  for (const job of jobs) r.started(job, undefined);
  const listed = () => [...r.workers.keys()].sort();
  // Slots 2 and 4 end below slot 5, which is busy: all five stay listed.
  r.ended(jobs[1]!, true, undefined);
  r.ended(jobs[3]!, true, undefined);
  assert.deepEqual(listed(), ["slot 1", "slot 2", "slot 3", "slot 4", "slot 5"]);
  // Slot 5 ends: it goes, and slot 4 with it, down to slot 3, busy.
  r.ended(jobs[4]!, true, undefined);
  assert.deepEqual(listed(), ["slot 1", "slot 2", "slot 3"]);
  // Slot 3 ends: slot 2 goes too, and slot 1 (busy, then kept) stays.
  r.ended(jobs[2]!, true, undefined);
  assert.deepEqual(listed(), ["slot 1"]);
  r.ended(jobs[0]!, true, undefined);
  assert.deepEqual(listed(), ["slot 1"]);
  assert.deepEqual([...r.workers.values()].map((w) => [w.state, w.running]), [["idle", 0]]);
  // Three at once again: slots 1 to 3 (the free list still named slots 2 and 4), on their lanes.
  const again = Array.from({ length: 3 }, () => queued(r));
  for (const job of again) r.started(job, undefined);
  assert.deepEqual(listed(), ["slot 1", "slot 2", "slot 3"]);
  assert.ok([...r.workers.values()].every((w) => w.state === "busy" && w.running === 1));
  assert.equal(r.lanes, 5);
  for (const job of again) r.ended(job, true, undefined);
  assert.deepEqual(listed(), ["slot 1"]);
  assert.deepEqual(r.bars.map((bar) => bar.lane), [
    "slot 2",
    "slot 4",
    "slot 5",
    "slot 3",
    "slot 1",
    "slot 1",
    "slot 2",
    "slot 3",
  ]);
});

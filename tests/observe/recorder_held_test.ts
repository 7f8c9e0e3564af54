import assert from "node:assert/strict";
import { WorkerPoolExecutor } from "../../mod.ts";
import { readMetrics } from "../../observe/mod.ts";
import { Recorder } from "../../observe/_recorder.ts";
import { recorderOf } from "../../observe/_registry.ts";
import type { Job, Task } from "../../executors/_task.ts";
import { CancelledError } from "../../future/errors.ts";

function square(n: number): number {
  return n * n;
}

function boom(): never {
  throw new Error("boom");
}

// The workers' clock (epoch ms), an hour ahead of this thread's: a start stamped with this
// thread's clock (before a recorder learns that the engine reports run times) is before every end.
let clock = performance.timeOrigin + performance.now() + 3_600_000;

/** A queued attempt of `fn`, as the core makes it (its task is itself). */
function queued(r: Recorder, fn: (...args: never[]) => unknown, attempt = 1): Job {
  const job = {
    observerSlot: -1,
    queuedAt: 1 + (clock % 1000),
    fn,
    attempt,
    options: {},
    settled: false,
  } as unknown as Job;
  (job as { task: unknown }).task = job;
  r.submitted(job as unknown as Task);
  r.queued(job);
  return job;
}

/**
 * Runs one attempt on `worker` as a worker pool reports it: busy, started (after the send), then
 * the result: its run time and end, the attempt's end, the task's, the worker idle again.
 * `outcome`: 0 completed, 1 failed, 2 cancelled after it ran.
 */
function run(r: Recorder, worker: string, fn: (...args: never[]) => unknown, outcome: 0 | 1 | 2) {
  const job = queued(r, fn);
  r.worker(worker, "busy");
  r.started(job, worker);
  clock += 3;
  r.ran(job, 1.5, clock);
  (job as { settled: boolean }).settled = true;
  if (outcome === 0) r.ended(job, true, undefined);
  else r.ended(job, false, outcome === 1 ? new Error(`failed ${clock}`) : new CancelledError());
  r.settled(job as unknown as Task, outcome);
  r.worker(worker, "idle");
}

/** What a recorder shows: everything a read gives but the times it reads of its own clock. */
function readings(r: Recorder) {
  return {
    attempts: r.attempts,
    tasks: r.tasks,
    bars: r.bars,
    workers: [...r.workers.values()].map(({ name, state, running }) => ({ name, state, running })),
    failures: r.failures.map(({ at, fn, attempt, error }) => ({ at, fn, attempt, error })),
    duration: [r.duration.count, r.duration.sum],
    wait: [r.wait.count, r.wait.sum],
    timeline: r.recent(600).filter((s) => s.completed + s.failed > 0),
  };
}

Deno.test("Recorder holds back a worker pool task's end until the next start or read, and reads the same as when it does it at once", () => {
  const held = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'held'" });
  const atOnce = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'held'" });
  // A sink that hears of every event: the recorder cannot hold any back.
  atOnce.addSink({ ended() {} });
  const start = clock;
  for (const r of [held, atOnce]) {
    clock = start;
    // It learns that the engine reports run times (a pool's first result tells it), so that
    // no start is stamped with this thread's clock, which would differ between the two.
    r.ran({ settled: true, observerSlot: -1 } as unknown as Job, 0, -1);
    r.worker("worker 1", "starting");
    r.worker("worker 2", "starting");
    for (let i = 0; i < 300; i++) {
      // Mostly completed, some failed and cancelled after they ran, on two workers; reads between.
      const outcome = i % 7 === 3 ? 1 : i % 11 === 5 ? 2 : 0;
      run(r, `worker ${1 + (i % 2)}`, outcome === 1 ? boom : square, outcome);
      if (i % 50 === 25) assert.equal(r.attempts.completed + r.attempts.failed > 0, true);
    }
    // A change of phase with no task to go with it.
    r.worker("worker 2", "retiring");
  }
  // The last task's end is still held back: its bar is not drawn until something reads.
  assert.ok(held.held > 0, "events held back");
  assert.equal(atOnce.held, 0);
  assert.deepEqual(readings(held), readings(atOnce));
  assert.equal(held.held, 0, "a read does what was held back");
  const { attempts, tasks } = readings(held);
  assert.equal(attempts.completed + attempts.failed + attempts.cancelled, 300);
  assert.deepEqual(tasks, attempts);
  assert.equal(held.bars.length, 300);
});

Deno.test("Recorder does what it held back before an event that cannot wait: a failure, a stoppable start, a sink that follows a task", () => {
  const r = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'order'" });
  run(r, "worker 1", square, 0);
  run(r, "worker 1", square, 0);
  assert.ok(r.held > 0);
  // A failure is done at once (its text, its time), after what came before it.
  run(r, "worker 1", boom, 1);
  assert.deepEqual(r.bars.map((b) => [b.fn, b.outcome]), [
    ["square", "completed"],
    ["square", "completed"],
    ["boom", "failed"],
  ]);
  // A task that may be stopped is stamped as it starts: it is not held back.
  run(r, "worker 1", square, 0);
  const stoppable = queued(r, square);
  (stoppable as { options: object }).options = { timeout: 1000 };
  r.started(stoppable, "worker 1");
  assert.equal(r.held, 0, "the start of a stoppable attempt did what was held back");
  // A sink that starts to follow tasks (a tracer with a provider now) hears of every event again.
  let ended = 0;
  r.addSink({ ended: () => void ended++ }, true);
  r.following = 1;
  clock += 3;
  r.ran(stoppable, 2, clock);
  r.ended(stoppable, true, undefined);
  assert.equal(r.held, 0);
  assert.equal(ended, 1);
  assert.deepEqual(r.attempts, { completed: 4, failed: 1, cancelled: 0 });
  assert.deepEqual(r.workers.get("worker 1"), {
    ...r.workers.get("worker 1"),
    state: "idle",
    running: 0,
  });
});

Deno.test("Recorder holds back an attempt's end only just after its run time and end: one with neither is done at once", () => {
  const r = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'end'" });
  run(r, "worker 1", square, 0);
  // Its run time came with no end (-1): it is done at once, and so is the attempt's end.
  const noEnd = queued(r, square);
  r.started(noEnd, "worker 1");
  r.ran(noEnd, 1, -1);
  assert.equal(r.held, 0);
  r.ended(noEnd, true, undefined);
  assert.equal(r.held, 0, "an end whose run time was not held is not held either");
  // Held events before it, then an attempt that ends with no run time at all (its worker said
  // none): the end is done at once, at this thread's clock, not at the next read's.
  run(r, "worker 1", square, 0);
  assert.ok(r.held > 0);
  const silent = queued(r, square);
  r.started(silent, "worker 1");
  r.ended(silent, true, undefined);
  assert.equal(r.held, 0);
  // The run time held last is another attempt's: this end is done at once too.
  const [a, b] = [queued(r, square), queued(r, square)];
  r.started(a, "worker 1");
  r.started(b, "worker 1");
  clock += 3;
  r.ran(a, 1, clock);
  assert.ok(r.held > 0);
  r.ended(b, true, undefined);
  assert.equal(r.held, 0, "the end of an attempt whose run time was not the last held");
  r.ended(a, true, undefined);
  assert.deepEqual(r.attempts, { completed: 6, failed: 0, cancelled: 0 });
});

Deno.test("Recorder holds back no more than its log: a burst of results is done as the log fills", () => {
  const r = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'burst'" });
  run(r, "worker 1", square, 0);
  // 1,000 tasks sent, then their results in one go (as a batch of results arrives).
  const jobs = Array.from({ length: 1000 }, () => queued(r, square));
  r.worker("worker 1", "busy");
  for (const job of jobs) r.started(job, "worker 1");
  for (const job of jobs) {
    clock += 1;
    r.ran(job, 0.5, clock);
    r.ended(job, true, undefined);
    r.settled(job as unknown as Task, 0);
    assert.ok(r.held <= 32);
  }
  r.worker("worker 1", "idle");
  assert.equal(r.attempts.completed, 1001);
  assert.equal(r.bars.length, 1001);
  assert.equal(r.workers.get("worker 1")!.running, 0);
  assert.equal(r.workers.get("worker 1")!.state, "idle");
  assert.equal(r.rows, 64, "every row given back");
});

Deno.test("an observed WorkerPoolExecutor's metrics count every task at once, with no later event", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, name: "held" });
  readMetrics([pool]);
  const recorder = recorderOf(pool, "test");
  for (let i = 0; i < 5; i++) assert.equal(await pool.submit((n: number) => n * 2, i), i * 2);
  await assert.rejects(
    pool.submit(() => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(await pool.with({ timeout: 10_000 }).submit((n: number) => n + 1, 1), 2);
  assert.equal(await pool.submit((n: number) => n * 3, 3), 9);
  const [m] = readMetrics([pool]);
  assert.deepEqual(m!.tasks, { completed: 7, failed: 1, cancelled: 0 });
  assert.deepEqual(m!.attempts, { completed: 7, failed: 1, cancelled: 0 });
  assert.equal(m!.duration.count, 8);
  assert.equal(recorder.held, 0);
  assert.equal(recorder.bars.length, 8);
  assert.equal(recorder.failures.length, 1);
  assert.deepEqual([...recorder.workers.values()].map((w) => [w.state, w.running]), [["idle", 0]]);
});

Deno.test("Recorder calls a sink added with follows on submit only once it is woken (a tracer, once a provider is registered)", () => {
  const r = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'wake'" });
  const submits: unknown[] = [];
  r.addSink({ submitted: (task) => void submits.push(task.fn) }, true);
  queued(r, square);
  assert.deepEqual(submits, [], "asleep: not called");
  r.wake();
  queued(r, boom);
  assert.deepEqual(submits, [boom]);
  // A sink that hears of every event is called from the start.
  const eager = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'eager'" });
  const heard: unknown[] = [];
  eager.addSink({ submitted: (task) => void heard.push(task.fn) });
  queued(eager, square);
  assert.deepEqual(heard, [square]);
});

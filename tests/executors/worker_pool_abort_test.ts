import assert from "node:assert/strict";
import {
  type Future,
  TimeoutError,
  WorkerCrashedError,
  type WorkerPoolExecutor,
} from "../../mod.ts";
import {
  add,
  Cell,
  cell,
  countPrimes,
  countPrimesStarted,
  crashOnAbort,
  echo,
  hold,
  spinAfterAwait,
  spinUntilAbortedReport,
  spinUntilReleased,
  threadName,
  waitForAbort,
} from "../fixtures/tasks.ts";
import {
  changed,
  errorOf,
  release,
  SETTLE_MS,
  startedAtLeast,
  statsUntil,
  workerPool,
} from "./_worker_helpers.ts";

const NOTICED_TIMEOUT = 1;
const NOTICED_OTHER = 2;

/**
 * Warms `pool` (its one worker started, its modules loaded), calls `submit` (a task with a
 * timeout that sets `Cell.Started` of `c`), and blocks this thread until the task has started.
 * The pool sends the task to its idle worker in a microtask, and only microtasks run here until
 * then: the task's timeout, a timer of this thread started as the task is sent, cannot fire
 * before the worker started the task, however loaded the machine. (A timeout that fired first
 * would take the task back unstarted: what these tests check is what it does to a running task.)
 */
async function startedWithTimeout<T>(
  pool: WorkerPoolExecutor,
  c: Int32Array,
  submit: () => Future<T>,
): Promise<{ future: Future<T> }> {
  await pool.submit(add, 0, 0);
  const future = submit();
  const deadline = performance.now() + SETTLE_MS;
  while (Atomics.load(c, Cell.Started) === 0) {
    if (performance.now() > deadline) throw new Error(`the task did not start in ${SETTLE_MS} ms`);
    // The pool sends the task in a microtask; no timer runs in one.
    await null;
    Atomics.wait(c, Cell.Started, 0, 10);
  }
  // In an object: an async function that returned the future itself would wait for it.
  return { future };
}

Deno.test("WorkerPoolExecutor.with({ timeout }) rejects a task that never yields with TimeoutError at once", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const { future } = await startedWithTimeout(
    pool,
    c,
    () => pool.with({ timeout: 200 }).submit(spinUntilAbortedReport, c),
  );
  // That the rejection does not wait for the task to return, the test of a task that ignores its
  // signal below shows: it rejects while the task still spins.
  const error = await errorOf(future);
  assert.ok(error instanceof TimeoutError, String(error));
  // The task polls taskSignal().aborted, which reads shared memory: it sees the timeout.
  assert.equal(await changed(c, Cell.Noticed, 0), NOTICED_TIMEOUT);
  await statsUntil(pool, (s) => s.workers.spinning === 0 && s.workers.retiring === 0);
  assert.equal(await pool.submit(add, 1, 2), 3, "the pool keeps serving");
  const stats = pool.stats();
  assert.equal(stats.restarts, 1, "the worker was replaced");
  assert.equal(stats.failed, 1);
  assert.equal(stats.crashed, 0, "a stopped task is not a crash");
});

Deno.test("WorkerPoolExecutor.with({ timeout }) stops a CPU-bound task that calls throwIfAborted()", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const { future } = await startedWithTimeout(
    pool,
    c,
    // Without a signal that stops it, the loop runs for hours.
    () => pool.with({ timeout: 100 }).submit(countPrimesStarted, c, 0, 2 ** 40),
  );
  const error = await errorOf(future);
  assert.ok(error instanceof TimeoutError, String(error));
  // The loop throws at its next check, so the thread is free again.
  await statsUntil(pool, (s) => s.workers.spinning === 0 && s.workers.retiring === 0);
  assert.equal(pool.stats().restarts, 1, "the worker running the task was replaced");
  assert.equal(await pool.submit(countPrimes, 0, 100), 25);
});

Deno.test("WorkerPoolExecutor.with({ timeout }) counts a task that ignores its signal as spinning until it returns", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  try {
    const { future } = await startedWithTimeout(
      pool,
      c,
      () => pool.with({ timeout: 200 }).submit(spinUntilReleased, c),
    );
    const error = await errorOf(future);
    assert.ok(error instanceof TimeoutError, String(error));
    assert.equal(pool.stats().workers.spinning, 1);
    assert.equal(await pool.submit(add, 1, 2), 3, "another worker serves meanwhile");
  } finally {
    // Also on a failure above: the task ends only when released.
    release(c);
  }
  await statsUntil(pool, (s) => s.workers.spinning === 0 && s.workers.retiring === 0);
});

Deno.test("WorkerPoolExecutor.with({ timeout }) fires the abort event of an async task's signal", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const { future } = await startedWithTimeout(
    pool,
    c,
    () => pool.with({ timeout: 100 }).submit(waitForAbort, c),
  );
  const error = await errorOf(future);
  assert.ok(error instanceof TimeoutError, String(error));
  assert.equal(await changed(c, Cell.Noticed, 0), NOTICED_TIMEOUT);
  await statsUntil(pool, (s) => s.workers.retiring === 0);
  assert.equal(await pool.submit(add, 2, 3), 5);
});

Deno.test("WorkerPoolExecutor.submit() with an aborted signal rejects a running task with the signal's reason", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const tasks: ((c: Int32Array) => unknown)[] = [spinUntilAbortedReport, waitForAbort];
  for (const task of tasks) {
    const c = cell();
    const controller = new AbortController();
    const future = pool.with({ signal: controller.signal }).submit(task, c);
    await startedAtLeast(c, 1);
    const reason = new Error("the caller gave up");
    controller.abort(reason);
    assert.equal(await errorOf(future), reason);
    assert.equal(await changed(c, Cell.Noticed, 0), NOTICED_OTHER, task.name);
  }
  assert.equal(await pool.submit(add, 1, 1), 2);
  assert.equal(pool.stats().restarts, 2);
});

Deno.test("WorkerPoolExecutor counts a stopped task that ignores its signal as spinning until it returns", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const controller = new AbortController();
  const future = pool.with({ signal: controller.signal }).submit(spinUntilReleased, c);
  await startedAtLeast(c, 1);
  controller.abort();
  assert.equal((await errorOf(future) as Error).name, "AbortError");
  let stats = pool.stats();
  assert.equal(stats.workers.spinning, 1);
  assert.equal(stats.workers.total, 0, "the stopped worker takes no tasks");
  // Another worker serves in the meantime, though maxWorkers is 1.
  assert.equal(await pool.submit(add, 4, 4), 8);
  stats = pool.stats();
  assert.equal(stats.workers.total, 1);
  assert.equal(stats.workers.spinning, 1);
  release(c);
  await statsUntil(pool, (s) => s.workers.spinning === 0 && s.workers.retiring === 0);
});

Deno.test("WorkerPoolExecutor runs the tasks queued on a stopped worker on another one", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  // Warm up so that the worker takes several tasks per message.
  for (let i = 0; i < 5; i++) await pool.submit(add, i, i);
  const first = await pool.submit(threadName);
  const c = cell();
  const controller = new AbortController();
  const stopped = pool.with({ signal: controller.signal }).submit(spinUntilAbortedReport, c);
  const queued = [1, 2, 3, 4, 5].map((i) => pool.submit(add, i, 100));
  const name = pool.submit(threadName);
  try {
    await startedAtLeast(c, 1);
    // How many go ahead to the busy worker depends on how long the warm-up tasks took there (its
    // pipeline covers ~10 ms of them): usually all six, fewer on a loaded machine. Those sent run
    // elsewhere once it is stopped, those still queued too: every one must complete either way.
  } finally {
    // Also on a failure above: the spinning task ends only when aborted.
    controller.abort();
  }
  await errorOf(stopped);
  assert.deepEqual(await Promise.all(queued), [101, 102, 103, 104, 105]);
  assert.notEqual(await name, first, "they ran on the new worker");
  assert.equal(pool.stats().failed, 1, "only the stopped task failed");
});

Deno.test("WorkerPoolExecutor gives the other started tasks of a stopped worker time to finish", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  for (let i = 0; i < 5; i++) await pool.submit(add, i, i);
  const c = cell();
  const controller = new AbortController();
  // Both start on the same worker: the held task is async and lets the other one start.
  const held = pool.submit(hold, c, "finished on the retiring worker");
  const stopped = pool.with({ signal: controller.signal }).submit(waitForAbort, c);
  await startedAtLeast(c, 2);
  controller.abort();
  await errorOf(stopped);
  assert.equal(pool.stats().workers.retiring, 1);
  release(c);
  assert.equal(await held, "finished on the retiring worker");
  await statsUntil(pool, (s) => s.workers.retiring === 0);
});

Deno.test("WorkerPoolExecutor lets the other tasks of a stopped worker finish once the stopped task returns", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  for (let i = 0; i < 5; i++) await pool.submit(add, i, i);
  const c = cell();
  const controller = new AbortController();
  const held = pool.submit(hold, c, "finished");
  const stopped = pool.with({ signal: controller.signal }).submit(waitForAbort, c);
  await startedAtLeast(c, 2);
  controller.abort();
  await errorOf(stopped);
  assert.equal(await changed(c, Cell.Noticed, 0), NOTICED_OTHER);
  // The grace period a stopped task gets to return is a timer of this thread that a test cannot
  // shorten: that the held task outlives it is shown against the grace period of a second
  // stopped worker, started later. That one spins in its stopped task, so it cannot answer its
  // ping: it is ended when its grace period runs out, and its other task rejects. Timers of equal
  // delay fire in the order they were set, so by then the first grace period has run out too.
  // Warmed up, the new worker takes both of the next tasks at once; the held one lets the other
  // start.
  for (let i = 0; i < 5; i++) {
    assert.equal(await pool.submit(add, i, 1), i + 1, "a new worker serves meanwhile");
  }
  const clock = cell();
  const spinner = new AbortController();
  const bystander = pool.submit(hold, clock, "ended with its worker");
  const spinning = pool.with({ signal: spinner.signal }).submit(spinUntilReleased, clock);
  try {
    await startedAtLeast(clock, 2);
    spinner.abort();
    await errorOf(spinning);
    const ended = await errorOf(bystander);
    assert.ok(ended instanceof WorkerCrashedError, String(ended));
    assert.match(ended.message, /did not answer a ping/);
  } finally {
    // Also on a failure above: the spinning task ends only when released.
    release(clock);
  }
  assert.equal(held.done(), false);
  release(c);
  assert.equal(await held, "finished");
  await statsUntil(pool, (s) => s.workers.retiring === 0 && s.workers.spinning === 0);
});

Deno.test("WorkerPoolExecutor counts a stopped task once when its worker then crashes", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const controller = new AbortController();
  const future = pool.with({ signal: controller.signal }).submit(crashOnAbort, c);
  await startedAtLeast(c, 1);
  controller.abort();
  assert.equal((await errorOf(future) as Error).name, "AbortError");
  assert.equal(await changed(c, Cell.Noticed, 0), NOTICED_OTHER);
  await statsUntil(pool, (s) => s.crashed === 1);
  assert.equal(await pool.submit(add, 1, 1), 2);
  const stats = pool.stats();
  assert.equal(stats.failed, 1);
  assert.equal(stats.completed, 1);
  assert.equal(stats.restarts, 1, "the worker was replaced once, when its task was stopped");
});

Deno.test("WorkerPoolExecutor with onCrash 'break' is not broken when a stopped worker crashes on its way out", async () => {
  await using pool = workerPool({ maxWorkers: 1, onCrash: "break" });
  const c = cell();
  const controller = new AbortController();
  const future = pool.with({ signal: controller.signal }).submit(crashOnAbort, c);
  await startedAtLeast(c, 1);
  controller.abort();
  await errorOf(future);
  await statsUntil(pool, (s) => s.crashed === 1);
  assert.equal(await pool.submit(add, 2, 2), 4);
});

Deno.test("WorkerPoolExecutor.submit() with an aborted signal drops a queued task without stopping a worker", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const running = pool.submit(hold, c, "running");
  await startedAtLeast(c, 1);
  const controller = new AbortController();
  const queued = pool.with({ signal: controller.signal }).submit(echo, "never runs");
  controller.abort(new Error("not needed"));
  assert.equal((await errorOf(queued) as Error).message, "not needed");
  release(c);
  assert.equal(await running, "running");
  const stats = pool.stats();
  assert.equal(stats.restarts, 0);
  assert.equal(stats.completed, 1);
});

Deno.test("WorkerPoolExecutor.with({ timeout }) does not stop a task that finishes in time", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const timed = pool.with({ timeout: 5_000 });
  for (let i = 0; i < 5; i++) assert.equal(await timed.submit(add, i, 1), i + 1);
  assert.equal(pool.stats().restarts, 0);
  assert.equal(pool.stats().workers.total, 1);
});

Deno.test("WorkerPoolExecutor counts a worker ended inside a loop after an await as spinning until its thread is gone", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const stopped = pool.with({ timeout: 50 }).submit(spinAfterAwait, c);
  await startedAtLeast(c, 1);
  assert.ok(await errorOf(stopped) instanceof TimeoutError);
  // It does not answer its ping: it is ended, and its thread goes on.
  const stats = await statsUntil(pool, (s) => s.workers.spinning === 1 && s.workers.retiring === 0);
  assert.equal(stats.workers.total, 0);
  release(c);
  await statsUntil(pool, (s) => s.workers.spinning === 0);
  assert.equal(await pool.submit(add, 1, 1), 2);
});

Deno.test("WorkerPoolExecutor.shutdown() right after a timeout names a task still looping after an await", async () => {
  const pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    const stopped = pool.with({ timeout: 50 }).submit(spinAfterAwait, c);
    await startedAtLeast(c, 1);
    assert.ok(await errorOf(stopped) instanceof TimeoutError);
    // Within the worker's grace for its ping: it is ended by the shutdown, still looping.
    await pool.shutdown();
  } finally {
    console.warn = warn;
    release(c);
  }
  assert.equal(warnings.length, 1, warnings.join("\n"));
  assert.match(warnings[0]!, /still inside task 'spinAfterAwait'/);
});

Deno.test("WorkerPoolExecutor.shutdown() right after a timeout names nothing when the stopped task only waits", async () => {
  const pool = workerPool({ maxWorkers: 1 });
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void warnings.push(args.join(" "));
  try {
    const stopped = pool.with({ timeout: 50 }).submit(() => new Promise<never>(() => {}));
    assert.ok(await errorOf(stopped) instanceof TimeoutError);
    // Ended before its answer to the ping can be read: its thread was free, and ends at once.
    await pool.shutdown();
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(warnings, []);
});

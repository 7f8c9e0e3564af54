import assert from "node:assert/strict";
import { TimeoutError, WorkerPoolExecutor } from "../../mod.ts";
import { add, spinUntilAborted } from "../fixtures/tasks.ts";

const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);

Deno.test("WorkerPoolExecutor stops a running task at its deadline, even with a longer timeout", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  await pool.submit(add, 0, 0);
  const start = Date.now();
  const future = pool.with({ timeout: 60_000, deadline: start + 100 }).submit(spinUntilAborted);
  const error = await future.exception();
  assert.ok(error instanceof TimeoutError);
  assert.match(error.message, /deadline/);
  assert.ok(Date.now() - start < 30_000);
  // The pool replaced the worker and keeps serving.
  assert.equal(await pool.submit(add, 2, 3), 5);
});

Deno.test("WorkerPoolExecutor counts a deadline from submit: a task queued past it never runs", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  await pool.submit(add, 0, 0);
  const stop = new AbortController();
  const blocker = pool.with({ signal: stop.signal }).submit(spinUntilAborted);
  const queued = pool.with({ deadline: Date.now() + 50 }).submit(add, 1, 1);
  const error = await queued.exception();
  assert.ok(error instanceof TimeoutError);
  assert.equal(queued.state, "finished");
  stop.abort(new Error("done blocking"));
  assert.equal((await blocker.exception() as Error).message, "done blocking");
  assert.equal(pool.stats().completed, 1, "only the warm-up task completed");
});

Deno.test("A deadline in the past rejects at submit without running", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const error = await pool.with({ deadline: Date.now() - 1 }).submit(add, 1, 1).exception();
  assert.ok(error instanceof TimeoutError);
  assert.equal(pool.stats().workers.total, 0, "no worker was started for it");
});

Deno.test("a task whose deadline passed while the event loop was busy never starts", async () => {
  const { AsyncPoolExecutor } = await import("../../mod.ts");
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const deadline = Date.now() + 50;
  // Holds the only slot, and the event loop, past the deadline: the queued task's deadline timer
  // cannot run before the pool offers it the slot.
  const blocking = pool.submit(() => {
    while (Date.now() <= deadline + 20);
  });
  let ran = false;
  const late = pool.with({ deadline }).submit(() => ran = true);
  await blocking;
  // It ran (and was fulfilled) 20 ms after its deadline.
  assert.ok((await late.exception()) instanceof TimeoutError);
  assert.equal(ran, false);
});

Deno.test("a retry whose backoff ends past the deadline never starts", async () => {
  const { AsyncPoolExecutor } = await import("../../mod.ts");
  await using pool = new AsyncPoolExecutor();
  const deadline = Date.now() + 100;
  let attempts = 0;
  const task = pool.with({
    deadline,
    retry: { maxAttempts: 3, retryOn: () => true, backoff: { initial: 50, jitter: "none" } },
  }).submit(() => {
    if (++attempts === 1) throw new Error("flaky");
    return "second";
  });
  // While the first attempt's backoff runs, the event loop is busy past the deadline: the
  // backoff's timer, due before the deadline's, runs first.
  setTimeout(() => {
    while (Date.now() <= deadline + 20);
  }, 10);
  const error = await task.exception();
  // The second attempt started 20 ms past the deadline and fulfilled the task.
  assert.ok(error instanceof TimeoutError, String(error));
  assert.equal(attempts, 1);
});

Deno.test("tasks that share a deadline share one timer, disarmed when the last of them settles", async () => {
  const { AsyncPoolExecutor } = await import("../../mod.ts");
  const { armedDeadlines } = await import("../../executors/_deadlines.ts");
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  const holder = pool.submit(() => gate);
  const armed = armedDeadlines();
  const deadline = Date.now() + 600_000;
  const view = pool.with({ deadline });
  const futures = Array.from({ length: 10_000 }, (_, i) => view.submit((x: number) => x, i));
  const other = pool.with({ deadline: deadline + 1 }).submit(() => 0);
  try {
    assert.equal(
      armedDeadlines(),
      armed + 2,
      "one timer for 10,000 tasks of one deadline, one more",
    );
    // Cancelled while queued, the last of a deadline's tasks disarms its timer.
    other.cancel();
    assert.equal(armedDeadlines(), armed + 1);
  } finally {
    other.cancel();
    open();
  }
  await holder;
  assert.deepEqual(await Promise.all(futures), futures.map((_, i) => i));
  assert.equal(armedDeadlines(), armed, "no timer is left once they all settled");
});

Deno.test("a deadline shared by queued tasks stops them all when it passes, in the order submitted", async () => {
  const { AsyncPoolExecutor } = await import("../../mod.ts");
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  let open!: () => void;
  const holder = pool.submit(() => new Promise<void>((resolve) => open = resolve));
  const view = pool.with({ deadline: Date.now() + 50 });
  const order: number[] = [];
  const queued = Array.from({ length: 100 }, (_, i) => {
    const future = view.submit(() => i);
    future.addDoneCallback(() => order.push(i));
    return future;
  });
  for (const future of queued) assert.ok(await future.exception() instanceof TimeoutError);
  assert.deepEqual(order, queued.map((_, i) => i));
  open();
  await holder;
});

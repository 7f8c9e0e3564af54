import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  CancelledError,
  type Future,
  InvalidStateError,
  taskSignal,
  TimeoutError,
} from "../../mod.ts";
import { gate, GatedTasks, turn, untilAborted } from "./_gates.ts";

const isShutdownError = (error: unknown) =>
  error instanceof InvalidStateError && error.message.includes("shutdown");

Deno.test("AsyncPoolExecutor.submit() after shutdown() throws InvalidStateError mentioning shutdown", async () => {
  const pool = new AsyncPoolExecutor({ name: "io" });
  const view = pool.with({ timeout: 1_000 });
  await pool.shutdown();
  assert.throws(() => pool.submit(() => 1), isShutdownError);
  assert.throws(() => view.submit(() => 1), isShutdownError);
  assert.throws(() => pool.map((x: number) => x, [1]), isShutdownError);
  assert.throws(() => pool.submit(() => 1), /'io'/, "the message names the pool");
});

Deno.test("AsyncPoolExecutor.shutdown() refuses new work at once, before running work settles", async () => {
  const pool = new AsyncPoolExecutor();
  const tasks = new GatedTasks();
  const running = pool.submit(tasks.run, "running");
  const closing = pool.shutdown();
  assert.throws(() => pool.submit(() => 1), isShutdownError);
  tasks.openAll(1);
  await closing;
  assert.equal(await running, "running");
});

Deno.test("AsyncPoolExecutor.shutdown({ wait: true }) resolves after the running and queued work settles", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  const tasks = new GatedTasks();
  const futures = [0, 1, 2, 3].map((i) => pool.submit(tasks.run, i));
  await tasks.waitStarted(2);
  let resolved = false;
  const closing = pool.shutdown({ wait: true }).then(() => {
    resolved = true;
  });
  await turn();
  assert.equal(resolved, false);
  tasks.openAll(3);
  await futures[2];
  await turn();
  assert.equal(resolved, false, "one task is still running");
  tasks.openAll(4);
  await closing;
  assert.ok(futures.every((f) => f.done()));
  assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3]);
  assert.deepEqual(pool.stats(), {
    queued: 0,
    running: 0,
    completed: 4,
    failed: 0,
    futures: { completed: 4, failed: 0, cancelled: 0 },
    attempts: { completed: 4, failed: 0 },
  });
});

Deno.test("AsyncPoolExecutor.shutdown() waits by default", async () => {
  const pool = new AsyncPoolExecutor();
  const tasks = new GatedTasks();
  const future = pool.submit(tasks.run, "x");
  let resolved = false;
  const closing = pool.shutdown().then(() => {
    resolved = true;
  });
  await turn();
  assert.equal(resolved, false);
  tasks.openAll(1);
  await closing;
  assert.equal(future.state, "finished");
});

Deno.test("AsyncPoolExecutor.shutdown({ wait: false }) returns at once and the work still completes", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const futures = [0, 1, 2].map((i) => pool.submit(tasks.run, i));
  await pool.shutdown({ wait: false });
  assert.equal(futures[0]!.state, "running");
  assert.equal(futures[2]!.state, "pending");
  tasks.openAll(3);
  assert.deepEqual(await Promise.all(futures), [0, 1, 2]);
  await pool.shutdown();
});

Deno.test("AsyncPoolExecutor.shutdown({ cancelFutures: true }) cancels queued futures and lets running ones finish", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  const tasks = new GatedTasks();
  const futures = [0, 1, 2, 3, 4].map((i) => pool.submit(tasks.run, i));
  await tasks.waitStarted(2);
  const closing = pool.shutdown({ cancelFutures: true });
  assert.deepEqual(futures.map((f) => f.state), [
    "running",
    "running",
    "cancelled",
    "cancelled",
    "cancelled",
  ]);
  for (const future of futures.slice(2)) {
    await assert.rejects(future.result(), CancelledError);
  }
  tasks.openAll(5);
  await closing;
  assert.deepEqual(await Promise.all(futures.slice(0, 2)), [0, 1]);
  assert.equal(tasks.started, 2, "the cancelled tasks never ran");
});

Deno.test("AsyncPoolExecutor.shutdown({ wait: false, cancelFutures: true }) returns at once", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const running = pool.submit(tasks.run, "running");
  const queued = pool.submit(tasks.run, "queued");
  await tasks.waitStarted(1);
  await pool.shutdown({ wait: false, cancelFutures: true });
  assert.ok(queued.cancelled());
  assert.ok(running.running());
  tasks.openAll(2);
  assert.equal(await running, "running");
  await pool.shutdown();
  assert.equal(tasks.started, 1);
});

Deno.test("AsyncPoolExecutor.shutdown() can be called twice, and concurrently", async () => {
  const pool = new AsyncPoolExecutor();
  const tasks = new GatedTasks();
  const future = pool.submit(tasks.run, 1);
  const first = pool.shutdown();
  const second = pool.shutdown();
  const third = pool.shutdown({ wait: false });
  await third;
  tasks.openAll(1);
  await Promise.all([first, second]);
  await pool.shutdown();
  await pool.shutdown({ cancelFutures: true });
  assert.equal(await future, 1);
});

Deno.test("AsyncPoolExecutor.shutdown() on an idle pool resolves at once", async () => {
  const pool = new AsyncPoolExecutor();
  await pool.shutdown();
  await pool.with({ timeout: 5 }).shutdown();
});

Deno.test("AsyncPoolExecutor [Symbol.asyncDispose]() shuts down and waits, with await using", async () => {
  const tasks = new GatedTasks();
  let outer: AsyncPoolExecutor | undefined;
  let future: Promise<unknown> | undefined;
  {
    await using pool = new AsyncPoolExecutor();
    outer = pool;
    const f = pool.submit(tasks.run, "inside");
    future = f.result();
    await tasks.waitStarted(1);
    tasks.openAll(1);
  }
  assert.equal(await future, "inside");
  assert.throws(() => outer!.submit(() => 1), isShutdownError);

  const viewTasks = new GatedTasks();
  const pool = new AsyncPoolExecutor();
  let viewFuture: Future<number> | undefined;
  {
    await using view = pool.with({ timeout: 60_000 });
    viewFuture = view.submit(viewTasks.run, 1);
    viewTasks.openAll(1);
  }
  assert.ok(viewFuture.done(), "disposing a view waits for the view's tasks");
  assert.equal(await pool.submit(() => 2), 2, "and leaves the pool open");
  await pool.shutdown();
});

Deno.test("AsyncPoolExecutor.shutdown() waits for a task between retry attempts", async () => {
  const pool = new AsyncPoolExecutor();
  const firstFailed = gate();
  let attempts = 0;
  const future = pool.with({
    timeout: 5,
    retry: {
      maxAttempts: 2,
      backoff: { initial: 10, jitter: "none" },
      retryOn: (error) => {
        firstFailed.open();
        return error instanceof TimeoutError;
      },
    },
  }).submit(() => {
    attempts++;
    return untilAborted(taskSignal());
  });
  await firstFailed.promise;
  assert.equal(attempts, 1);
  await pool.shutdown();
  assert.equal(attempts, 2);
  await assert.rejects(future.result(), TimeoutError);
});

// With the ops sanitizer on (deno.json), a timer left behind by any of these fails the test.
Deno.test("AsyncPoolExecutor.shutdown() leaves no timers behind", async () => {
  const pool = new AsyncPoolExecutor({
    maxWorkers: 2,
    circuitBreaker: { threshold: 1, halfOpenAfter: 60_000 },
  });
  const hold = gate();
  const held = async (x: number) => {
    await hold.promise;
    return x;
  };
  const long = pool.with({ timeout: 60_000, deadline: Date.now() + 60_000 });
  const mapped = pool.map(held, [0, 1], { timeout: 60_000, buffersize: 1 });
  const first = mapped.next();
  const futures = [
    long.submit(held, 1),
    long.submit(held, 2),
    pool.with({ retry: { maxAttempts: 3, backoff: { initial: 60_000 } } }).submit(held, 3),
    pool.with({ domain: "a.example" }).submit(() => Promise.reject(new Error("down"))),
    pool.with({ signal: new AbortController().signal }).submit(held, 4),
  ];
  await turn();
  const closing = pool.shutdown({ cancelFutures: true });
  hold.open();
  await closing;
  assert.deepEqual(await first, { done: false, value: 0 });
  // The map could not submit its next item after shutdown: it says so at that position.
  await assert.rejects(mapped.next(), InvalidStateError);
  await mapped.return!();
  assert.deepEqual(futures.map((f) => f.state), [
    "finished",
    "cancelled",
    "cancelled",
    "cancelled",
    "cancelled",
  ]);
  assert.equal(await futures[0], 1);
});

Deno.test("AsyncPoolExecutor.shutdown() after a timeout leaves no timers behind", async () => {
  const pool = new AsyncPoolExecutor();
  const future = pool.with({ timeout: 1, deadline: Date.now() + 60_000 }).submit(() =>
    untilAborted(taskSignal())
  );
  await assert.rejects(future.result(), TimeoutError);
  const waiting = pool.submit(() => 1).result({ timeout: 60_000 });
  await pool.shutdown();
  assert.equal(await waiting, 1);
});

import assert from "node:assert/strict";
import { BrokenExecutorError, WorkerCrashedError, WorkerPoolExecutor } from "../../mod.ts";
import {
  add,
  cell,
  close,
  crashWhileRunning,
  exit,
  fail,
  failingSetUp,
  hold,
  rejectUnhandled,
  rejectWith,
  spinUntilReleased,
  threadName,
  throwAggregate,
  throwLater,
  throwValue,
} from "../fixtures/tasks.ts";
import {
  exceedQuota,
  QuotaError,
  throwUnregistered,
  UnregisteredError,
} from "../fixtures/errors.ts";
import {
  errorOf,
  ERRORS,
  release,
  startedAtLeast,
  statsUntil,
  TASKS,
  workerPool,
} from "./_worker_helpers.ts";

/** Checks that the pool still runs tasks, and on how many workers. */
async function stillServes(pool: WorkerPoolExecutor): Promise<void> {
  const results = await Promise.all([1, 2, 3, 4].map((i) => pool.submit(add, i, i)));
  assert.deepEqual(results, [2, 4, 6, 8]);
}

function crashed(error: unknown): asserts error is WorkerCrashedError {
  assert.ok(error instanceof WorkerCrashedError, `expected WorkerCrashedError: ${error}`);
}

function broken(error: unknown, reason: RegExp): asserts error is BrokenExecutorError {
  assert.ok(error instanceof BrokenExecutorError, `expected BrokenExecutorError: ${error}`);
  assert.match(error.message, reason);
}

// --- errors thrown by tasks: the future rejects, the worker lives on ---

Deno.test("WorkerPoolExecutor.submit() rejects with the task's error and keeps its class, message, code and stack", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const name = await pool.submit(threadName);
  const error = await errorOf(pool.submit(fail, "out of range"));
  assert.ok(error instanceof RangeError);
  assert.equal(error.name, "RangeError");
  assert.equal(error.message, "out of range");
  assert.equal((error as RangeError & { code?: string }).code, "E_FAIL");
  assert.match(error.stack ?? "", /fail.*fixtures\/tasks\.ts/s, "the remote stack");
  assert.equal(await pool.submit(threadName), name, "the worker lives on");
  assert.equal(pool.stats().crashed, 0);
  assert.equal(pool.stats().failed, 1);
});

Deno.test("WorkerPoolExecutor.submit() rejects with a thrown value that is not an Error", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  assert.equal(await errorOf(pool.submit(throwValue, 42)), 42);
  assert.equal(await errorOf(pool.submit(throwValue, "just a string")), "just a string");
  assert.deepEqual(await errorOf(pool.submit(throwValue, { code: 7, why: ["a"] })), {
    code: 7,
    why: ["a"],
  });
  assert.equal(await errorOf(pool.submit(throwValue, null), 5_000), null);
  await stillServes(pool);
});

Deno.test("WorkerPoolExecutor.submit() rejects with a rejected promise's error and its cause chain", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const error = await errorOf(pool.submit(rejectWith, "async failure"));
  assert.ok(error instanceof TypeError);
  assert.equal(error.message, "async failure");
  const cause = error.cause;
  assert.ok(cause instanceof Error);
  assert.equal(cause.message, "the cause");
  assert.equal(cause.cause, "the root");
  await stillServes(pool);
});

Deno.test("WorkerPoolExecutor.submit() keeps an AggregateError with its errors", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const error = await errorOf(pool.submit(throwAggregate));
  assert.ok(error instanceof AggregateError);
  assert.equal(error.message, "both failed");
  assert.equal(error.errors.length, 2);
  assert.ok(error.errors[0] instanceof RangeError && error.errors[0].message === "first");
  assert.ok(error.errors[1] instanceof TypeError && error.errors[1].message === "second");
});

Deno.test("WorkerPoolExecutor.submit() keeps a custom error class registered in a module both sides import", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [ERRORS] });
  const error = await errorOf(pool.submit(exceedQuota, 3));
  assert.ok(error instanceof QuotaError, String(error));
  assert.equal(error.name, "QuotaError");
  assert.equal(error.message, "over the quota of 3");
  assert.equal(error.limit, 3);
  assert.ok(error.cause instanceof RangeError);
  // Not registered, but exported by a task module: it keeps its class too.
  const unregistered = await errorOf(pool.submit(throwUnregistered, "not known here"));
  assert.ok(unregistered instanceof UnregisteredError, String(unregistered));
  assert.equal((unregistered as Error).name, "UnregisteredError");
  assert.equal((unregistered as Error).message, "not known here");
  assert.equal(pool.stats().crashed, 0);
});

// --- worker deaths: the running task rejects with WorkerCrashedError, the pool replaces it ---

Deno.test("WorkerPoolExecutor.submit() rejects with WorkerCrashedError when the task calls Deno.exit()", async () => {
  await using pool = workerPool({ maxWorkers: 2 });
  const others = [1, 2, 3].map((i) => pool.submit(add, i, 0));
  const error = await errorOf(pool.submit(exit, 3));
  crashed(error);
  assert.equal(error.exitCode, 3);
  assert.match(error.message, /Deno\.exit\(3\)/);
  assert.deepEqual(await Promise.all(others), [1, 2, 3]);
  await stillServes(pool);
  const stats = pool.stats();
  assert.equal(stats.crashed, 1);
  assert.equal(stats.restarts, 1);
});

Deno.test("WorkerPoolExecutor.submit() rejects with WorkerCrashedError when the task calls self.close()", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const error = await errorOf(pool.submit(close));
  crashed(error);
  assert.equal(error.exitCode, 0);
  assert.match(error.message, /self\.close\(\)/);
  await stillServes(pool);
  assert.equal(pool.stats().crashed, 1);
});

Deno.test("WorkerPoolExecutor.submit() rejects with WorkerCrashedError when an uncaught error ends the worker during the task", async () => {
  await using pool = workerPool({ maxWorkers: 2 });
  const error = await errorOf(pool.submit(crashWhileRunning, "throw", "thrown outside the task"));
  crashed(error);
  assert.match(error.message, /uncaught error: thrown outside the task/);
  assert.ok(error.cause instanceof Error);
  assert.equal(error.cause.message, "thrown outside the task");
  await stillServes(pool);
  assert.equal(pool.stats().crashed, 1);
});

Deno.test("WorkerPoolExecutor.submit() rejects with WorkerCrashedError when an unhandled rejection ends the worker during the task", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const error = await errorOf(pool.submit(crashWhileRunning, "reject", "rejected outside"));
  crashed(error);
  assert.match(error.message, /rejected outside/);
  await stillServes(pool);
  assert.equal(pool.stats().crashed, 1);
});

Deno.test("WorkerPoolExecutor replaces a worker that an uncaught error ends between tasks", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const first = await pool.submit(threadName);
  assert.equal(await pool.submit(throwLater, "later"), "scheduled");
  await statsUntil(pool, (s) => s.crashed === 1);
  assert.notEqual(await pool.submit(threadName), first);
  assert.equal(await pool.submit(rejectUnhandled, "unhandled"), "scheduled");
  await statsUntil(pool, (s) => s.crashed === 2);
  await stillServes(pool);
  assert.equal(pool.stats().restarts, 2);
  assert.equal(pool.stats().failed, 0, "no task failed");
});

Deno.test("WorkerPoolExecutor runs the tasks sent to a worker that died before it started them", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  // Warm up so that the worker takes several tasks per message.
  for (let i = 0; i < 5; i++) await pool.submit(add, i, i);
  for (const dying of [pool.submit(exit, 5), pool.submit(close)]) {
    const queued = [1, 2, 3].map((i) => pool.submit(add, i, 10));
    // They go ahead to the dying worker as far as its pipeline allows (it covers ~10 ms of the
    // warm-up tasks' run time: all of them, unless the machine is loaded); every one must complete.
    crashed(await errorOf(dying));
    assert.deepEqual(await Promise.all(queued), [11, 12, 13]);
  }
  assert.equal(pool.stats().crashed, 2);
});

Deno.test("WorkerPoolExecutor with onCrash 'break' is broken after a crash", async () => {
  await using pool = workerPool({ maxWorkers: 2, onCrash: "break" });
  const c = cell();
  const held = pool.submit(hold, c, "held");
  await startedAtLeast(c, 1);
  const error = await errorOf(pool.submit(exit, 9));
  crashed(error);
  assert.equal(error.exitCode, 9);
  broken(await errorOf(held), /Deno\.exit\(9\).*'onCrash' is "break"/);
  assert.throws(() => pool.submit(add, 1, 1), BrokenExecutorError);
  assert.equal(pool.stats().workers.total, 0);
  // The worker of the held task was retired by the break, not replaced.
  assert.equal(pool.stats().restarts, 0);
});

Deno.test("WorkerPoolExecutor with onCrash 'break' and retry: the task whose worker died keeps its WorkerCrashedError", async () => {
  for (
    const options of [{ onCrash: "break" as const }, { restartLimit: { max: 0, within: 60_000 } }]
  ) {
    await using pool = workerPool({ maxWorkers: 2, ...options });
    const c = cell();
    const held = pool.submit(hold, c, "held");
    await startedAtLeast(c, 1);
    const error = await errorOf(
      pool.with({ retry: { maxAttempts: 3, backoff: { initial: 0 } } }).submit(exit, 9),
    );
    crashed(error);
    assert.equal(error.exitCode, 9, JSON.stringify(options));
    assert.ok(await errorOf(held) instanceof BrokenExecutorError);
    assert.throws(() => pool.submit(add, 1, 1), BrokenExecutorError);
  }
});

Deno.test("WorkerPoolExecutor's break does not count against the circuits of the tasks it stops", async () => {
  await using pool = workerPool({
    maxWorkers: 2,
    onCrash: "break",
    circuitBreaker: { threshold: 1, halfOpenAfter: 60_000 },
  });
  const c = cell();
  const held = pool.with({ domain: "api" }).submit(hold, c, "held");
  await startedAtLeast(c, 1);
  crashed(await errorOf(pool.submit(exit, 9)));
  broken(await errorOf(held), /Deno\.exit\(9\)/);
  const api = pool.circuitStats().get("api")!;
  assert.equal(api.state, "closed", "the pool's break is no failure of the domain");
  assert.equal(api.failures, 0);
  assert.equal(api.inFlight, 0);
});

Deno.test("WorkerPoolExecutor counts a thread that a break could not stop as spinning", async () => {
  await using pool = workerPool({ maxWorkers: 2, onCrash: "break" });
  const c = cell();
  const spinning = pool.submit(spinUntilReleased, c);
  await startedAtLeast(c, 1);
  crashed(await errorOf(pool.submit(close)));
  broken(await errorOf(spinning), /self\.close\(\)/);
  assert.equal(pool.stats().workers.spinning, 1);
  release(c);
  await statsUntil(pool, (s) => s.workers.spinning === 0);
});

Deno.test("WorkerPoolExecutor is broken once crashes exceed restartLimit, with a message naming the limit", async () => {
  await using pool = workerPool({ maxWorkers: 1, restartLimit: { max: 1, within: 60_000 } });
  crashed(await errorOf(pool.submit(exit, 1)));
  assert.equal(await pool.submit(add, 1, 1), 2, "one restart is within the limit");
  const c = cell();
  const second = pool.submit(exit, 2);
  const queued = pool.submit(hold, c, "never runs");
  crashed(await errorOf(second));
  const error = await errorOf(queued);
  broken(error, /more than 1 worker restarts within 60000 ms \(the restart limit\)/);
  assert.throws(() => pool.submit(add, 1, 1), (e) => e === error);
  assert.equal(pool.stats().restarts, 1);
});

// --- startup failures: the pool is broken, with the reason ---

Deno.test("WorkerPoolExecutor is broken when the initializer throws", async () => {
  await using pool = workerPool({ initializer: failingSetUp, initargs: ["no database"] });
  const futures = [pool.submit(add, 1, 1), pool.submit(add, 2, 2)];
  for (const future of futures) {
    broken(await errorOf(future), /the initializer failed in worker \d+: no database/);
  }
  const error = await errorOf(futures[0]!);
  assert.ok((error as Error).cause instanceof Error);
  assert.throws(() => pool.submit(add, 1, 1), (e) => e === error);
  assert.equal(pool.stats().workers.total, 0);
});

for (
  const [how, initializer] of [
    ["Deno.exit(9)", () => Deno.exit(9)],
    ["self.close()", () => (self as unknown as { close(): void }).close()],
  ] as const
) {
  Deno.test(`WorkerPoolExecutor is broken at once when the initializer calls ${how}`, async () => {
    await using pool = new WorkerPoolExecutor({ maxWorkers: 2, initializer });
    const error = await errorOf(pool.submit(add, 1, 1));
    broken(error, /worker \d+ failed to start: called (Deno\.exit\(9\)|self\.close\(\))/);
    // Not restarted until the restart limit: such a worker fails the same way each time.
    assert.equal(pool.stats().restarts, 0);
  });
}

Deno.test("WorkerPoolExecutor is broken when an inline initializer throws", async () => {
  await using pool = new WorkerPoolExecutor({
    initializer: () => {
      throw new TypeError("bad setup");
    },
  });
  broken(await errorOf(pool.submit(() => 1)), /initializer failed.*bad setup/);
  assert.throws(() => pool.submit(() => 1), BrokenExecutorError);
});

Deno.test("WorkerPoolExecutor is broken when a task module does not exist", async () => {
  const missing = new URL("../fixtures/does_not_exist.ts", import.meta.url);
  await using pool = new WorkerPoolExecutor({ modules: [missing] });
  const error = await errorOf(pool.submit(() => 1));
  broken(error, /a task module could not be loaded/);
  assert.ok(error.message.includes("does_not_exist.ts"), error.message);
  assert.throws(() => pool.submit(() => 1), BrokenExecutorError);
  assert.equal(pool.stats().workers.total, 0);
});

Deno.test("WorkerPoolExecutor is broken when a task module has a syntax error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/syntax_error.ts`;
    await Deno.writeTextFile(path, "export function broken( {\n  return 1;\n}\n");
    await using pool = new WorkerPoolExecutor({ modules: [path] });
    const error = await errorOf(pool.submit(() => 1));
    broken(error, /a task module could not be loaded.*syntax_error\.ts/s);
    assert.throws(() => pool.submit(() => 1), BrokenExecutorError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerPoolExecutor is broken when a task module fails to load in the worker", async () => {
  const module = new URL("../fixtures/worker_only_failure.ts", import.meta.url);
  await using pool = new WorkerPoolExecutor({ modules: [TASKS, module] });
  const error = await errorOf(pool.submit(add, 1, 1));
  broken(error, /could not be loaded in worker \d+: this module refuses to load in a worker/);
  assert.throws(() => pool.submit(add, 1, 1), BrokenExecutorError);
});

Deno.test("WorkerPoolExecutor backs off before replacing a worker that crashed twice in a row", async () => {
  const pool = new WorkerPoolExecutor({
    maxWorkers: 1,
    modules: [TASKS],
    restartBackoff: { initial: 60_000, max: 60_000 },
  });
  try {
    for (let i = 0; i < 2; i++) {
      const error = await pool.submit(exit, 3).exception();
      assert.ok(error instanceof WorkerCrashedError);
    }
    // The first replacement was immediate; the second waits out the backoff.
    const waiting = pool.submit(add, 1, 2);
    await new Promise((resolve) => setTimeout(resolve, 0));
    const stats = pool.stats();
    assert.equal(stats.workers.total, 0);
    assert.equal(stats.queued, 1);
    assert.equal(waiting.state, "pending");
    await pool.shutdown({ cancelFutures: true });
    assert.ok(waiting.cancelled());
  } finally {
    await pool.shutdown();
  }
});

Deno.test("WorkerPoolExecutor rejects a restartBackoff whose max is below its initial", () => {
  assert.throws(
    () => new WorkerPoolExecutor({ restartBackoff: { initial: 100, max: 10 } }),
    (error: unknown) =>
      error instanceof RangeError && /'restartBackoff.max'/.test(error.message) &&
      /received 10/.test(error.message),
  );
  // The deprecated `min` is read as `initial`.
  assert.throws(
    () => new WorkerPoolExecutor({ restartBackoff: { min: 100, max: 10 } }),
    /'restartBackoff.max' must be at least 'restartBackoff.initial' \(100\): received 10/,
  );
});

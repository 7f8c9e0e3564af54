// Regression tests for defects found by trying the executors as users would: settle order,
// head-of-line blocking, innocent tasks of a stopped worker, views, options and large maps.

import assert from "node:assert/strict";
import {
  asCompleted,
  AsyncPoolExecutor,
  type Future,
  getDefaultExecutor,
  toThread,
} from "../../mod.ts";
import { add, cell, hold, spinUntilReleased } from "../fixtures/tasks.ts";
import { failAtTwo, holdCrashingOnSecondRun } from "../fixtures/regression_tasks.ts";
import {
  errorOf,
  release,
  startedAtLeast,
  statsUntil,
  TASKS,
  workerPool,
} from "./_worker_helpers.ts";

const MAP_TASKS = new URL("../fixtures/regression_tasks.ts", import.meta.url);

Deno.test("AsyncPoolExecutor settles a task's future before it starts the next queued task", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  const first = pool.submit(async () => {
    await gate;
    return "A";
  });
  const rest = ["B", "C", "D"].map((x) => pool.submit(() => x));
  open();
  const order: string[] = [];
  for await (const f of asCompleted([first, ...rest])) {
    order.push(await (f as unknown as Future<string>).result());
  }
  assert.deepEqual(order, ["A", "B", "C", "D"]);
});

Deno.test("WorkerPoolExecutor.map() gives retryOn the task's own error, not the chunk's", async () => {
  await using pool = workerPool({ maxWorkers: 1, modules: [TASKS, MAP_TASKS] });
  const seen: unknown[] = [];
  const patient = pool.with({
    retry: {
      maxAttempts: 2,
      backoff: { initial: 0 },
      retryOn: (error) => {
        seen.push(error);
        return false;
      },
    },
  });
  await assert.rejects(async () => {
    for await (const _ of patient.map(failAtTwo, [1, 2, 3])) {
      // consume
    }
  }, /item 2/);
  assert.equal(seen.length, 1);
  assert.ok(seen[0] instanceof Error && /item 2/.test(seen[0].message), String(seen[0]));
  assert.notEqual((seen[0] as Error).name, "ChunkFailure");
});

Deno.test("circuit breakers of a WorkerPoolExecutor judge map() failures by the task's own error", async () => {
  const judged: unknown[] = [];
  await using pool = workerPool({
    maxWorkers: 1,
    modules: [TASKS, MAP_TASKS],
    circuitBreaker: {
      threshold: 1,
      halfOpenAfter: 60_000,
      isFailure: (error) => {
        judged.push(error);
        return true;
      },
    },
  });
  await assert.rejects(async () => {
    for await (const _ of pool.with({ domain: "d" }).map(failAtTwo, [2])) {
      // consume
    }
  }, /item 2/);
  assert.equal(judged.length, 1);
  assert.ok(judged[0] instanceof RangeError, String(judged[0]));
  assert.equal(pool.circuitStats().get("d")?.state, "open");
});

Deno.test("WorkerPoolExecutor does not hold tasks behind a task with a timeout while a worker has room", async () => {
  await using pool = workerPool({ maxWorkers: 2, idleTimeout: 60_000 });
  // Tiny tasks first, so that both workers learn to keep many tasks in flight.
  const warmUp = () => Promise.all(Array.from({ length: 400 }, (_, i) => pool.submit(add, i, 1)));
  await warmUp();
  await statsUntil(pool, (s) => s.workers.idle === 2);
  await warmUp();
  const c = cell();
  try {
    const held = [pool.submit(hold, c, 1), pool.submit(hold, c, 2)];
    await startedAtLeast(c, 2);
    assert.equal(pool.stats().workers.busy, 2, JSON.stringify(pool.stats().workers));
    // No worker is idle, so the task with a timeout waits; the task behind it must not.
    const timed = pool.with({ timeout: 60_000 }).submit(add, 20, 22);
    const behind = pool.submit(add, 1, 1);
    assert.equal(await behind.result({ timeout: 5_000 }), 2);
    assert.equal(timed.done(), false);
    release(c);
    assert.deepEqual(await Promise.all(held), [1, 2]);
    assert.equal(await timed, 42);
  } finally {
    release(c);
  }
});

Deno.test("WorkerPoolExecutor ends a stopped worker's other tasks as bystanders, whose crash is not held against them", async () => {
  await using pool = workerPool({ maxWorkers: 1, modules: [TASKS, MAP_TASKS] });
  // Tiny tasks first, so that the worker takes a second task while the first one waits.
  await Promise.all(Array.from({ length: 200 }, (_, i) => pool.submit(add, i, 1)));
  const heldCell = cell();
  const spin = cell();
  try {
    const held = pool.with({ retry: { maxAttempts: 3, backoff: { initial: 0 } } }).submit(
      holdCrashingOnSecondRun,
      heldCell,
      "held",
    );
    await startedAtLeast(heldCell, 1);
    const controller = new AbortController();
    const spinner = pool.with({ signal: controller.signal }).submit(spinUntilReleased, spin);
    await startedAtLeast(spin, 1);
    controller.abort();
    await errorOf(spinner);
    // The spinner never returns, so after its grace the worker is ended with the held task on it
    // (run 1, a bystander). Run 2 crashes its worker itself; run 3 may go ahead only if run 1's
    // crash was not counted: two crashes make a poison task.
    await startedAtLeast(heldCell, 3, 10_000);
    release(heldCell);
    assert.equal(await held, "held");
  } finally {
    release(spin);
    release(heldCell);
  }
});

Deno.test("a view's shutdown() waits for its own tasks and leaves the executor open", async () => {
  await using pool = new AsyncPoolExecutor();
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  let closed = false;
  let viewTask: Future<string> | undefined;
  const scope = (async () => {
    await using view = pool.with({ timeout: 60_000 });
    viewTask = view.submit(async () => {
      await gate;
      return "view task";
    });
  })().then(() => closed = true);
  await Promise.resolve();
  assert.equal(closed, false, "disposing the view waits for its task");
  open();
  await scope;
  assert.equal(await viewTask, "view task");
  assert.equal(await pool.submit(() => "still open"), "still open");
});

Deno.test("a view refuses new tasks after its shutdown, and cancelFutures cancels only its own", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  const running = pool.submit(() => gate);
  const view = pool.with({});
  const queued = view.submit(() => "never");
  const other = pool.submit(() => "other");
  await view.shutdown({ cancelFutures: true });
  assert.equal(queued.cancelled(), true);
  assert.throws(() => view.submit(() => 1), /after its shutdown/);
  open();
  await running;
  assert.equal(await other, "other");
});

Deno.test("disposing a view of the default executor leaves toThread() working", async () => {
  {
    await using view = getDefaultExecutor().with({ timeout: 60_000 });
    assert.equal(await view.submit((x: number) => x * 3, 3), 9);
  }
  try {
    assert.equal(await toThread((x: number) => x + 1, 1), 2);
  } finally {
    await getDefaultExecutor().shutdown();
  }
});

Deno.test("retry backoff fields given as undefined take their defaults", async () => {
  await using pool = new AsyncPoolExecutor();
  let calls = 0;
  const started: number[] = [];
  const future = pool.with({
    retry: {
      maxAttempts: 2,
      backoff: { initial: undefined, max: undefined, multiplier: undefined, jitter: "none" },
      retryOn: () => true,
    },
  }).submit(() => {
    started.push(performance.now());
    if (++calls === 1) throw new Error("first");
    return calls;
  });
  assert.equal(await future, 2);
  // With `initial: NaN` the retry followed at once; the default initial delay is 100 ms.
  assert.ok(started[1]! - started[0]! >= 90, `retried after ${started[1]! - started[0]!} ms`);
});

Deno.test("executor constructors reject unknown options, naming the key and the closest known one", () => {
  assert.throws(
    () => new AsyncPoolExecutor({ maxWorker: 4 } as never),
    (e: unknown) =>
      e instanceof TypeError && /'maxWorker' is not an option/.test(e.message) &&
      /did you mean 'maxWorkers'/.test(e.message),
  );
  assert.throws(
    () => workerPool({ max_workers: 4 } as never),
    (e: unknown) => e instanceof TypeError && /'max_workers'.*'maxWorkers'/.test(e.message),
  );
  assert.throws(() => new AsyncPoolExecutor({ maxWorkers: "100" } as never), /received "100"/);
  assert.throws(() => workerPool({ onCrash: "Restart" } as never), /received "Restart"/);
});

Deno.test("map() over 100,000 items yields every result in order", async () => {
  await using pool = new AsyncPoolExecutor();
  let expected = 0;
  for await (
    const value of pool.map(
      (x: number) => x,
      Array.from({ length: 100_000 }, (_, i) => i),
    )
  ) {
    assert.equal(value, expected++);
  }
  assert.equal(expected, 100_000);
});

Deno.test("a misspelt field of retry, circuitBreaker or restartLimit is refused with the closest one", async () => {
  const { WorkerPoolExecutor } = await import("../../mod.ts");
  const refused = (pattern: RegExp) => (e: unknown) =>
    e instanceof TypeError && pattern.test(e.message);
  // Each was ignored: a retry without its backoff, a registry without its bound.
  await using pool = new AsyncPoolExecutor();
  assert.throws(
    () => pool.with({ retry: { maxAttempts: 3, backof: {} } as never }),
    refused(/'retry\.backof' is not a retry option \(did you mean 'retry\.backoff'\?\)/),
  );
  assert.throws(
    () =>
      new AsyncPoolExecutor({
        circuitBreaker: { threshold: 1, halfOpenAfter: 1, maxDomain: 2 } as never,
      }),
    refused(/'circuitBreaker\.maxDomain' is not .*did you mean 'circuitBreaker\.maxDomains'/),
  );
  assert.throws(
    () =>
      new AsyncPoolExecutor({
        circuitBreaker: {
          threshold: 1,
          halfOpenAfter: 1,
          failureRatio: { ratio: 0.5, window: 10, minimumCalls: 1, minCalls: 2 } as never,
        },
      }),
    refused(/'circuitBreaker\.failureRatio\.minCalls' is not/),
  );
  assert.throws(
    () => new WorkerPoolExecutor({ restartLimit: { max: 1, within: 1, withn: 2 } as never }),
    refused(/'restartLimit\.withn' is not a restartLimit field/),
  );
});

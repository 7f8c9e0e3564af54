import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  ExecutorBase,
  type ExecutorStats,
  type ExecutorView,
  ProcessPoolExecutor,
  WorkerPoolExecutor,
} from "../../mod.ts";

Deno.test("AsyncPoolExecutor.with() returns a view with whenReady, onIdle, stats and maxWorkers", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 1 });
  const view: ExecutorView = pool.with({ timeout: 5_000 });
  const nested = view.with({ timeout: 1_000 });
  const gate = Promise.withResolvers<void>();
  let started = 0;
  const bothStarted = Promise.withResolvers<void>();
  const hold = () => {
    if (++started === 2) bothStarted.resolve();
    return gate.promise;
  };
  const held = [nested.submit(hold), nested.submit(hold)];
  await bothStarted.promise;
  const queued = nested.submit(() => 3);
  let ready = false;
  const room = nested.whenReady().then(() => ready = true);
  assert.equal(ready, false, "the queue is full");
  assert.equal(nested.stats().queued, 1);
  assert.equal(nested.stats().running, 2);
  assert.equal(nested.maxWorkers, 2);
  gate.resolve();
  await room;
  await view.onIdle();
  await Promise.all([...held, queued]);
  assert.equal(view.stats().futures.completed, 3);
  assert.deepEqual(view.stats(), pool.stats());
});

Deno.test("WorkerPoolExecutor.maxWorkers and its with() view report the pool's size and stats", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 3 });
  assert.equal(pool.maxWorkers, 3);
  const view = pool.with({ timeout: 10_000 });
  assert.equal(await view.submit((x: number) => x + 1, 1), 2);
  await view.onIdle();
  assert.equal(view.maxWorkers, 3);
  assert.equal(view.stats().futures.completed, 1);
  assert.equal(view.stats().workers.total, pool.stats().workers.total);
});

Deno.test("ProcessPoolExecutor.pids lists its worker processes, none once shut down", async () => {
  const pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  try {
    assert.deepEqual(pool.pids, [], "processes start lazily");
    const pid = await pool.submit(() => Deno.pid);
    assert.deepEqual(pool.pids, [pid]);
    assert.equal(pool.maxWorkers, 1);
  } finally {
    await pool.shutdown();
  }
  assert.deepEqual(pool.pids, []);
});

Deno.test("ExecutorBase is what every executor class extends, with stats() of the common shape", async () => {
  await using asyncPool = new AsyncPoolExecutor();
  await using workerPool = new WorkerPoolExecutor({ maxWorkers: 1 });
  for (const executor of [asyncPool, workerPool]) {
    assert.ok(executor instanceof ExecutorBase);
    const stats: ExecutorStats = executor.stats();
    assert.deepEqual(
      Object.keys(stats).filter((key) =>
        ["queued", "running", "completed", "failed", "futures", "attempts"].includes(key)
      ).sort(),
      ["attempts", "completed", "failed", "futures", "queued", "running"],
    );
  }
});

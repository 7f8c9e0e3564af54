// A queued task that is cancelled leaves its executor's queue at once, not when it reaches the
// head: stats().queued drops with each cancel, and the task's memory can go.

import assert from "node:assert/strict";
import { AsyncPoolExecutor } from "../../mod.ts";
import { cell, hold } from "../fixtures/tasks.ts";
import { release, startedAtLeast, workerPool } from "./_worker_helpers.ts";
import { gate } from "./_gates.ts";

Deno.test("AsyncPoolExecutor.stats() drops a cancelled queued task from the queue at once", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const busy = gate();
  const running = pool.submit(() => busy.promise);
  const queued = Array.from({ length: 1_000 }, (_, i) => pool.submit((x: number) => x, i));
  await null;
  assert.equal(pool.stats().queued, 1_000);
  for (const future of queued.slice(0, 600)) assert.equal(future.cancel(), true);
  assert.equal(pool.stats().queued, 400);
  busy.open();
  await running;
  const values = await Promise.all(queued.slice(600));
  assert.deepEqual(values, Array.from({ length: 400 }, (_, i) => 600 + i));
  assert.equal(pool.stats().queued, 0);
});

Deno.test("WorkerPoolExecutor.stats() drops a cancelled queued task from the queue at once", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const running = pool.submit(hold, c, "held");
  await startedAtLeast(c, 1);
  const queued = Array.from({ length: 1_000 }, (_, i) => pool.submit((x: number) => x, i));
  assert.equal(pool.stats().queued, 1_000);
  // Cancelled from the middle and both ends.
  for (const [i, future] of queued.entries()) {
    if (i % 3 !== 1) assert.equal(future.cancel(), true);
  }
  assert.equal(pool.stats().queued, 333);
  release(c);
  assert.equal(await running, "held");
  const kept = queued.filter((_, i) => i % 3 === 1);
  assert.deepEqual(await Promise.all(kept), kept.map((_, j) => 3 * j + 1));
  assert.equal(pool.stats().queued, 0);
});

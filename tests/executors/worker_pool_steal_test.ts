import assert from "node:assert/strict";
import { wait, WorkerPoolExecutor } from "../../mod.ts";
import { add, cell, spinUntilReleased } from "../fixtures/tasks.ts";
import { release, startedAtLeast, TASKS } from "./_worker_helpers.ts";

Deno.test("WorkerPoolExecutor gives tasks queued behind a busy worker to an idle one", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 2, modules: [TASKS] });
  // Tiny tasks teach the pool to keep many tasks in flight on each worker.
  await Promise.all(Array.from({ length: 200 }, (_, i) => pool.submit(add, i, 1)));
  const gate = cell();
  const blocker = pool.submit(spinUntilReleased, gate);
  try {
    const behind = Array.from({ length: 100 }, (_, i) => pool.submit(add, i, 1));
    await startedAtLeast(gate, 1);
    // Some of these were sent to the worker that is now stuck; the other worker takes them back.
    const { notDone } = await wait(behind, { timeout: 10_000 });
    assert.equal(notDone.size, 0, "no task waits behind the busy worker while another is idle");
    assert.equal(blocker.state, "running");
    for (const [i, future] of behind.entries()) assert.equal(await future, i + 1);
  } finally {
    release(gate);
  }
  assert.equal(await blocker, "released");
});

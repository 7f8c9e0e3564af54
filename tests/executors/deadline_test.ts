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

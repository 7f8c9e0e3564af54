import assert from "node:assert/strict";
import { TimeoutError, wait, WorkerCrashedError, WorkerPoolExecutor } from "../../mod.ts";
import { chaosTask, Plan, planFor } from "../fixtures/chaos_tasks.ts";

const TASKS = 10_000;

Deno.test("WorkerPoolExecutor settles 10k tasks exactly once while 1% crash and 1% hang", async () => {
  const attempts = new Int32Array(new SharedArrayBuffer(TASKS * 4));
  const settled = new Int32Array(TASKS);
  const pool = new WorkerPoolExecutor({
    maxWorkers: 2,
    modules: [new URL("../fixtures/chaos_tasks.ts", import.meta.url)],
    restartLimit: { max: 10_000, within: 60_000 },
    // Crashes come every few milliseconds here: replace workers without the default backoff.
    restartBackoff: { min: 1, max: 5 },
  });
  try {
    const resilient = pool.with({
      timeout: 100,
      retry: { maxAttempts: 3, backoff: { initial: 1, max: 4 } },
    });
    const futures = Array.from({ length: TASKS }, (_, i) => {
      const future = resilient.submit(chaosTask, i, planFor(i), attempts);
      future.addDoneCallback(() => settled[i]!++);
      return future;
    });
    const { notDone } = await wait(futures);
    assert.equal(notDone.size, 0);

    const wrong: string[] = [];
    let poison = 0;
    for (const [i, future] of futures.entries()) {
      const plan = planFor(i);
      const error = await future.exception();
      if (plan === Plan.CrashAlways) {
        // Every run crashes. On a loaded machine an attempt can also time out, before its task
        // runs or after it started and before its crash is seen: that attempt is a timeout, not a
        // crash. So a run count does not tell how many crashes there were; two make it a poison
        // task, whichever attempts they were.
        const runs = attempts[i]!;
        if (error instanceof WorkerCrashedError) {
          if (error.exitCode !== 7) wrong.push(`${i}: exitCode ${error.exitCode}`);
          if (/poison/.test(error.message)) poison++;
        } else if (!(error instanceof TimeoutError)) {
          wrong.push(`${i}: ran ${runs} times, expected a crash or a timeout, got ${error}`);
        }
      } else if (error !== undefined) {
        wrong.push(`${i} (plan ${plan}): ${error}`);
      } else if ((await future) !== i * 2) {
        wrong.push(`${i}: wrong value ${await future}`);
      }
    }
    assert.deepEqual(wrong.slice(0, 10), []);
    assert.ok(poison > 0, "tasks that crash every time end as poison tasks");
    assert.ok(settled.every((n) => n === 1), "every future settles exactly once");

    const stats = pool.stats();
    assert.ok(stats.crashed >= TASKS / 100, `crashed ${stats.crashed}`);
    assert.equal(stats.queued, 0);
    assert.equal(stats.running, 0);
    // Items planned to crash or hang once took at least two attempts: the failed one was
    // retried. (On a loaded machine any task may also time out once and be retried.) No task ran
    // more often than its 3 attempts.
    for (let i = 0; i < TASKS; i++) {
      const plan = planFor(i);
      const n = attempts[i]!;
      const ok = n <= 3 &&
        (plan === Plan.CrashAlways ? true : plan === Plan.Answer ? n >= 1 : n >= 2);
      if (!ok) wrong.push(`${i} (plan ${plan}): ${n} attempts`);
    }
    assert.deepEqual(wrong.slice(0, 10), []);
  } finally {
    await pool.shutdown();
  }
  const after = pool.stats();
  assert.equal(after.workers.total, 0);
  assert.equal(after.workers.retiring, 0);
  assert.equal(after.workers.spinning, 0);
});

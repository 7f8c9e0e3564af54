/**
 * A soak test of the supervisor: many tasks on a `WorkerPoolExecutor` while about 1% crash their
 * worker (a tenth of those on every attempt: poison tasks) and about 1% hang past their timeout
 * once, with retries on. It reports throughput, how many futures settled and how (a future that
 * never settles is "lost" and must be 0), and memory before and after.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc bench/chaos_soak.ts    # 100,000 tasks
 * deno run -A --v8-flags=--expose-gc bench/chaos_soak.ts --tasks 20000 --json
 * ```
 *
 * The heap is read after a full collection, which `--expose-gc` allows; without it the figure
 * after includes whatever garbage is left, and the report says so.
 *
 * ```sh
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { wait, WorkerCrashedError, WorkerPoolExecutor } from "../mod.ts";
import { chaosTask, Plan, planFor } from "../tests/fixtures/chaos_tasks.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    tasks: { type: "string", default: "100000" },
    workers: { type: "string", default: "2" },
    timeout: { type: "string", default: "250" },
    json: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(
    "Usage: deno run -A bench/chaos_soak.ts [--tasks N] [--workers N] [--timeout ms] [--json]",
  );
  Deno.exit(0);
}
const tasks = Number(values.tasks);
const workers = Number(values.workers);
const timeout = Number(values.timeout);

function memory(): { rssMiB: number; heapMiB: number } {
  const { rss, heapUsed } = Deno.memoryUsage();
  return { rssMiB: rss / 2 ** 20, heapMiB: heapUsed / 2 ** 20 };
}

// deno-lint-ignore no-explicit-any
const gc = (globalThis as any).gc as (() => void) | undefined;
gc?.();
const before = memory();
const attempts = new Int32Array(new SharedArrayBuffer(tasks * 4));
const settledTimes = new Uint8Array(tasks);
const pool = new WorkerPoolExecutor({
  maxWorkers: workers,
  modules: [new URL("../tests/fixtures/chaos_tasks.ts", import.meta.url)],
  restartLimit: { max: tasks, within: 60_000 },
  restartBackoff: { min: 1, max: 5 },
});
const resilient = pool.with({
  timeout,
  retry: { maxAttempts: 3, backoff: { initial: 1, max: 4 } },
});
const start = performance.now();
const futures = Array.from({ length: tasks }, (_, i) => {
  const future = resilient.submit(chaosTask, i, planFor(i), attempts);
  future.addDoneCallback(() => settledTimes[i]!++);
  return future;
});
await wait(futures);
const seconds = (performance.now() - start) / 1000;

let ok = 0, poison = 0, wrong = 0;
for (const [i, future] of futures.entries()) {
  const error = await future.exception();
  if (error === undefined && (await future) === i * 2) ok++;
  else if (planFor(i) === Plan.CrashAlways && error instanceof WorkerCrashedError) poison++;
  else wrong++;
}
const stats = pool.stats();
await pool.shutdown();
futures.length = 0;
gc?.();
const after = memory();
const settled = settledTimes.filter((n) => n === 1).length;
const report = {
  tasks,
  workers,
  seconds,
  tasksPerSecond: tasks / seconds,
  settled,
  settledTwice: settledTimes.filter((n) => n > 1).length,
  lost: tasks - settledTimes.filter((n) => n > 0).length,
  ok,
  poison,
  wrong,
  crashed: stats.crashed,
  restarts: stats.restarts,
  workersAfterShutdown: pool.stats().workers.total,
  memoryBefore: before,
  memoryAfter: after,
};
if (values.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(
    `chaos soak: ${tasks} tasks on ${workers} workers, timeout ${timeout} ms, 3 attempts`,
  );
  console.log(`  ${seconds.toFixed(1)} s, ${report.tasksPerSecond.toFixed(0)} tasks/s`);
  console.log(
    `  settled once ${settled}, twice ${report.settledTwice}, lost ${report.lost}; ok ${ok}, poison ${poison}, wrong ${wrong}`,
  );
  console.log(
    `  worker crashes ${stats.crashed}, restarts ${stats.restarts}, workers after shutdown ${report.workersAfterShutdown}`,
  );
  console.log(
    `  memory: rss ${before.rssMiB.toFixed(0)} → ${after.rssMiB.toFixed(0)} MiB, heap ${
      before.heapMiB.toFixed(1)
    } → ${after.heapMiB.toFixed(1)} MiB${
      gc ? " after a full GC" : " (no full GC: run with --v8-flags=--expose-gc)"
    }`,
  );
}
if (report.lost > 0 || report.wrong > 0 || report.settledTwice > 0) Deno.exit(1);

#!/usr/bin/env -S deno run -A
/**
 * The submit hot path, for a CPU profile: rounds of N tiny tasks submitted then awaited all, on
 * one side at a time, so that the profile holds that side alone.
 *
 * ```sh
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile_submit.ts worker
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile_submit.ts sequential 20000
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile_submit.ts async
 * deno run -A --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile_submit.ts plimit
 * deno run -A bench/_cpuprofile_top.ts /tmp/prof/*.cpuprofile
 * ```
 *
 * Sides: `worker` (WorkerPoolExecutor, 2 workers, `add(i, 1)`), `sequential` (the same pool,
 * each `await pool.submit(add, i, 1)` before the next: the round trip), `async` (AsyncPoolExecutor with
 * `maxWorkers: 10`, a no-op async task, as in `async_pool_bench.ts`) and `plimit` (p-limit with
 * the same concurrency). Arguments after the side: tasks per round (default 100000), rounds
 * (default 5, the first one a warm-up that is not reported).
 *
 * @module
 */

// deno-lint-ignore no-import-prefix
import pLimit from "npm:p-limit@6.2.0";
import { AsyncPoolExecutor, WorkerPoolExecutor } from "../mod.ts";
import { add } from "./_worker_tasks.ts";

const USAGE =
  "Usage: deno run -A [--cpu-prof] bench/profile_submit.ts worker|sequential|async|plimit " +
  "[tasks=100000] [rounds=5]";

const noop = async (): Promise<void> => {};

async function main([side, tasksArg = "100000", roundsArg = "5"]: string[]): Promise<void> {
  const tasks = Number(tasksArg);
  const rounds = Number(roundsArg);
  if (!Number.isInteger(tasks) || tasks < 1 || !Number.isInteger(rounds) || rounds < 2) {
    console.error(USAGE);
    Deno.exit(2);
  }
  let round: () => Promise<unknown>;
  let close = (): Promise<void> => Promise.resolve();
  if (side === "worker" || side === "sequential") {
    const pool = new WorkerPoolExecutor({
      maxWorkers: 2,
      modules: [new URL("./_worker_tasks.ts", import.meta.url)],
      idleTimeout: 60_000,
    });
    round = side === "worker"
      ? () => {
        const futures: PromiseLike<number>[] = [];
        for (let i = 0; i < tasks; i++) futures.push(pool.submit(add, i, 1));
        return Promise.all(futures);
      }
      : async () => {
        for (let i = 0; i < tasks; i++) await pool.submit(add, i, 1);
      };
    close = () => pool.shutdown();
  } else if (side === "async") {
    const pool = new AsyncPoolExecutor({ maxWorkers: 10 });
    round = () => {
      const futures: PromiseLike<void>[] = [];
      for (let i = 0; i < tasks; i++) futures.push(pool.submit(noop));
      return Promise.all(futures);
    };
    close = () => pool.shutdown();
  } else if (side === "plimit") {
    const limit = pLimit(10);
    round = () => {
      const promises: Promise<void>[] = [];
      for (let i = 0; i < tasks; i++) promises.push(limit(noop));
      return Promise.all(promises);
    };
  } else {
    console.error(USAGE);
    Deno.exit(2);
  }
  const ms: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await round();
    if (r > 0) ms.push(performance.now() - start);
  }
  await close();
  const perTask = ms.map((m) => (m * 1000 / tasks).toFixed(2)).join(", ");
  console.log(`${side}: µs per task in each round after the warm-up: ${perTask}`);
}

if (import.meta.main) await main(Deno.args);

/**
 * `AsyncPoolExecutor` against `p-limit`, side by side in one run.
 *
 * 1. Submit cost: 100k no-op async tasks are submitted, then all awaited with `Promise.all`; the
 *    figure is the time per task, for `pool.submit` and for `limit(fn)` with the same concurrency.
 *    Goal: within 1.3× of p-limit, as the median of the per-round ratios (their range is shown).
 *    A third row waits for the futures with `addDoneCallback` instead, which leaves out the cost
 *    of turning each future into a promise. A fourth runs p-limit with each task inside its own
 *    `AsyncLocalStorage.run()`: the pool runs every task in an async context of its own, so that
 *    a task awaiting one of the pool's futures can give back its slot, and this row shows what
 *    that context costs by itself.
 * 2. Map of sleeps: `pool.map` over 100 sleeps of 300 ms with `maxWorkers: 10`, against the ideal
 *    3.0 s (and p-limit doing the same). Goal: within 5% of the ideal.
 *
 * The machines are shared and their speed drifts, so the two sides alternate round by round and
 * the table gives medians.
 *
 * ```sh
 * deno run -A bench/async_pool_bench.ts
 * deno run -A bench/async_pool_bench.ts --rounds 9 --json
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
// deno-lint-ignore no-import-prefix
import pLimit from "npm:p-limit@6.2.0";
import { AsyncLocalStorage } from "node:async_hooks";
import { AsyncPoolExecutor } from "../mod.ts";

const USAGE = `Usage: deno run -A bench/async_pool_bench.ts [options]

Options:
  --rounds N       rounds of each measurement, alternating the two sides (default 5)
  --tasks N        no-op tasks per submit round (default 100000)
  --concurrency N  maxWorkers / p-limit concurrency for the submit rounds (default 10)
  --skip-sleep     skip the 100 × 300 ms map rounds (about 6 s per round)
  --json           print the results as JSON instead of a table
  -h, --help       show this help`;

const SLEEP_ITEMS = 100;
const SLEEP_MS = 300;
const SLEEP_WORKERS = 10;
const IDEAL_SECONDS = (SLEEP_ITEMS / SLEEP_WORKERS) * SLEEP_MS / 1000;
const SUBMIT_GOAL_RATIO = 1.3;
const MAP_GOAL_OVER = 0.05;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(
      `'--${name}' must be a positive integer: received ${JSON.stringify(value)}`,
    );
  }
  return n;
}

const noop = async (): Promise<void> => {};
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Milliseconds to submit `tasks` no-op tasks to a pool and await them all. */
async function submitPool(tasks: number, concurrency: number): Promise<number> {
  const start = performance.now();
  const pool = new AsyncPoolExecutor({ maxWorkers: concurrency });
  const futures = new Array(tasks);
  for (let i = 0; i < tasks; i++) futures[i] = pool.submit(noop);
  await Promise.all(futures);
  await pool.shutdown();
  return performance.now() - start;
}

/**
 * Milliseconds to submit `tasks` no-op tasks and wait for them with `addDoneCallback`: the pool's
 * own cost, without the promise machinery of `await`ing each future.
 */
async function submitPoolCallbacks(tasks: number, concurrency: number): Promise<number> {
  const start = performance.now();
  const pool = new AsyncPoolExecutor({ maxWorkers: concurrency });
  const { promise, resolve } = Promise.withResolvers<void>();
  let left = tasks;
  const onDone = () => {
    if (--left === 0) resolve();
  };
  for (let i = 0; i < tasks; i++) pool.submit(noop).addDoneCallback(onDone);
  await promise;
  await pool.shutdown();
  return performance.now() - start;
}

/** Milliseconds to run `tasks` no-op tasks through p-limit and await them all. */
async function submitPLimit(tasks: number, concurrency: number): Promise<number> {
  const start = performance.now();
  const limit = pLimit(concurrency);
  const promises = new Array(tasks);
  for (let i = 0; i < tasks; i++) promises[i] = limit(noop);
  await Promise.all(promises);
  return performance.now() - start;
}

/**
 * Milliseconds for p-limit when each task runs in an async context of its own, as the pool's
 * tasks do (`AsyncLocalStorage.run()` per task, in the task's turn).
 */
async function submitPLimitContext(tasks: number, concurrency: number): Promise<number> {
  const start = performance.now();
  const limit = pLimit(concurrency);
  const context = new AsyncLocalStorage<number>();
  const promises = new Array(tasks);
  for (let i = 0; i < tasks; i++) promises[i] = limit(() => context.run(i, noop));
  await Promise.all(promises);
  return performance.now() - start;
}

/** Seconds for `pool.map` over the sleeps. */
async function mapPool(): Promise<number> {
  const start = performance.now();
  await using pool = new AsyncPoolExecutor({ maxWorkers: SLEEP_WORKERS });
  let count = 0;
  for await (const _ of pool.map(sleep, new Array(SLEEP_ITEMS).fill(SLEEP_MS))) count++;
  if (count !== SLEEP_ITEMS) throw new Error(`map yielded ${count} results`);
  return (performance.now() - start) / 1000;
}

/** Seconds for p-limit over the same sleeps, results awaited in input order. */
async function mapPLimit(): Promise<number> {
  const start = performance.now();
  const limit = pLimit(SLEEP_WORKERS);
  const promises = new Array(SLEEP_ITEMS).fill(SLEEP_MS).map((ms) => limit(sleep, ms));
  for (const promise of promises) await promise;
  return (performance.now() - start) / 1000;
}

interface Results {
  deno: string;
  hardwareConcurrency: number;
  rounds: number;
  submit: {
    tasks: number;
    concurrency: number;
    poolUsPerTask: number[];
    poolCallbacksUsPerTask: number[];
    pLimitUsPerTask: number[];
    pLimitContextUsPerTask: number[];
    poolMedianUs: number;
    poolCallbacksMedianUs: number;
    pLimitMedianUs: number;
    pLimitContextMedianUs: number;
    /** Median of the per-round ratios pool / p-limit. */
    ratio: number;
    ratioRange: [number, number];
    /** Median of the per-round ratios pool / p-limit with a context per task. */
    contextRatio: number;
    contextRatioRange: [number, number];
    goalRatio: number;
    ok: boolean;
  };
  map?: {
    items: number;
    sleepMs: number;
    maxWorkers: number;
    idealSeconds: number;
    poolSeconds: number[];
    pLimitSeconds: number[];
    poolMedianSeconds: number;
    pLimitMedianSeconds: number;
    overIdeal: number;
    goalOverIdeal: number;
    ok: boolean;
  };
}

function log(json: boolean, text: string): void {
  if (!json) console.error(text);
}

async function bench(
  rounds: number,
  tasks: number,
  concurrency: number,
  withSleep: boolean,
  json: boolean,
): Promise<Results> {
  const sides = {
    pool: () => submitPool(tasks, concurrency),
    poolCallbacks: () => submitPoolCallbacks(tasks, concurrency),
    pLimit: () => submitPLimit(tasks, concurrency),
    pLimitContext: () => submitPLimitContext(tasks, concurrency),
  };
  const names = Object.keys(sides) as (keyof typeof sides)[];
  const us: Record<keyof typeof sides, number[]> = {
    pool: [],
    poolCallbacks: [],
    pLimit: [],
    pLimitContext: [],
  };
  // One warm-up round of each, not counted: the first round pays for JIT compilation.
  for (const name of names) await sides[name]();
  for (let round = 0; round < rounds; round++) {
    // Rotate which side goes first so that a drift in machine speed hits all alike.
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length]!;
      us[name].push((await sides[name]()) * 1000 / tasks);
    }
    log(
      json,
      `submit round ${round + 1}/${rounds}: pool ${us.pool.at(-1)!.toFixed(3)} µs/task, ` +
        `pool with callbacks ${us.poolCallbacks.at(-1)!.toFixed(3)} µs/task, ` +
        `p-limit ${us.pLimit.at(-1)!.toFixed(3)} µs/task, ` +
        `p-limit with a context per task ${us.pLimitContext.at(-1)!.toFixed(3)} µs/task`,
    );
  }
  const poolMedianUs = median(us.pool);
  const pLimitMedianUs = median(us.pLimit);
  const ratios = us.pool.map((x, i) => x / us.pLimit[i]!);
  const contextRatios = us.pool.map((x, i) => x / us.pLimitContext[i]!);
  const ratio = median(ratios);
  const results: Results = {
    deno: Deno.version.deno,
    hardwareConcurrency: navigator.hardwareConcurrency,
    rounds,
    submit: {
      tasks,
      concurrency,
      poolUsPerTask: us.pool,
      poolCallbacksUsPerTask: us.poolCallbacks,
      pLimitUsPerTask: us.pLimit,
      pLimitContextUsPerTask: us.pLimitContext,
      poolMedianUs,
      poolCallbacksMedianUs: median(us.poolCallbacks),
      pLimitMedianUs,
      pLimitContextMedianUs: median(us.pLimitContext),
      ratio,
      ratioRange: [Math.min(...ratios), Math.max(...ratios)],
      contextRatio: median(contextRatios),
      contextRatioRange: [Math.min(...contextRatios), Math.max(...contextRatios)],
      goalRatio: SUBMIT_GOAL_RATIO,
      ok: ratio <= SUBMIT_GOAL_RATIO,
    },
  };
  if (!withSleep) return results;

  const poolSeconds: number[] = [];
  const pLimitSeconds: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ["pool", "p-limit"] : ["p-limit", "pool"];
    for (const side of order) {
      if (side === "pool") poolSeconds.push(await mapPool());
      else pLimitSeconds.push(await mapPLimit());
    }
    log(
      json,
      `map round ${round + 1}/${rounds}: pool ${poolSeconds.at(-1)!.toFixed(3)} s, ` +
        `p-limit ${pLimitSeconds.at(-1)!.toFixed(3)} s`,
    );
  }
  const poolMedianSeconds = median(poolSeconds);
  const overIdeal = poolMedianSeconds / IDEAL_SECONDS - 1;
  results.map = {
    items: SLEEP_ITEMS,
    sleepMs: SLEEP_MS,
    maxWorkers: SLEEP_WORKERS,
    idealSeconds: IDEAL_SECONDS,
    poolSeconds,
    pLimitSeconds,
    poolMedianSeconds,
    pLimitMedianSeconds: median(pLimitSeconds),
    overIdeal,
    goalOverIdeal: MAP_GOAL_OVER,
    ok: overIdeal <= MAP_GOAL_OVER,
  };
  return results;
}

function range([low, high]: [number, number]): string {
  return `${low.toFixed(2)}–${high.toFixed(2)}`;
}

function table(results: Results): string {
  const { submit, map } = results;
  const rows: string[][] = [
    ["benchmark", "AsyncPoolExecutor", "baseline", "ratio (range)", "goal", ""],
    [
      `submit ${submit.tasks.toLocaleString("en-US")} no-op tasks (x${submit.concurrency})`,
      `${submit.poolMedianUs.toFixed(3)} µs/task`,
      `p-limit ${submit.pLimitMedianUs.toFixed(3)} µs/task`,
      `${submit.ratio.toFixed(2)}x (${range(submit.ratioRange)})`,
      `<= ${submit.goalRatio}x`,
      submit.ok ? "ok" : "MISSED",
    ],
    [
      "  same, waited with addDoneCallback",
      `${submit.poolCallbacksMedianUs.toFixed(3)} µs/task`,
      "",
      `${(submit.poolCallbacksMedianUs / submit.pLimitMedianUs).toFixed(2)}x`,
      "",
      "",
    ],
    [
      "  against p-limit with a context per task",
      "",
      `${submit.pLimitContextMedianUs.toFixed(3)} µs/task`,
      `${submit.contextRatio.toFixed(2)}x (${range(submit.contextRatioRange)})`,
      "",
      "",
    ],
  ];
  if (map) {
    rows.push(
      [
        `map ${map.items} x ${map.sleepMs} ms sleeps (x${map.maxWorkers})`,
        `${map.poolMedianSeconds.toFixed(3)} s`,
        `ideal ${map.idealSeconds.toFixed(3)} s`,
        `${(map.poolMedianSeconds / map.idealSeconds).toFixed(3)}x`,
        `<= ${(1 + map.goalOverIdeal).toFixed(2)}x`,
        map.ok ? "ok" : "MISSED",
      ],
      [
        "  same sleeps through p-limit",
        "",
        `p-limit ${map.pLimitMedianSeconds.toFixed(3)} s`,
        `${(map.pLimitMedianSeconds / map.idealSeconds).toFixed(3)}x`,
        "",
        "",
      ],
    );
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    row.map((cell, c) => c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!)).join("  ")
      .trimEnd();
  return [
    `Deno ${results.deno}, hardwareConcurrency ${results.hardwareConcurrency}, ` +
    `medians of ${results.rounds} rounds (ratios: median and range of the per-round ratios)`,
    line(rows[0]!),
    ...rows.slice(1).map(line),
  ].join("\n");
}

if (import.meta.main) {
  let options: {
    rounds: number;
    tasks: number;
    concurrency: number;
    withSleep: boolean;
    json: boolean;
  };
  try {
    const { values } = parseArgs({
      options: {
        rounds: { type: "string" },
        tasks: { type: "string" },
        concurrency: { type: "string" },
        "skip-sleep": { type: "boolean" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      Deno.exit(0);
    }
    options = {
      rounds: positiveInt("rounds", values.rounds, 5),
      tasks: positiveInt("tasks", values.tasks, 100_000),
      concurrency: positiveInt("concurrency", values.concurrency, 10),
      withSleep: !values["skip-sleep"],
      json: values.json ?? false,
    };
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    Deno.exit(2);
  }
  const results = await bench(
    options.rounds,
    options.tasks,
    options.concurrency,
    options.withSleep,
    options.json,
  );
  console.log(options.json ? JSON.stringify(results, null, 2) : table(results));
}

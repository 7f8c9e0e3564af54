#!/usr/bin/env -S deno run -A
/**
 * How cost grows with the work: for N = 10k, 100k and 1M, the time per item and the heap per
 * queued item of each per-item path.
 *
 * Cases, on `AsyncPoolExecutor` (default `maxWorkers`) and `WorkerPoolExecutor` (2 workers, the
 * trivial task `inc` of `bench/_worker_tasks.ts`), and on one actor (`spawn`):
 *
 * - `submit`: submit N tasks, then `await Promise.all(futures)`;
 * - `map`: iterate `map(inc, items)` to the end, without `chunksize` and with `chunksize: 1000`;
 * - `asCompleted`: submit N tasks, then iterate `asCompleted(futures)` to the end;
 * - `wait`: submit N tasks, then `await wait(futures)`;
 * - `spawn`: N calls queued on one actor, then awaited together;
 * - failures handled late: the `result()` of N failed futures, or N calls to a stopped actor,
 *   collected and then handled together (`Promise.allSettled`), as `Promise.all(items.map(...))`
 *   does. Deno searches a list of the promises that rejected with no handler each time one gets
 *   its handler: promises handed out already rejected made this quadratic.
 *
 * µs/item: the wall time of the N items divided by N, after a warm-up of 10k items on the same
 * executor (the first size is then not charged for the JIT's start); the median of up to 5 runs
 * when a run is short (under 1 s in all), one run otherwise. Heap per queued item: the
 * same N items given to an executor that cannot run them yet (an `AsyncPoolExecutor` with
 * `maxWorkers: 1` whose first task waits on a gate; a `WorkerPoolExecutor` whose workers are held
 * in their `initializer`; an actor whose first call holds its thread), then `gc()` and the growth
 * of `Deno.memoryUsage().heapUsed`, divided by N. For `asCompleted` and `wait` it is what they add
 * on top of the N queued futures (their own bookkeeping per future).
 *
 * Goals (issue 7): µs/item at 1M within 1.5× of µs/item at 10k; under 1 KB of heap per queued
 * item.
 *
 * Each (case, N) runs in its own child process (`--v8-flags=--expose-gc`), so that one case's
 * garbage does not weigh on the next, and with a time budget: `--budget` seconds (default 20) or
 * 60 µs per item, whichever is more (so 60 s at 1M: a linear path at 1M is measured even on a
 * slow, shared machine, a quadratic one is not waited for). A child over budget is ended and its
 * row says "over budget", as do the larger sizes of that case and any size that a clearly
 * superlinear growth measured so far predicts to be over budget. The heap phase comes last
 * and its tasks never run: the child exits after measuring. A default run takes 2 to 6 minutes
 * on 2 cores, depending on the machine's load (the longest when the 1M cases hit their budget).
 *
 * ```sh
 * deno run -A bench/scaling_bench.ts
 * deno run -A bench/scaling_bench.ts --sizes 10000,100000 --cases submit,map
 * deno run -A bench/scaling_bench.ts --help
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { asCompleted, AsyncPoolExecutor, Future, spawn, wait, WorkerPoolExecutor } from "../mod.ts";
import { readMetrics } from "../observe/mod.ts";
import { holdUntilReleased, inc } from "./_worker_tasks.ts";
import type Incrementer from "./_actor_fixture.ts";

const USAGE = `Usage: deno run -A bench/scaling_bench.ts [options]

Time per item and heap per queued item at growing N, one child process per case and size.

Options:
  --sizes LIST   item counts, comma-separated (default 10000,100000,1000000); ratios are to
                 the smallest
  --cases LIST   run only the cases whose name contains one of these words, comma-separated
                 (e.g. "submit,spawn" or "WorkerPool"); default all
  --only memory  measure the heap per queued item alone (no timed runs; the µs columns stay empty)
  --budget S     seconds allowed to one case at one size before it is ended, or 60 µs per
                 item if that is more (default 20)
  -h, --help     show this help`;

const SIZES = [10_000, 100_000, 1_000_000];
const WARMUP = 10_000;
const WORKERS = 2;
const CHUNKSIZE = 1_000;
const GOAL_RATIO = 1.5;
const GOAL_HEAP_BYTES = 1024;
const DEFAULT_BUDGET_S = 20;
const BUDGET_US_PER_ITEM = 60;
const REPEAT_MS = 1_000;
const MAX_REPEATS = 5;
const TASKS_URL = new URL("./_worker_tasks.ts", import.meta.url);
const ACTOR_URL = new URL("./_actor_fixture.ts", import.meta.url);

type Pool = AsyncPoolExecutor | WorkerPoolExecutor;

/**
 * An executor that can run tasks, and one whose tasks stay queued for good: the heap phase is the
 * child's last, and the child exits right after it, gate still closed.
 */
interface Kind {
  name: string;
  ready(): Promise<Pool>;
  gated(): Pool;
}

/** What one child reports. */
interface Measure {
  usPerItem: number;
  heapPerItem: number;
}

const ASYNC: Kind = {
  name: "AsyncPoolExecutor",
  ready: () => Promise.resolve(new AsyncPoolExecutor()),
  gated: () => {
    const pool = new AsyncPoolExecutor({ maxWorkers: 1 });
    pool.submit(() => new Promise<void>(() => {}));
    return pool;
  },
};

const WORKER: Kind = {
  name: "WorkerPoolExecutor",
  ready: async () => {
    const pool = new WorkerPoolExecutor({
      maxWorkers: WORKERS,
      modules: [TASKS_URL],
      idleTimeout: 60_000,
    });
    await Promise.all(Array.from({ length: WORKERS * 4 }, (_, i) => pool.submit(inc, i)));
    return pool;
  },
  gated: () =>
    // Workers held in their initializer never become ready: every task stays in the main
    // thread's queue, which is what is measured.
    new WorkerPoolExecutor({
      maxWorkers: WORKERS,
      modules: [TASKS_URL],
      idleTimeout: 60_000,
      initializer: holdUntilReleased,
      initargs: [new SharedArrayBuffer(8)],
    }),
};

/** One workload on an executor: `start` queues the N items, `finish` awaits them all. */
interface Op {
  name: string;
  /** Queues N items; returns what `measureExtra` and `finish` need. */
  start(pool: Pool, items: number[]): unknown;
  /** What is measured on top of the queued items (asCompleted, wait), before `finish`. */
  extra?(started: unknown): unknown;
  /** Awaits every item; returns how many were seen, which must be N. */
  finish(started: unknown, extra: unknown): Promise<number>;
}

function submitAll(pool: Pool, items: number[]): Future<number>[] {
  const futures: Future<number>[] = [];
  for (const x of items) futures.push(pool.submit(inc, x));
  return futures;
}

async function countMapped(iterator: AsyncIterableIterator<number>): Promise<number> {
  let count = 0;
  for await (const _ of iterator) count++;
  return count;
}

const OPS: Op[] = [
  {
    name: "submit + await all",
    start: submitAll,
    finish: async (futures) => (await Promise.all(futures as Future<number>[])).length,
  },
  {
    name: "map",
    start: (pool, items) => pool.map(inc, items),
    finish: (iterator) => countMapped(iterator as AsyncIterableIterator<number>),
  },
  {
    name: `map, chunksize ${CHUNKSIZE}`,
    start: (pool, items) => pool.map(inc, items, { chunksize: CHUNKSIZE }),
    finish: (iterator) => countMapped(iterator as AsyncIterableIterator<number>),
  },
  {
    name: "asCompleted",
    start: submitAll,
    extra: (futures) => {
      const iterator = asCompleted(futures as Future<number>[]);
      // The first step is taken here so that any lazy set-up is part of what is measured.
      return { iterator, first: iterator.next() };
    },
    finish: async (_, extra) => {
      const { iterator, first } = extra as {
        iterator: AsyncIterableIterator<Future<number>>;
        first: Promise<IteratorResult<Future<number>>>;
      };
      let count = (await first).done ? 0 : 1;
      for await (const _ of iterator) count++;
      return count;
    },
  },
  {
    name: "wait",
    start: submitAll,
    extra: (futures) => wait(futures as Future<number>[]),
    finish: async (_, extra) => (await (extra as ReturnType<typeof wait<number>>)).done.size,
  },
];

/** Every case: name and how its child measures it. */
const CASES: { name: string; run: (n: number) => Promise<Measure> }[] = [
  ...[ASYNC, WORKER].flatMap((kind) =>
    OPS.map((op) => ({
      name: `${kind.name} ${op.name}`,
      run: (n: number) => poolCase(kind, op, n),
    }))
  ),
  { name: "spawn: calls queued on one actor", run: actorCase },
  { name: "AsyncPoolExecutor observed: N tasks in flight at once", run: observedWideCase },
  { name: "failed futures: result() of each, then handled together", run: failedResultsCase },
  { name: "spawn: calls to a stopped actor, then handled together", run: stoppedActorCase },
];

// --- measuring, in the child ---

const gc = (globalThis as { gc?: () => void }).gc;
/** What the heap phase measured, kept reachable until the child exits. */
const keepAlive: unknown[] = [];

/** The heap in use after a full collection, once pending callbacks have run. */
async function settledHeap(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 0));
  gc?.();
  gc?.();
  return Deno.memoryUsage().heapUsed;
}

function range(n: number): number[] {
  // push(), not new Array(n): above 100k elements the latter starts as a slow dictionary.
  const items: number[] = [];
  for (let i = 0; i < n; i++) items.push(i);
  return items;
}

/**
 * µs per item of `run` over `n` items: the median of runs repeated until they add up to
 * `REPEAT_MS` (at most `MAX_REPEATS`), so that the small sizes are not a single noisy sample.
 */
async function timedMedian(n: number, run: () => Promise<void>): Promise<number> {
  const samples: number[] = [];
  let total = 0;
  while (samples.length < MAX_REPEATS && (samples.length === 0 || total < REPEAT_MS)) {
    await settledHeap();
    const start = performance.now();
    await run();
    const ms = performance.now() - start;
    total += ms;
    samples.push(ms * 1000 / n);
  }
  samples.sort((a, b) => a - b);
  const mid = samples.length >> 1;
  return samples.length % 2 ? samples[mid]! : (samples[mid - 1]! + samples[mid]!) / 2;
}

async function runOp(op: Op, pool: Pool, items: number[]): Promise<void> {
  const started = op.start(pool, items);
  const seen = await op.finish(started, op.extra?.(started));
  if (seen !== items.length) throw new Error(`${op.name}: saw ${seen} of ${items.length} items`);
}

/** Set in a child run with `--only memory`: the timed phase is skipped. */
let memoryOnly = false;

async function poolCase(kind: Kind, op: Op, n: number): Promise<Measure> {
  let usPerItem = NaN;
  if (!memoryOnly) {
    await using pool = await kind.ready();
    await runOp(op, pool, range(WARMUP));
    const items = range(n);
    usPerItem = await timedMedian(n, () => runOp(op, pool, items));
  }
  const items = range(n);
  const pool = kind.gated();
  let extra: unknown;
  let before = await settledHeap();
  const started = op.start(pool, items);
  if (op.extra) {
    before = await settledHeap();
    extra = op.extra(started);
  }
  const heapPerItem = (await settledHeap() - before) / n;
  keepAlive.push(pool, started, extra);
  return { usPerItem, heapPerItem };
}

function callAll(actor: { inc(x: number): Promise<number> }, items: number[]) {
  const results: Promise<number>[] = [];
  for (const x of items) results.push(actor.inc(x));
  return results;
}

async function actorCase(n: number): Promise<Measure> {
  let usPerItem = NaN;
  if (!memoryOnly) {
    await using actor = await spawn<Incrementer>(ACTOR_URL);
    await Promise.all(callAll(actor, range(WARMUP)));
    const items = range(n);
    usPerItem = await timedMedian(n, async () => {
      const seen = (await Promise.all(callAll(actor, items))).length;
      if (seen !== n) throw new Error(`spawn: saw ${seen} of ${n} calls`);
    });
  }
  // Never stopped: a stop would wait for the held call. The child exits after this phase.
  const actor = await spawn<Incrementer>(ACTOR_URL);
  const gate = new SharedArrayBuffer(8);
  const held = actor.hold(gate);
  const cells = new Int32Array(gate);
  // The actor's thread is held once it has counted itself in cell 1.
  while (Atomics.load(cells, 1) === 0) await Atomics.waitAsync(cells, 1, 0, 1000).value;
  const items = range(n);
  const before = await settledHeap();
  const calls = callAll(actor, items);
  const heapPerItem = (await settledHeap() - before) / n;
  keepAlive.push(actor, held, calls);
  return { usPerItem, heapPerItem };
}

/**
 * N tasks in flight at once on one `AsyncPoolExecutor` (`maxWorkers: N`) whose metrics are read:
 * each start takes an event-loop slot of the recorder. Heap per item: N tasks queued on such a
 * pool (`maxWorkers: 1`, its first task waiting on a gate), as for the other cases.
 */
async function observedWideCase(n: number): Promise<Measure> {
  const observed = (maxWorkers: number) => {
    const pool = new AsyncPoolExecutor({ maxWorkers });
    readMetrics([pool]);
    return pool;
  };
  let usPerItem = NaN;
  if (!memoryOnly) {
    usPerItem = await timedMedian(n, async () => {
      const pool = observed(n);
      const gate = Promise.withResolvers<void>();
      const futures: Future<number>[] = [];
      for (let i = 0; i < n; i++) {
        futures.push(pool.submit(async (x: number) => (await gate.promise, x), i));
      }
      // Every task has started (they wait on the gate) before it opens.
      await new Promise((resolve) => setTimeout(resolve, 0));
      gate.resolve();
      const seen = (await Promise.all(futures)).length;
      await pool.shutdown();
      if (seen !== n) throw new Error(`observed: saw ${seen} of ${n} tasks`);
    });
  }
  const pool = observed(1);
  pool.submit(() => new Promise<void>(() => {}));
  const items = range(n);
  const before = await settledHeap();
  const futures = submitAll(pool, items);
  const heapPerItem = (await settledHeap() - before) / n;
  keepAlive.push(pool, futures);
  return { usPerItem, heapPerItem };
}

/**
 * N promises that fail, made by `make` and handled together once all are made (as
 * `Promise.allSettled(items.map(...))` does): µs per item, and heap per promise.
 */
async function failuresHandledLate(
  n: number,
  make: (i: number) => Promise<unknown>,
): Promise<Measure> {
  let usPerItem = NaN;
  if (!memoryOnly) {
    usPerItem = await timedMedian(n, async () => {
      const promises: Promise<unknown>[] = [];
      for (let i = 0; i < n; i++) promises.push(make(i));
      const settled = await Promise.allSettled(promises);
      const failed = settled.filter((s) => s.status === "rejected").length;
      if (failed !== n) throw new Error(`saw ${failed} of ${n} failures`);
    });
  }
  // Heap: the promises held, handled (as `allSettled` handles them) before the heap is read.
  const before = await settledHeap();
  const promises: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) promises.push(make(i));
  const handled = Promise.allSettled(promises);
  const heapPerItem = (await settledHeap() - before) / n;
  await handled;
  keepAlive.push(promises);
  return { usPerItem, heapPerItem };
}

function failedResultsCase(n: number): Promise<Measure> {
  const error = new Error("failed");
  return failuresHandledLate(n, () => {
    const future = new Future<number>();
    future.setException(error);
    return future.result();
  });
}

async function stoppedActorCase(n: number): Promise<Measure> {
  const actor = await spawn<Incrementer>(ACTOR_URL);
  await actor.stop();
  return failuresHandledLate(n, (i) => actor.inc(i));
}

// --- the parent: children, budget, table ---

type Outcome =
  | { kind: "measured"; measure: Measure }
  | { kind: "over budget"; note: string }
  | { kind: "failed"; note: string };

async function runChild(
  name: string,
  n: number,
  budgetMs: number,
  only: string[],
): Promise<Outcome> {
  const signal = AbortSignal.timeout(budgetMs);
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        new URL(import.meta.url).pathname,
        "--child",
        name,
        "--n",
        String(n),
        ...only,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).output();
  } catch (error) {
    if (signal.aborted) return { kind: "over budget", note: `ended after ${budgetMs / 1000} s` };
    return { kind: "failed", note: error instanceof Error ? error.message : String(error) };
  }
  if (output.signal && signal.aborted) {
    return { kind: "over budget", note: `ended after ${budgetMs / 1000} s` };
  }
  if (!output.success) {
    const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-3).join(" | ");
    return { kind: "failed", note: `exit code ${output.code}: ${stderr}` };
  }
  const line = new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!;
  const measure = JSON.parse(line) as Measure;
  // JSON has no NaN: an untimed child (`--only memory`) reports null.
  measure.usPerItem ??= NaN;
  return { kind: "measured", measure };
}

/**
 * The time a child would take at size `n` when the per-item cost measured so far grows clearly
 * faster than linearly (at least √10× per 10× items between the last two sizes), else undefined:
 * a path that is merely slow is run, and ended by the budget if need be. The child runs the items
 * a little more than once (the timed run, then the heap phase's submissions).
 */
function predictMs(measured: { n: number; usPerItem: number }[], n: number): number | undefined {
  const [previous, last] = measured.slice(-2);
  if (!previous || !last) return undefined;
  const growth = Math.log(last.usPerItem / previous.usPerItem) / Math.log(last.n / previous.n);
  if (!(growth >= 0.5)) return undefined;
  return 1.3 * n * last.usPerItem * (n / last.n) ** growth / 1000;
}

interface Row {
  name: string;
  n: number;
  outcome: Outcome;
  ratio?: number;
}

function fmtN(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1_000 && n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}

function cells(row: Row, smallest: number): string[] {
  const { outcome } = row;
  if (outcome.kind !== "measured") {
    return [row.name, fmtN(row.n), outcome.kind, "", "", `NO (${outcome.note})`];
  }
  const { usPerItem, heapPerItem } = outcome.measure;
  const heapMet = heapPerItem < GOAL_HEAP_BYTES;
  // Not timed (`--only memory`): only the heap goal is judged.
  const ratioMet = row.n === smallest || Number.isNaN(usPerItem) || row.ratio! <= GOAL_RATIO;
  return [
    row.name,
    fmtN(row.n),
    Number.isNaN(usPerItem) ? "" : usPerItem.toFixed(2),
    Number.isNaN(usPerItem) ? "" : row.ratio!.toFixed(2),
    Math.round(heapPerItem).toString(),
    heapMet && ratioMet
      ? "yes"
      : `NO (${[!ratioMet && "time", !heapMet && "heap"].filter(Boolean).join(", ")})`,
  ];
}

function markdown(rows: string[][], head: string[]): string {
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  const rule = `|${
    widths.map((w, c) => (c >= 1 && c <= 4 ? `${"-".repeat(w + 1)}:` : "-".repeat(w + 2))).join("|")
  }|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

function parseList(flag: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const list = value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (list.length === 0) throw new RangeError(`'--${flag}' must not be empty: received "${value}"`);
  return list;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`'--${flag}' must be positive integers: received "${value}"`);
  }
  return n;
}

async function parent(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      sizes: { type: "string" },
      cases: { type: "string" },
      budget: { type: "string" },
      only: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return console.log(USAGE);
  const sizes = (parseList("sizes", values.sizes)?.map((s) => positiveInt("sizes", s)) ?? SIZES)
    .sort((a, b) => a - b);
  const budgetS = values.budget === undefined ? DEFAULT_BUDGET_S : Number(values.budget);
  if (!(budgetS > 0)) {
    throw new RangeError(`'--budget' must be a positive number: received "${values.budget}"`);
  }
  if (values.only !== undefined && values.only !== "memory") {
    throw new RangeError(`'--only' must be "memory": received "${values.only}"`);
  }
  const only = values.only === undefined ? [] : ["--only", values.only];
  const words = parseList("cases", values.cases)?.map((w) => w.toLowerCase());
  const cases = CASES.filter((c) => !words || words.some((w) => c.name.toLowerCase().includes(w)));
  if (cases.length === 0) {
    throw new RangeError(
      `'--cases' matched none of: ${
        CASES.map((c) => c.name).join("; ")
      }: received "${values.cases}"`,
    );
  }
  const smallest = sizes[0]!;
  const began = performance.now();
  const rows: Row[] = [];
  for (const { name } of cases) {
    const measured: { n: number; usPerItem: number }[] = [];
    let over: string | undefined;
    for (const n of sizes) {
      let outcome: Outcome;
      const predicted = predictMs(measured, n);
      const budgetMs = Math.max(budgetS * 1000, n * BUDGET_US_PER_ITEM / 1000);
      if (over) outcome = { kind: "over budget", note: `not run: ${over}` };
      else if (predicted !== undefined && predicted > budgetMs) {
        outcome = {
          kind: "over budget",
          note: `not run: predicted ${(predicted / 1000).toFixed(0)} s from the smaller sizes`,
        };
      } else outcome = await runChild(name, n, budgetMs, only);
      if (outcome.kind === "measured") {
        measured.push({ n, usPerItem: outcome.measure.usPerItem });
      } else if (!over) over = `${fmtN(n)} was ${outcome.kind}`;
      const base = measured.find((m) => m.n === smallest);
      const ratio = outcome.kind === "measured" && base
        ? outcome.measure.usPerItem / base.usPerItem
        : undefined;
      const row = { name, n, outcome, ratio };
      rows.push(row);
      console.error(`  ${cells(row, smallest).join("  ")}`);
    }
  }
  const head = [
    "case",
    "N",
    "µs/item",
    `ratio to ${fmtN(smallest)}`,
    "heap bytes/queued item",
    "goal met",
  ];
  const met = rows.filter((r) => cells(r, smallest)[5] === "yes").length;
  console.log(
    [
      `Deno ${Deno.version.deno} (V8 ${Deno.version.v8}), hardwareConcurrency ` +
      `${navigator.hardwareConcurrency}, ${WORKERS} workers per WorkerPoolExecutor, budget ` +
      `max(${budgetS} s, ${BUDGET_US_PER_ITEM} µs × N) per case and size, load average ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }`,
      "",
      markdown(rows.map((r) => cells(r, smallest)), head),
      "",
      `Goals: µs/item within ${GOAL_RATIO}x of the ${fmtN(smallest)} figure, and under ` +
      `${GOAL_HEAP_BYTES} bytes of heap per queued item. Met: ${met} of ${rows.length} rows. ` +
      `Run took ${((performance.now() - began) / 1000).toFixed(0)} s.`,
    ].join("\n"),
  );
}

async function child(name: string, n: number): Promise<void> {
  const found = CASES.find((c) => c.name === name);
  if (!found) throw new RangeError(`'--child' must name a case: received "${name}"`);
  console.log(JSON.stringify(await found.run(n)));
  // The heap phase leaves its executor held, its tasks queued for good: end here.
  Deno.exit(0);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { child: { type: "string" }, n: { type: "string" }, only: { type: "string" } },
    strict: false,
  });
  memoryOnly = values.only === "memory";
  try {
    if (typeof values.child === "string") {
      await child(values.child, positiveInt("n", String(values.n)));
    } else await parent(Deno.args);
  } catch (error) {
    if (!(error instanceof RangeError || error instanceof TypeError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    Deno.exit(2);
  }
}

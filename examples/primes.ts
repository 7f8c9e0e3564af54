/**
 * Counts the primes below a limit, split into chunks, on the main thread, on an
 * `AsyncPoolExecutor`, and on a `WorkerPoolExecutor` with 1 … N workers, and prints how the time
 * scales. The lesson of Python's `concurrent.futures` docs, in Deno: an event loop (like threads
 * under the GIL) gives CPU-bound work no speedup; workers do.
 *
 * ```sh
 * deno run -A examples/primes.ts                  # 10,000,000 (664,579 primes), 16 chunks
 * deno run -A examples/primes.ts --limit 2000000 --chunks 8 --workers 4
 * deno run -A examples/primes.ts --json           # machine-readable results
 * deno run -A examples/primes.ts --help
 * ```
 *
 * Example output (the end of it; one run on a shared 2-core VM, figures move from run to run):
 *
 * ```text
 * Primes below 10,000,000: 664,579
 *
 * executor            workers  seconds  speedup  efficiency
 * main thread               1     1.71    1.00x        100%
 * AsyncPoolExecutor         2     2.02    0.85x         42%
 * WorkerPoolExecutor        1     1.58    1.08x        108%
 * WorkerPoolExecutor        2     1.02    1.68x         84%
 * ```
 *
 * @module
 */

import { asCompleted, AsyncPoolExecutor, type Executor, WorkerPoolExecutor } from "../mod.ts";
import { countPrimes } from "./primes_tasks.ts";
import { commandLine, Progress, table } from "./_cli.ts";

interface Run {
  executor: string;
  workers: number;
  seconds: number;
  primes: number;
  speedup: number;
  efficiency: number;
}

const COMMAND = {
  name: "primes.ts",
  summary:
    "Counts the primes below a limit on the main thread, on an AsyncPoolExecutor and on a\n" +
    "WorkerPoolExecutor with 1 … N workers, and prints how the time scales.",
  flags: {
    limit: { type: "integer", min: 1, default: 10_000_000, help: "count the primes below N" },
    chunks: { type: "integer", min: 1, default: 16, help: "split the range into N chunks" },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "try 1 … N workers",
    },
    json: { type: "boolean", help: "print the results as JSON only" },
  },
} as const;

/** The `[from, to)` ranges that cover `[0, limit)` in `chunks` pieces. */
function ranges(limit: number, chunks: number): [number, number][] {
  const size = Math.ceil(limit / chunks);
  const out: [number, number][] = [];
  for (let from = 0; from < limit; from += size) out.push([from, Math.min(limit, from + size)]);
  return out;
}

/** Submits every chunk to `executor` and sums the counts as they complete. */
async function countOn(
  executor: Executor,
  chunks: [number, number][],
  label: string,
  quiet: boolean,
): Promise<number> {
  const futures = chunks.map(([from, to]) => executor.submit(countPrimes, from, to));
  const bar = quiet ? undefined : new Progress(label.padEnd(28), futures.length);
  let total = 0;
  for await (const future of asCompleted(futures)) {
    total += await future;
    bar?.tick();
  }
  return total;
}

async function timed(fn: () => Promise<number>): Promise<[number, number]> {
  const start = performance.now();
  const primes = await fn();
  return [primes, (performance.now() - start) / 1000];
}

async function main(): Promise<void> {
  const values = commandLine(COMMAND);
  const { limit, workers: maxWorkers } = values;
  const chunkCount = values.chunks;
  const quiet = values.json;
  const chunks = ranges(limit, chunkCount);
  const runs: Run[] = [];
  const record = (executor: string, workers: number, primes: number, seconds: number) => {
    const base = runs[0]?.seconds ?? seconds;
    runs.push({
      executor,
      workers,
      seconds,
      primes,
      speedup: base / seconds,
      efficiency: base / seconds / workers,
    });
  };

  if (!quiet) {
    console.log(
      `Counting the primes below ${
        limit.toLocaleString("en")
      } in ${chunks.length} chunks, on ${navigator.hardwareConcurrency} cores\n`,
    );
  }

  const [mainPrimes, mainSeconds] = await timed(() => {
    const bar = quiet ? undefined : new Progress("main thread".padEnd(28), chunks.length);
    let total = 0;
    for (const [from, to] of chunks) {
      total += countPrimes(from, to);
      bar?.tick();
    }
    return Promise.resolve(total);
  });
  record("main thread", 1, mainPrimes, mainSeconds);

  {
    await using pool = new AsyncPoolExecutor({ maxWorkers });
    const [primes, seconds] = await timed(() =>
      countOn(pool, chunks, `AsyncPoolExecutor (${maxWorkers})`, quiet)
    );
    record("AsyncPoolExecutor", maxWorkers, primes, seconds);
  }

  for (let workers = 1; workers <= maxWorkers; workers++) {
    await using pool = new WorkerPoolExecutor({
      maxWorkers: workers,
      modules: [new URL("./primes_tasks.ts", import.meta.url)],
    });
    // Start the workers first, so that the timing measures the counting.
    await Promise.all(
      Array.from({ length: workers }, () => pool.submit(countPrimes, 0, 1)),
    );
    const [primes, seconds] = await timed(() =>
      countOn(pool, chunks, `WorkerPoolExecutor (${workers})`, quiet)
    );
    record("WorkerPoolExecutor", workers, primes, seconds);
  }

  const wrong = runs.filter((run) => run.primes !== mainPrimes);
  if (values.json) {
    console.log(
      JSON.stringify({ limit, chunks: chunks.length, primes: mainPrimes, runs }, null, 2),
    );
  } else {
    console.log(`Primes below ${limit.toLocaleString("en")}: ${mainPrimes.toLocaleString("en")}\n`);
    console.log(table(
      ["executor", "workers", "seconds", "speedup", "efficiency"],
      runs.map((run) => [
        run.executor,
        run.workers,
        run.seconds.toFixed(2),
        `${run.speedup.toFixed(2)}x`,
        `${(run.efficiency * 100).toFixed(0)}%`,
      ]),
    ));
  }
  if (wrong.length > 0) {
    console.error(
      `Mismatch: ${wrong.map((r) => `${r.executor} (${r.workers}) counted ${r.primes}`)}`,
    );
    Deno.exit(1);
  }
}

await main();

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
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { asCompleted, AsyncPoolExecutor, type Executor, WorkerPoolExecutor } from "../mod.ts";
import { countPrimes } from "./primes_tasks.ts";

interface Run {
  executor: string;
  workers: number;
  seconds: number;
  primes: number;
  speedup: number;
  efficiency: number;
}

const HELP = `Usage: deno run -A examples/primes.ts [options]

  --limit N     count the primes below N          (default 10000000)
  --chunks N    split the range into N chunks     (default 16)
  --workers N   try 1 … N workers                 (default navigator.hardwareConcurrency)
  --json        print the results as JSON only
  --help        show this help`;

function positiveInt(name: string, text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a positive integer: received ${text}`);
    Deno.exit(2);
  }
  return value;
}

/** The `[from, to)` ranges that cover `[0, limit)` in `chunks` pieces. */
function ranges(limit: number, chunks: number): [number, number][] {
  const size = Math.ceil(limit / chunks);
  const out: [number, number][] = [];
  for (let from = 0; from < limit; from += size) out.push([from, Math.min(limit, from + size)]);
  return out;
}

const encoder = new TextEncoder();
const drawBars = Deno.stderr.isTerminal();

/** Draws a progress bar on stderr (only on a terminal: a log would fill with redraws). */
function progress(label: string, done: number, total: number, quiet: boolean): void {
  if (quiet || !drawBars) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  const bar = "█".repeat(filled) + "░".repeat(width - filled);
  const text = `\r  ${label.padEnd(28)} ${bar} ${String(done).padStart(3)}/${total}`;
  Deno.stderr.writeSync(encoder.encode(text + (done === total ? "\r\x1b[2K" : "")));
}

/** Submits every chunk to `executor` and sums the counts as they complete. */
async function countOn(
  executor: Executor,
  chunks: [number, number][],
  label: string,
  quiet: boolean,
): Promise<number> {
  const futures = chunks.map(([from, to]) => executor.submit(countPrimes, from, to));
  let total = 0;
  let done = 0;
  progress(label, 0, futures.length, quiet);
  for await (const future of asCompleted(futures)) {
    total += await future;
    progress(label, ++done, futures.length, quiet);
  }
  return total;
}

async function timed(fn: () => Promise<number>): Promise<[number, number]> {
  const start = performance.now();
  const primes = await fn();
  return [primes, (performance.now() - start) / 1000];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      limit: { type: "string", default: "10000000" },
      chunks: { type: "string", default: "16" },
      workers: { type: "string", default: String(navigator.hardwareConcurrency || 1) },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return console.log(HELP);
  const limit = positiveInt("limit", values.limit);
  const chunkCount = positiveInt("chunks", values.chunks);
  const maxWorkers = positiveInt("workers", values.workers);
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
    let total = 0;
    chunks.forEach(([from, to], i) => {
      total += countPrimes(from, to);
      progress("main thread", i + 1, chunks.length, quiet);
    });
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
    console.log(
      "executor             workers   seconds   speedup   efficiency",
    );
    for (const run of runs) {
      console.log(
        `${run.executor.padEnd(20)} ${String(run.workers).padStart(7)} ${
          run.seconds.toFixed(2).padStart(9)
        } ${run.speedup.toFixed(2).padStart(8)}x ${
          (run.efficiency * 100).toFixed(0).padStart(11)
        }%`,
      );
    }
  }
  if (wrong.length > 0) {
    console.error(
      `Mismatch: ${wrong.map((r) => `${r.executor} (${r.workers}) counted ${r.primes}`)}`,
    );
    Deno.exit(1);
  }
}

await main();

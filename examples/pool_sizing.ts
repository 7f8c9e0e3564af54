/**
 * # Pool sizing: where does throughput peak?
 *
 * What it shows: the same two workloads run with 1, 2, 4, … workers, and the throughput of each.
 *
 * - I/O: requests to a local server (127.0.0.1, a free port) that answers after `--delay` ms, on
 *   an `AsyncPoolExecutor`. A request mostly waits, so more of them in flight means more done per
 *   second, far past the number of cores, until the requests run out (or, in real life, the
 *   server or the network gives out).
 * - CPU: counting primes in chunks on a `WorkerPoolExecutor`. Past the number of free cores, more
 *   workers only share the same cores: throughput flattens, then drops a little (more threads to
 *   start and schedule).
 *
 * Benchmark your own workload the same way before you pick `maxWorkers`: the defaults
 * (`hardwareConcurrency + 4` capped at 32 for `AsyncPoolExecutor`, `hardwareConcurrency` for
 * `WorkerPoolExecutor`) are starting points, not answers.
 *
 * ```sh
 * deno run -A examples/pool_sizing.ts
 * deno run -A examples/pool_sizing.ts --max 64 --io-tasks 256 --delay 50
 * deno run -A examples/pool_sizing.ts --help
 * ```
 *
 * Example output (a shared 2-core machine, with other programs running):
 *
 * ```text
 * I/O: 64 requests of 20 ms. CPU: the primes below 3,000,000 in 32 tasks. 2 cores.
 *
 * workers  I/O tasks/s  answers  CPU tasks/s   primes  peak
 *       1           45       64         79.2  216,816
 *       2           90       64         96.8  216,816  CPU
 *       4          176       64         88.3  216,816
 *       8          328       64         77.9  216,816
 *      16          507       64         69.0  216,816  I/O
 *
 * I/O throughput peaked at 16 workers; CPU throughput at 2.
 * ```
 *
 * @module
 */

import { AsyncPoolExecutor, WorkerPoolExecutor } from "../mod.ts";
import { commandLine, count, Progress, table } from "./_cli.ts";
import { countPrimes } from "./primes_tasks.ts";

const COMMAND = {
  name: "pool_sizing.ts",
  summary: "Runs the same I/O workload (on an AsyncPoolExecutor) and CPU workload (on a\n" +
    "WorkerPoolExecutor) with 1, 2, 4, … workers and shows where each one's throughput peaks.",
  flags: {
    max: { type: "integer", min: 1, default: 16, help: "the largest pool tried" },
    "io-tasks": { type: "integer", min: 1, default: 64, help: "requests per I/O run" },
    delay: { type: "integer", min: 0, default: 20, arg: "MS", help: "the server's answer time" },
    limit: { type: "integer", min: 1, default: 3_000_000, help: "count the primes below N" },
    chunks: { type: "integer", min: 1, default: 32, help: "CPU tasks per run" },
  },
} as const;

function startServer(delay: number) {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await new Promise((resolve) => setTimeout(resolve, delay));
    return new Response("ok");
  });
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

async function get(url: string): Promise<string> {
  return await (await fetch(url)).text();
}

/** The I/O workload on `workers`: how many requests came back, and how long it took. */
async function ioRun(url: string, tasks: number, workers: number) {
  await using pool = new AsyncPoolExecutor({ maxWorkers: workers });
  const bar = new Progress(`I/O x${workers}`.padEnd(8), tasks);
  const started = performance.now();
  let answers = 0;
  for await (const body of pool.map(get, Array.from({ length: tasks }, () => url))) {
    if (body === "ok") answers++;
    bar.tick();
  }
  return { answers, ms: performance.now() - started };
}

/** The CPU workload on `workers`: the primes counted, and how long it took. */
async function cpuRun(chunks: [number, number][], workers: number) {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: workers,
    modules: [new URL("./primes_tasks.ts", import.meta.url)],
  });
  // Start every worker before the clock, so that the time is the counting's.
  await Promise.all(Array.from({ length: workers }, () => pool.submit(countPrimes, 0, 1)));
  const bar = new Progress(`CPU x${workers}`.padEnd(8), chunks.length);
  const started = performance.now();
  let primes = 0;
  const futures = chunks.map(([from, to]) => pool.submit(countPrimes, from, to));
  for (const future of futures) {
    primes += await future;
    bar.tick();
  }
  return { primes, ms: performance.now() - started };
}

interface Run {
  workers: number;
  io: { answers: number; ms: number };
  cpu: { primes: number; ms: number };
}

async function main(): Promise<void> {
  const flags = commandLine(COMMAND);
  const sizes: number[] = [];
  for (let size = 1; size < flags.max; size *= 2) sizes.push(size);
  sizes.push(flags.max);
  const step = Math.ceil(flags.limit / flags.chunks);
  const chunks: [number, number][] = [];
  for (let from = 0; from < flags.limit; from += step) {
    chunks.push([from, Math.min(flags.limit, from + step)]);
  }

  console.log(
    `I/O: ${flags["io-tasks"]} requests of ${flags.delay} ms. CPU: the primes below ${
      count(flags.limit)
    } in ${chunks.length} tasks. ${navigator.hardwareConcurrency} cores.\n`,
  );
  const server = startServer(flags.delay);
  const runs: Run[] = [];
  try {
    for (const workers of sizes) {
      const io = await ioRun(server.url, flags["io-tasks"], workers);
      const cpu = await cpuRun(chunks, workers);
      runs.push({ workers, io, cpu });
    }
  } finally {
    await server.close();
  }

  const ioRate = (run: Run) => flags["io-tasks"] / (run.io.ms / 1000);
  const cpuRate = (run: Run) => chunks.length / (run.cpu.ms / 1000);
  const best = (rate: (run: Run) => number) =>
    runs.reduce((a, b) => (rate(b) > rate(a) ? b : a)).workers;
  const ioPeak = best(ioRate);
  const cpuPeak = best(cpuRate);
  console.log(table(
    ["workers", "I/O tasks/s", "answers", "CPU tasks/s", "primes", "peak"],
    runs.map((run) => [
      run.workers,
      count(ioRate(run)),
      run.io.answers,
      cpuRate(run).toFixed(1),
      count(run.cpu.primes),
      [run.workers === ioPeak ? "I/O" : "", run.workers === cpuPeak ? "CPU" : ""]
        .filter(Boolean).join(", "),
    ]),
  ));
  console.log(`\nI/O throughput peaked at ${ioPeak} workers; CPU throughput at ${cpuPeak}.`);
}

if (import.meta.main) await main();

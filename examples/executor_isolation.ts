/**
 * # Executor isolation: a busy CPU pool does not slow the I/O pool
 *
 * What it shows: a program that does both I/O and heavy computation keeps them on separate
 * executors, an `AsyncPoolExecutor` for the I/O and a `WorkerPoolExecutor` for the CPU work, so
 * that the computation cannot hold up the I/O. The example sends a steady stream of requests to a
 * local server (127.0.0.1, a free port, answering after 10 ms) and measures each one's latency,
 * from `submit()` to the answer, in three phases:
 *
 * 1. alone: nothing else runs;
 * 2. isolated: a `WorkerPoolExecutor` is kept saturated with prime-counting chunks the whole time;
 * 3. not isolated: the same chunks run on the I/O's own event loop (an `AsyncPoolExecutor`), as
 *    happens when CPU work is simply `await`ed in an async program.
 *
 * In phase 2 the latencies stay close to phase 1's (they move a little when the workers take
 * every core, as the main thread then shares them); in phase 3 a request waits for whatever chunk
 * holds the event loop, so its latency grows by up to a chunk's run time (`--chunk-ms`).
 *
 * ```sh
 * deno run -A examples/executor_isolation.ts
 * deno run -A examples/executor_isolation.ts --chunk-ms 200 --cpu-workers 1
 * deno run -A examples/executor_isolation.ts --help
 * ```
 *
 * Example output (a shared 2-core machine):
 *
 * ```text
 * 30 requests per phase, one every 20 ms, answered after 10 ms; CPU chunks of about 50 ms.
 *
 * phase         answers  p50 ms  p95 ms  max ms  CPU chunks done
 * alone              30    12.5    14.5    22.5                0
 * isolated           30    12.4    16.4    16.7               14
 * not isolated       30    91.5   202.9   254.6               30
 * ```
 *
 * @module
 */

import { AsyncPoolExecutor, type Executor, WorkerPoolExecutor } from "../mod.ts";
import { type Cell, commandLine, Progress, table } from "./_cli.ts";
import { countPrimes } from "./primes_tasks.ts";

const COMMAND = {
  name: "executor_isolation.ts",
  summary:
    "Measures the latency of I/O tasks alone, next to a saturated WorkerPoolExecutor, and next\n" +
    "to the same CPU work run on the I/O's own event loop.",
  flags: {
    "io-tasks": { type: "integer", min: 1, default: 30, help: "requests per phase" },
    interval: { type: "integer", min: 1, default: 20, arg: "MS", help: "time between requests" },
    "chunk-ms": {
      type: "integer",
      min: 1,
      default: 50,
      arg: "MS",
      help: "run time of a CPU chunk",
    },
    "cpu-workers": {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "workers of the CPU pool",
    },
  },
} as const;

const SERVER_DELAY_MS = 10;
const FROM = 50_000_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function startServer() {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    await sleep(SERVER_DELAY_MS);
    return new Response("ok");
  });
  return { url: `http://127.0.0.1:${server.addr.port}/`, close: () => server.shutdown() };
}

async function get(url: string): Promise<string> {
  return await (await fetch(url)).text();
}

/** How many numbers past `FROM` a chunk covers for it to run about `ms` on this machine. */
function calibrate(ms: number): number {
  let span = 10_000;
  for (;;) {
    const started = performance.now();
    countPrimes(FROM, FROM + span);
    const took = performance.now() - started;
    if (took > 20) return Math.max(1, Math.round(span * (ms / took)));
    span *= 2;
  }
}

/** Sends the requests one `interval` apart, on `io`; returns their latencies in ms. */
async function measure(
  io: Executor,
  url: string,
  tasks: number,
  interval: number,
  label: string,
): Promise<{ latencies: number[]; answers: number }> {
  const bar = new Progress(label.padEnd(14), tasks);
  const latencies: number[] = [];
  let answers = 0;
  const pending: Promise<void>[] = [];
  for (let i = 0; i < tasks; i++) {
    const sent = performance.now();
    pending.push(
      io.submit(get, url).then((body) => {
        latencies.push(performance.now() - sent);
        if (body === "ok") answers++;
        bar.tick();
      }),
    );
    await sleep(interval);
  }
  await Promise.all(pending);
  return { latencies: latencies.sort((a, b) => a - b), answers };
}

/**
 * Keeps `cpu` busy with chunks until `stop` resolves: `depth` chunks are always queued or
 * running. Returns how many chunks finished.
 */
async function saturate(cpu: Executor, span: number, depth: number, stop: Promise<unknown>) {
  let finished = 0;
  let stopping = false;
  stop.then(() => (stopping = true));
  const lane = async () => {
    while (!stopping) {
      await cpu.submit(countPrimes, FROM, FROM + span);
      finished++;
      // Let the event loop turn between two chunks, as a program that does some I/O between its
      // computations would. Without it, on the same event loop, chunks chained through promise
      // callbacks would never let a request run at all.
      await sleep(0);
    }
  };
  await Promise.all(Array.from({ length: depth }, lane));
  return finished;
}

async function main(): Promise<void> {
  const flags = commandLine(COMMAND);
  const span = calibrate(flags["chunk-ms"]);
  const server = startServer();
  const rows: Cell[][] = [];
  try {
    await using io = new AsyncPoolExecutor({ maxWorkers: 8 });
    const run = async (phase: string, cpu?: Executor, depth = 0) => {
      const measured = measure(io, server.url, flags["io-tasks"], flags.interval, phase);
      const chunks = cpu ? await saturate(cpu, span, depth, measured) : 0;
      const { latencies, answers } = await measured;
      const at = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
      rows.push([
        phase,
        answers,
        at(0.5).toFixed(1),
        at(0.95).toFixed(1),
        latencies.at(-1)!.toFixed(1),
        chunks,
      ]);
    };

    await run("alone");
    {
      await using cpu = new WorkerPoolExecutor({
        maxWorkers: flags["cpu-workers"],
        modules: [new URL("./primes_tasks.ts", import.meta.url)],
      });
      await Promise.all(
        Array.from({ length: flags["cpu-workers"] }, () => cpu.submit(countPrimes, 0, 1)),
      );
      // Two chunks per worker in the queue at all times: no worker ever waits for work.
      await run("isolated", cpu, flags["cpu-workers"] * 2);
    }
    {
      await using sameLoop = new AsyncPoolExecutor({ maxWorkers: 1 });
      await run("not isolated", sameLoop, 1);
    }
  } finally {
    await server.close();
  }

  console.log(
    `${
      flags["io-tasks"]
    } requests per phase, one every ${flags.interval} ms, answered after ${SERVER_DELAY_MS} ms; ` +
      `CPU chunks of about ${flags["chunk-ms"]} ms.\n`,
  );
  console.log(table(["phase", "answers", "p50 ms", "p95 ms", "max ms", "CPU chunks done"], rows));
}

if (import.meta.main) await main();

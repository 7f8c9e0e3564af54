/**
 * Runs a mixed workload and shows it live: CPU tasks (prime counting) on a `WorkerPoolExecutor`,
 * simulated I/O on an `AsyncPoolExecutor` with some failures, retries and a circuit that opens.
 * The dashboard is at `/` and the Prometheus metrics at `/metrics`, on 127.0.0.1.
 *
 * ```sh
 * deno run -A examples/dashboard.ts                  # http://127.0.0.1:8080/ until Ctrl-C
 * deno run -A examples/dashboard.ts --port 9000 --for 60
 * deno run -A examples/dashboard.ts --help
 * ```
 *
 * @module
 */

import { AsyncPoolExecutor, WorkerPoolExecutor } from "../mod.ts";
import { serveDashboard } from "../observe/mod.ts";
import { countPrimes } from "./primes_tasks.ts";
import { commandLine, refuse } from "./_cli.ts";

const COMMAND = {
  name: "dashboard.ts",
  summary: "Runs a mixed workload on two executors and serves a live dashboard of it.",
  flags: {
    port: { type: "integer", min: 0, max: 65535, default: 8080, help: "listen on port N" },
    for: {
      type: "integer",
      min: 0,
      default: 0,
      arg: "SECONDS",
      help: "exit after this many seconds (0: run until Ctrl-C)",
    },
  },
} as const;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/** A simulated request: waits, and fails now and then (always, for `down.example`). */
async function request(host: string, ms: number, failEvery: number, n: number): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, ms));
  if (host === "down.example" || (failEvery > 0 && n % failEvery === 0)) {
    throw new Error(`${host} answered 503 to request ${n}`);
  }
  return `${host}: 200`;
}

/** A CPU task that throws for some inputs, to show failures on the worker pool. */
function checksum(seed: number): number {
  if (seed % 11 === 0) throw new RangeError(`seed ${seed} is not allowed`);
  let x = seed;
  for (let i = 0; i < 2_000_000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

async function main(): Promise<void> {
  const flags = commandLine(COMMAND);
  const stop = new AbortController();
  Deno.addSignalListener("SIGINT", () => stop.abort());
  const timer = flags.for > 0 ? setTimeout(() => stop.abort(), flags.for * 1000) : undefined;

  await using cpu = new WorkerPoolExecutor({
    name: "cpu",
    maxWorkers: 2,
    modules: [new URL("./primes_tasks.ts", import.meta.url)],
  });
  await using io = new AsyncPoolExecutor({
    name: "io",
    maxWorkers: 6,
    circuitBreaker: { threshold: 3, halfOpenAfter: 5_000 },
  });
  const serve = () =>
    serveDashboard([cpu, io], {
      port: flags.port,
      onListen: ({ hostname, port }) => {
        console.log(
          `Dashboard: http://${hostname}:${port}/  metrics: http://${hostname}:${port}/metrics`,
        );
      },
    });
  let started: ReturnType<typeof serve>;
  try {
    started = serve();
  } catch (error) {
    // A port in use is the command line's to fix: one line, as for a bad flag.
    refuse(COMMAND, `--port ${flags.port}: ${(error as Error).message}`);
  }
  await using server = started;

  const retrying = io.with({
    retry: { maxAttempts: 3, retryOn: () => true, backoff: { initial: 50, max: 200 } },
  });
  const pending = new Set<Promise<unknown>>();
  const track = (p: PromiseLike<unknown>) => {
    const settled = Promise.resolve(p).then(() => {}, () => {});
    pending.add(settled);
    settled.then(() => pending.delete(settled));
  };
  for (let n = 1; !stop.signal.aborted; n++) {
    if (cpu.stats().queued < 4) {
      const from = (n * 37_000) % 3_000_000;
      track(cpu.submit(countPrimes, from, from + 60_000 + (n % 5) * 40_000));
      track(cpu.submit(checksum, n));
    }
    const host = ["api.example", "cdn.example", "db.example"][n % 3]!;
    track(io.with({ domain: host }).submit(request, host, 20 + (n * 53) % 180, 7, n));
    track(retrying.submit(request, "flaky.example", 30 + (n % 4) * 20, 2, n));
    if (n % 4 === 0) {
      track(io.with({ domain: "down.example" }).submit(request, "down.example", 10, 0, n));
    }
    await sleep(120, stop.signal);
  }
  clearTimeout(timer);
  await Promise.all(pending);
  await server.shutdown();
}

if (import.meta.main) await main();

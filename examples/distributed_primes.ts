/**
 * Counts the primes below a limit with a `DistributedExecutor`. With no `--nats`, it starts an
 * embedded nats-server and local worker processes (it needs `nats-server`: `apt-get install
 * nats-server`); with `--nats`, workers started elsewhere (on the default queue, with this
 * example's task module) do the counting.
 *
 * ```sh
 * deno run -A examples/distributed_primes.ts                       # embedded, 2 local workers
 * deno run -A examples/distributed_primes.ts --limit 20000000 --chunks 64 --workers 4
 * deno run -A examples/distributed_primes.ts --nats nats://nats-host:4222   # remote workers
 * deno run -A examples/distributed_primes.ts --json                # the results as JSON only
 * deno run -A examples/distributed_primes.ts --help
 * ```
 *
 * `--workers` is the number of local worker processes (the executor's `maxWorkers`). Example
 * output, from a shared 2-core machine:
 *
 * ```text
 * Primes below 10,000,000: 664,579 in 3.84 s, 32 chunks
 *   worker local-2: 16 chunks
 *   worker local-1: 16 chunks
 * ```
 *
 * @module
 */

import { asCompleted } from "../mod.ts";
import { DistributedExecutor } from "../distributed/mod.ts";
import { countPrimes } from "./primes_tasks.ts";
import { commandLine, refuse } from "./_cli.ts";

const COMMAND = {
  name: "distributed_primes.ts",
  summary:
    "Counts the primes below a limit with a DistributedExecutor: on an embedded nats-server and\n" +
    "local worker processes, or, with --nats, on workers started elsewhere.",
  flags: {
    limit: { type: "integer", min: 1, default: 10_000_000, help: "count the primes below N" },
    chunks: { type: "integer", min: 1, default: 32, help: "split the range into N chunks" },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "local worker processes (embedded mode)",
    },
    nats: {
      type: "string",
      default: "",
      arg: "URLS",
      help: "NATS server URL(s), comma-separated; empty: embedded",
    },
    json: { type: "boolean", help: "print the results as JSON only" },
  },
} as const;

const values = commandLine(COMMAND);
const { limit, chunks: chunkCount, workers } = values;
const nats = values.nats.split(",").map((url) => url.trim()).filter(Boolean);
const given = (flag: string) => Deno.args.some((arg) => arg === flag || arg.startsWith(`${flag}=`));
if (nats.length > 0 && given("--workers")) {
  refuse(COMMAND, "--workers starts local workers: it goes without --nats");
}
const TASKS = new URL("./primes_tasks.ts", import.meta.url);

await using executor = new DistributedExecutor({
  modules: [TASKS],
  ...(nats.length > 0 ? { servers: nats } : { maxWorkers: workers }),
});
// A server that cannot be reached is the command line's to fix: one line, as for a bad flag.
await executor.whenStarted().catch((error: Error) =>
  refuse(COMMAND, nats.length > 0 ? `--nats ${values.nats}: ${error.message}` : error.message)
);

const size = Math.ceil(limit / chunkCount);
const started = performance.now();
const futures = [];
for (let from = 0; from < limit; from += size) {
  futures.push(executor.submit(countPrimes, from, Math.min(limit, from + size)));
}
// Remote workers may not be running: the tasks then wait in the stream, which is said once.
const waiting = nats.length > 0
  ? setTimeout(() => {
    console.error(
      `No chunk done after 5 s: the tasks wait for workers on the default queue (start one with: deno run -A ${
        new URL("../distributed/worker.ts", import.meta.url).href
      } --nats ${values.nats} --modules ${TASKS.href})`,
    );
  }, 5_000)
  : undefined;
let primes = 0;
for await (const future of asCompleted(futures)) {
  clearTimeout(waiting);
  primes += await future;
}
clearTimeout(waiting);
const seconds = (performance.now() - started) / 1000;
const stats = executor.stats();

if (values.json) {
  console.log(JSON.stringify({ limit, chunks: futures.length, primes, seconds, stats }));
} else {
  console.log(
    `Primes below ${limit.toLocaleString("en")}: ${primes.toLocaleString("en")} in ${
      seconds.toFixed(2)
    } s, ${futures.length} chunks`,
  );
  for (const [name, counts] of Object.entries(stats.byWorker)) {
    console.log(`  worker ${name}: ${counts.completed} chunks`);
  }
}

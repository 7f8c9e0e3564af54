/**
 * Counts the primes below a limit with a `DistributedExecutor`. With no `--nats`, it starts an
 * embedded nats-server and local worker processes (it needs `nats-server`: `apt-get install
 * nats-server`); with `--nats`, workers started elsewhere with the same `--queue` and module do the
 * counting.
 *
 * ```sh
 * deno run -A examples/distributed_primes.ts                       # embedded, 2 local workers
 * deno run -A examples/distributed_primes.ts --limit 20000000 --chunks 64 --workers 4
 * deno run -A examples/distributed_primes.ts --nats nats://nats-host:4222   # remote workers
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

await using executor = new DistributedExecutor({
  modules: [new URL("./primes_tasks.ts", import.meta.url)],
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
let primes = 0;
for await (const future of asCompleted(futures)) primes += await future;
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
  for (const [name, counts] of Object.entries(stats.workers)) {
    console.log(`  worker ${name}: ${counts.completed} chunks`);
  }
}

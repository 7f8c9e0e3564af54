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

import { parseArgs } from "node:util";
import { asCompleted } from "../mod.ts";
import { DistributedExecutor } from "../distributed/mod.ts";
import { countPrimes } from "./primes_tasks.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    limit: { type: "string", default: "10000000" },
    chunks: { type: "string", default: "32" },
    workers: { type: "string", default: String(navigator.hardwareConcurrency || 1) },
    nats: { type: "string", multiple: true },
    json: { type: "boolean", default: false },
  },
});
const limit = Number(values.limit);
const chunkCount = Number(values.chunks);
const workers = Number(values.workers);
for (const [name, value] of [["limit", limit], ["chunks", chunkCount], ["workers", workers]]) {
  if (!Number.isInteger(value) || (value as number) < 1) {
    console.error(`--${name} must be a positive integer: received ${value}`);
    Deno.exit(2);
  }
}

await using executor = new DistributedExecutor({
  modules: [new URL("./primes_tasks.ts", import.meta.url)],
  ...(values.nats ? { servers: values.nats } : { workers }),
});
await executor.ready();

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

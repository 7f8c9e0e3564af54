// The peer row of bench/worker_pool_bench.ts: one round of one workload with piscina (2 threads)
// and with a raw worker_threads pool (Node's transport floor), printed as one JSON line.
//
//   node peer.mjs throughput <tasks> <round>   all tasks in flight: ms for each contender
//   node peer.mjs roundtrip <trips> <round>    sequential round trips: p50 and p99 in µs
//
// It is copied next to a node_modules/ holding piscina and run from there; the odd rounds run the
// contenders in the other order, as the Deno side does.

import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { Piscina } from "piscina";

const THREADS = 2;

class RawPool {
  #workers;
  #pending = new Map();
  #next = 0;
  #id = 0;

  constructor(size) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./raw_worker.mjs", import.meta.url));
      worker.on("message", ({ id, value }) => {
        const resolve = this.#pending.get(id);
        this.#pending.delete(id);
        resolve(value);
      });
      return worker;
    });
  }

  run(args) {
    const id = ++this.#id;
    const worker = this.#workers[this.#next];
    this.#next = (this.#next + 1) % this.#workers.length;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ id, args });
    });
  }

  close() {
    return Promise.all(this.#workers.map((worker) => worker.terminate()));
  }
}

async function allInFlight(pool, tasks) {
  const start = performance.now();
  const pending = new Array(tasks);
  for (let i = 0; i < tasks; i++) pending[i] = pool.run([i, 1]);
  const values = await Promise.all(pending);
  const ms = performance.now() - start;
  if (values[tasks - 1] !== tasks) throw new Error(`wrong result: ${values[tasks - 1]}`);
  return ms;
}

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function roundTrips(pool, trips) {
  const micros = new Float64Array(trips);
  for (let i = 0; i < trips; i++) {
    const start = performance.now();
    await pool.run([i, 1]);
    micros[i] = (performance.now() - start) * 1000;
  }
  micros.sort();
  return { p50: percentile(micros, 0.5), p99: percentile(micros, 0.99) };
}

const [workload, countArg, roundArg] = process.argv.slice(2);
const count = Number(countArg);
const round = Number(roundArg ?? 0);
if (!["throughput", "roundtrip"].includes(workload) || !(count > 0)) {
  console.error("usage: node peer.mjs <throughput|roundtrip> <count> [round]");
  process.exit(2);
}

const piscina = new Piscina({
  filename: new URL("./add_task.mjs", import.meta.url).href,
  minThreads: THREADS,
  maxThreads: THREADS,
});
const raw = new RawPool(THREADS);
const contenders = { piscina, raw };
const measure = workload === "throughput" ? allInFlight : roundTrips;
const order = round % 2 === 0 ? ["piscina", "raw"] : ["raw", "piscina"];

// A warm-up pass of each, not reported: it starts the threads and compiles the hot paths.
for (const name of order) await measure(contenders[name], count);
const results = {};
for (const name of order) results[name] = await measure(contenders[name], count);

const { version } = JSON.parse(
  readFileSync(new URL("./node_modules/piscina/package.json", import.meta.url), "utf8"),
);
console.log(JSON.stringify({ node: process.version, piscinaVersion: version, workload, results }));
await piscina.destroy();
await raw.close();

/**
 * Calls from a running task back to the caller: `proxy()` on our pools against comlink's
 * `proxy()` over a plain Web Worker, side by side in one run.
 *
 * 1. Fire-and-forget: a task makes 10k progress calls without awaiting them and returns; the time
 *    runs from the call that starts the task until the task's result and every call have reached
 *    the caller.
 * 2. Awaited: a task makes 1k calls one after another, awaiting each answer.
 * 3. Start-up: a new worker (or process), from its creation to the first answered task.
 * 4. The host's search for proxies in a task's arguments, once any proxy exists: arguments that
 *    hold 10k, 100k and 1M numbers, or as many small objects.
 *
 * comlink runs only over a Web Worker (or a MessagePort): it has no process contender. Sides
 * alternate round by round and the table gives medians.
 *
 * ```sh
 * deno run -A bench/proxy_bench.ts
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
// deno-lint-ignore no-import-prefix
import * as Comlink from "npm:comlink@4.4.2";
import { ProcessPoolExecutor, proxy, type Remote, WorkerPoolExecutor } from "../mod.ts";
import { encodeProxies } from "../actors/_proxy_wire.ts";

const USAGE = `Usage: deno run -A bench/proxy_bench.ts [options]

Options:
  --rounds N   rounds of each measurement, alternating the sides (default 5)
  --calls N    fire-and-forget calls per task (default 10000)
  --awaited N  awaited calls per task (default 1000)
  -h, --help   show this help`;

const { values: flags } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "5" },
    calls: { type: "string", default: "10000" },
    awaited: { type: "string", default: "1000" },
    help: { type: "boolean", short: "h" },
  },
});
if (flags.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const ROUNDS = Number(flags.rounds);
const CALLS = Number(flags.calls);
const AWAITED = Number(flags.awaited);

interface ComlinkApi {
  fireAndForget(n: number, progress: (i: number) => unknown): number;
  awaited(n: number, get: (i: number) => number): Promise<number>;
}

function fireAndForget(n: number, progress: Remote<(i: number) => void>): number {
  for (let i = 0; i < n; i++) void progress(i);
  return n;
}

async function awaited(n: number, get: Remote<(i: number) => number>): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += await get(i);
  return sum;
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs the task and waits for its result and for all `n` calls; returns the ms taken. */
async function timeFireAndForget(
  run: (n: number, progress: (i: number) => void) => Promise<unknown>,
): Promise<number> {
  let seen = 0;
  const all = Promise.withResolvers<void>();
  const start = performance.now();
  await Promise.all([
    run(CALLS, () => {
      if (++seen === CALLS) all.resolve();
    }),
    all.promise,
  ]);
  return performance.now() - start;
}

async function timeAwaited(
  run: (n: number, get: (i: number) => number) => Promise<unknown>,
): Promise<number> {
  const start = performance.now();
  await run(AWAITED, (i) => i);
  return performance.now() - start;
}

const COMLINK_URL = new URL("./_comlink_worker.ts", import.meta.url);

function comlinkWorker(): { api: Comlink.Remote<ComlinkApi>; worker: Worker } {
  const worker = new Worker(COMLINK_URL, { type: "module" });
  return { api: Comlink.wrap<ComlinkApi>(worker), worker };
}

const threads = new WorkerPoolExecutor({ maxWorkers: 1 });
const processes = new ProcessPoolExecutor({ maxWorkers: 1 });
const comlink = comlinkWorker();

const contenders: Record<string, {
  fire: (n: number, progress: (i: number) => void) => Promise<unknown>;
  awaited: (n: number, get: (i: number) => number) => Promise<unknown>;
}> = {
  "proxy() on WorkerPoolExecutor": {
    fire: (n, progress) => threads.submit(fireAndForget, n, proxy(progress)).result(),
    awaited: (n, get) => threads.submit(awaited, n, proxy(get)).result(),
  },
  "proxy() on ProcessPoolExecutor": {
    fire: (n, progress) => processes.submit(fireAndForget, n, proxy(progress)).result(),
    awaited: (n, get) => processes.submit(awaited, n, proxy(get)).result(),
  },
  "comlink proxy() on a Web Worker": {
    fire: (n, progress) => comlink.api.fireAndForget(n, Comlink.proxy(progress)),
    awaited: (n, get) => comlink.api.awaited(n, Comlink.proxy(get)),
  },
};

const samples: Record<string, { fire: number[]; awaited: number[] }> = {};
for (const name of Object.keys(contenders)) samples[name] = { fire: [], awaited: [] };
// A warm-up round for each (modules loaded, workers started, code compiled), then the rounds.
for (let round = 0; round <= ROUNDS; round++) {
  for (const [name, c] of Object.entries(contenders)) {
    const fire = await timeFireAndForget(c.fire);
    const wait = await timeAwaited(c.awaited);
    if (round === 0) continue;
    samples[name]!.fire.push(fire);
    samples[name]!.awaited.push(wait);
  }
}

console.log(
  `rounds: ${ROUNDS} (medians); ${CALLS} fire-and-forget calls, ${AWAITED} awaited calls\n`,
);
console.log("| contender | fire-and-forget: total | per call | awaited: total | per call |");
console.log("| --- | --- | --- | --- | --- |");
for (const [name, s] of Object.entries(samples)) {
  const fire = median(s.fire);
  const wait = median(s.awaited);
  console.log(
    `| ${name} | ${fire.toFixed(1)} ms | ${(fire * 1000 / CALLS).toFixed(2)} µs | ${
      wait.toFixed(1)
    } ms | ${(wait * 1000 / AWAITED).toFixed(1)} µs |`,
  );
}

// Start-up: a fresh worker's first answered call, ours (no npm import) against comlink's.
const startups: Record<string, number[]> = { "WorkerPoolExecutor": [], "comlink worker": [] };
for (let round = 0; round < ROUNDS; round++) {
  let start = performance.now();
  {
    await using fresh = new WorkerPoolExecutor({ maxWorkers: 1 });
    await fresh.submit(awaited, 1, proxy((i: number) => i));
    startups["WorkerPoolExecutor"]!.push(performance.now() - start);
  }
  start = performance.now();
  const fresh = comlinkWorker();
  await fresh.api.awaited(1, Comlink.proxy((i: number) => i));
  startups["comlink worker"]!.push(performance.now() - start);
  fresh.api[Comlink.releaseProxy]();
  fresh.worker.terminate();
}
console.log("\n| start-up to the first answered call | median |\n| --- | --- |");
for (const [name, xs] of Object.entries(startups)) {
  console.log(`| ${name} | ${median(xs).toFixed(1)} ms |`);
}

// The search for proxies in arguments grows with their size: measured once a proxy exists.
const marker = proxy(() => {});
void marker;
console.log("\n| arguments searched for proxies | numbers | small objects |\n| --- | --- | --- |");
for (const n of [10_000, 100_000, 1_000_000]) {
  const numbers = Array.from({ length: n }, (_, i) => i);
  const objects = Array.from({ length: n }, (_, i) => ({ id: i, name: "x" }));
  const time = (args: unknown[]) => {
    const xs: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const start = performance.now();
      encodeProxies(args);
      xs.push(performance.now() - start);
    }
    return median(xs);
  };
  const cloneStart = performance.now();
  structuredClone(objects);
  const clone = performance.now() - cloneStart;
  console.log(
    `| ${n} items | ${time([numbers]).toFixed(2)} ms | ${
      time([objects]).toFixed(2)
    } ms (structuredClone: ${clone.toFixed(1)} ms) |`,
  );
}

comlink.api[Comlink.releaseProxy]();
comlink.worker.terminate();
await threads.shutdown();
await processes.shutdown();
// comlink's proxied callbacks leave MessagePorts open on this side.
Deno.exit(0);

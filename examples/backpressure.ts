/**
 * # Backpressure: a producer far faster than its pool, with memory bounded by `maxQueued`
 *
 * What it shows: a loop that makes work items (1 KiB each) much faster than a `WorkerPoolExecutor`
 * can hash them. Without a bound, every item is queued at once and held in memory until a worker
 * gets to it; as that producer never yields, no worker even starts before the last item is made.
 * With `maxQueued`, the producer awaits `pool.whenReady()` before each `submit()`, so at most
 * `maxQueued` items wait, plus one per free worker slot (`stats().queued` counts those until a
 * worker takes them: 66 below, with 2 workers), and memory stays flat.
 *
 * The bound is not free in time here: the producer's `await` lets the pool hand out each task as
 * it is submitted, one message to a worker per task, where the unbounded run's queue goes out in
 * large batches. With tasks this small (microseconds of hashing) that costs some time: about 20%
 * below, up to twice as long on a busier machine.
 *
 * Both runs happen in one process, the bounded one first (RSS seldom shrinks once grown). The
 * queue length is read after every 16th `submit()` (`--sample-every`) and every 50 ms, the heap
 * and RSS every 1,024 items and every 50 ms. Both runs must give the same checksum (the sum of the
 * items' hashes).
 *
 * ```sh
 * deno run -A examples/backpressure.ts
 * deno run -A examples/backpressure.ts --items 200000 --max-queued 256
 * deno run -A examples/backpressure.ts --help
 * ```
 *
 * Example output (the end of it), from a shared 2-core machine:
 *
 * ```text
 * queue length over time (ms: queued)
 * maxQueued: 0: 0, 496: 1, 1007: 64, 1506: 1, 2046: 64, 2592: 64, 2995: 64, 3453: 0
 * unbounded: 0: 0, 448: 22529, 812: 50177, 1309: 79873, 1837: 97991, 2175: 62963, 2481: 23731, 2751: 0
 *
 * run           peak queued  peak heap   peak RSS  seconds   checksum  failed
 * maxQueued 64           66   39.1 MiB  201.7 MiB     3.45  356368328       0
 * unbounded         100,000  131.5 MiB  383.9 MiB     2.75  356368328       0
 * ```
 *
 * @module
 */

import { WorkerPoolExecutor } from "../mod.ts";
import { commandLine, count, Progress, seconds, table } from "./_cli.ts";
import { digest, makeItem } from "./backpressure_tasks.ts";

const COMMAND = {
  name: "backpressure.ts",
  summary:
    "Feeds a WorkerPoolExecutor from a producer far faster than it, once bounded by maxQueued\n" +
    "(the producer awaits whenReady()) and once unbounded: queue length, peak memory and time.",
  flags: {
    items: { type: "integer", min: 1, default: 100_000, help: "how many work items" },
    "max-queued": { type: "integer", min: 1, default: 64, help: "maxQueued of the bounded run" },
    size: { type: "integer", min: 1, default: 1024, arg: "BYTES", help: "bytes per work item" },
    rounds: { type: "integer", min: 1, default: 4, help: "hash passes over each item" },
    "sample-every": {
      type: "integer",
      min: 1,
      default: 16,
      help: "read stats().queued after every Nth submit",
    },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "workers in the pool",
    },
  },
} as const;

type Flags = ReturnType<typeof commandLine<typeof COMMAND.flags>>;

/** What one run measured. */
interface Run {
  label: string;
  peakQueued: number;
  peakHeap: number;
  peakRss: number;
  ms: number;
  checksum: number;
  failed: number;
  /** `[ms since the start, tasks queued]`, every 50 ms. */
  samples: [number, number][];
}

/** Produces every item as fast as it can; with `maxQueued`, waits for room before each one. */
async function run(flags: Flags, maxQueued: number | undefined): Promise<Run> {
  const label = maxQueued === undefined ? "unbounded" : `maxQueued ${maxQueued}`;
  await using pool = new WorkerPoolExecutor({
    maxWorkers: flags.workers,
    modules: [new URL("./backpressure_tasks.ts", import.meta.url)],
    ...(maxQueued === undefined ? {} : { maxQueued }),
  });
  const result: Run = {
    label,
    peakQueued: 0,
    peakHeap: 0,
    peakRss: 0,
    ms: 0,
    checksum: 0,
    failed: 0,
    samples: [],
  };
  const started = performance.now();
  const memory = () => {
    const { heapUsed, rss } = Deno.memoryUsage();
    result.peakHeap = Math.max(result.peakHeap, heapUsed);
    result.peakRss = Math.max(result.peakRss, rss);
  };
  let sampled = -Infinity;
  const sample = () => {
    sampled = performance.now();
    const { queued } = pool.stats();
    result.samples.push([sampled - started, queued]);
    result.peakQueued = Math.max(result.peakQueued, queued);
    memory();
  };
  sample();
  // The timer samples while the pool drains; while the producer runs, the loop does, as a
  // producer that seldom yields to the event loop starves timers.
  const timer = setInterval(sample, 50);
  const bar = new Progress(label.padEnd(13), flags.items);
  try {
    for (let i = 0; i < flags.items; i++) {
      if (maxQueued !== undefined) await pool.whenReady();
      pool.submit(digest, makeItem(i, flags.size), flags.rounds).then(
        (hash) => {
          result.checksum = (result.checksum + hash) >>> 0;
          bar.tick();
        },
        () => {
          result.failed++;
          bar.tick();
        },
      );
      // stats() also computes percentiles of recent run times (two sorts of up to 1,024
      // samples): after every submit it would cost more than the work itself.
      if (i % flags["sample-every"] === 0) {
        result.peakQueued = Math.max(result.peakQueued, pool.stats().queued);
      }
      if (i % 1024 === 0) {
        memory();
        if (performance.now() - sampled >= 50) sample();
      }
    }
    sample();
    await pool.onIdle();
  } finally {
    clearInterval(timer);
  }
  result.ms = performance.now() - started;
  sample();
  return result;
}

/** About `n` samples, evenly spread, the first and last kept. */
function thin(samples: [number, number][], n: number): [number, number][] {
  if (samples.length <= n) return samples;
  const step = (samples.length - 1) / (n - 1);
  return Array.from({ length: n }, (_, k) => samples[Math.round(k * step)]!);
}

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function main(): Promise<number> {
  const flags = commandLine(COMMAND);
  console.log(
    `${count(flags.items)} items of ${
      count(flags.size)
    } bytes, ${flags.rounds} hash passes each, ` +
      `on ${flags.workers} workers\n`,
  );
  const runs = [await run(flags, flags["max-queued"]), await run(flags, undefined)];

  console.log("queue length over time (ms: queued)");
  for (const { label, samples } of runs) {
    const points = thin(samples, 8).map(([ms, queued]) => `${Math.round(ms)}: ${queued}`);
    console.log(`${label.split(" ")[0]}:`.padEnd(11) + points.join(", "));
  }
  console.log(`\n${
    table(
      ["run", "peak queued", "peak heap", "peak RSS", "seconds", "checksum", "failed"],
      runs.map((r) => [
        r.label,
        count(r.peakQueued),
        mib(r.peakHeap),
        mib(r.peakRss),
        seconds(r.ms),
        r.checksum,
        r.failed,
      ]),
    )
  }`);
  const [bounded, unbounded] = runs as [Run, Run];
  const ok = bounded.failed === 0 && unbounded.failed === 0 &&
    bounded.checksum === unbounded.checksum;
  if (!ok) console.error("The two runs disagree or tasks failed: this is a bug.");
  return ok ? 0 : 1;
}

if (import.meta.main) Deno.exitCode = await main();

/**
 * # Zero-copy shared memory: normalise 100 MB of `Float64Array` on 4 workers, copied vs shared
 *
 * What it shows: a typed array on a `SharedArrayBuffer` (Python's `multiprocessing.Array`) is
 * passed to workers as it is: they all see the same memory, nothing is copied. The same job done
 * by sending slices (structured clone copies them, there and back) costs time and memory.
 *
 * The job: map every value of an array onto [0, 1], `(x - min) / (max - min)`, with `min` and `max`
 * of the whole array, split among W workers.
 *
 * - copied: the array is an ordinary one; each worker gets a copy of its slice to find its min
 *   and max, then another copy to rescale, and sends the rescaled slice back (a third copy),
 *   which the main thread writes into the result.
 * - shared: the array lives in a `SharedArrayBuffer`; each of W tasks finds its slice's min and
 *   max, writes them into a small shared array, meets the others at a {@linkcode Barrier}, then
 *   rescales its slice in place with the global min and max. One round, no copies.
 *
 * Each mode runs in a subprocess of its own, so that its memory (RSS, which counts the workers
 * too: they are threads of the same process) is measured apart. Both must give the same result.
 *
 * Run it:
 *
 * ```sh
 * deno run -A examples/shared_memory.ts            # 100 MB on 4 workers
 * deno run -A examples/shared_memory.ts --mb 400 --workers 2
 * deno run -A examples/shared_memory.ts --help
 * ```
 *
 * Example output (100 MB, 4 workers, 2 cores):
 *
 * ```text
 * mode     MB  workers  seconds  RSS before MB  peak RSS MB  growth MB     checksum
 * copied  100        4     1.92            191          772        581  6554476.883
 * shared  100        4     0.12            191          195          4  6554476.883
 * same result both ways
 * ```
 *
 * @module
 */

import { Barrier, WorkerPoolExecutor } from "../mod.ts";
import { commandLine, Progress, table } from "./_cli.ts";
import { minMax, normaliseShared, rescale } from "./shared_tasks.ts";

const TASKS = new URL("./shared_tasks.ts", import.meta.url);
const MB = 1024 * 1024;

const COMMAND = {
  name: "shared_memory.ts",
  summary: "Normalises N MB of Float64Array on W workers twice: sending copies of slices, and\n" +
    "sharing one SharedArrayBuffer; prints the time and the memory (RSS) of each.",
  flags: {
    mb: { type: "integer", min: 1, default: 100, help: "size of the array in MB" },
    workers: { type: "integer", min: 1, default: 4, arg: "W", help: "workers" },
    mode: {
      type: "string",
      default: "",
      choices: ["copied", "shared"],
      arg: "MODE",
      help: "run one mode only, in this process, and print its figures as JSON",
    },
  },
} as const;

interface Result {
  mode: "copied" | "shared";
  seconds: number;
  rssBeforeMb: number;
  peakRssMb: number;
  checksum: number;
}

/** The same pseudo-random values in both modes, so that the results can be compared. */
function fill(data: Float64Array): void {
  let seed = 12345;
  for (let i = 0; i < data.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    data[i] = (seed / 2 ** 32) * 1000 - 500;
  }
}

function slices(length: number, parts: number): [number, number][] {
  const size = Math.ceil(length / parts);
  return Array.from({ length: parts }, (_, i) => [i * size, Math.min(length, (i + 1) * size)]);
}

function checksum(data: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < data.length; i++) sum += data[i]!;
  return Math.round(sum * 1000) / 1000;
}

/** Runs one mode in this process and returns its figures. */
async function measure(mode: Result["mode"], mb: number, workers: number): Promise<Result> {
  const length = Math.floor((mb * MB) / 8);
  const data = mode === "shared"
    ? new Float64Array(new SharedArrayBuffer(length * 8))
    : new Float64Array(length);
  fill(data);
  await using pool = new WorkerPoolExecutor({ maxWorkers: workers, modules: [TASKS] });
  // Start the workers before the clock does: start-up is not what is compared.
  const warm = new Barrier(workers);
  await Promise.all(
    Array.from({ length: workers }, () => pool.submit((b) => void b, warm.buffer)),
  );
  const rssBefore = Deno.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => peak = Math.max(peak, Deno.memoryUsage().rss), 2);
  const start = performance.now();
  const parts = slices(length, workers);
  let result: Float64Array;
  if (mode === "shared") {
    const extremes = new Float64Array(new SharedArrayBuffer(16 * workers));
    const barrier = new Barrier(workers);
    await Promise.all(
      parts.map(([from, to], part) =>
        pool.submit(normaliseShared, data, from, to, part, extremes, barrier)
      ),
    );
    result = data;
  } else {
    const extremes = await Promise.all(
      parts.map(([from, to]) => pool.submit(minMax, data.slice(from, to))),
    );
    const min = Math.min(...extremes.map((e) => e[0]));
    const max = Math.max(...extremes.map((e) => e[1]));
    result = new Float64Array(length);
    await Promise.all(parts.map(async ([from, to]) => {
      result.set(await pool.submit(rescale, data.slice(from, to), min, max), from);
    }));
  }
  const seconds = (performance.now() - start) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, Deno.memoryUsage().rss);
  return {
    mode,
    seconds,
    rssBeforeMb: rssBefore / MB,
    peakRssMb: peak / MB,
    checksum: checksum(result),
  };
}

/** Runs one mode in a subprocess of its own. */
async function measureApart(mode: Result["mode"], mb: number, workers: number): Promise<Result> {
  // The module's URL as it is: a path taken from it would be percent-encoded a second time.
  const args = ["run", "-A", import.meta.url, "--mode", mode];
  args.push("--mb", String(mb), "--workers", String(workers));
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`the ${mode} run failed: ${new TextDecoder().decode(stderr)}`);
  return JSON.parse(new TextDecoder().decode(stdout));
}

function report(results: Result[], mb: number, workers: number): string {
  return table(
    [
      "mode",
      "MB",
      "workers",
      "seconds",
      "RSS before MB",
      "peak RSS MB",
      "growth MB",
      "checksum",
    ],
    results.map((r) => [
      r.mode,
      mb,
      workers,
      r.seconds.toFixed(2),
      r.rssBeforeMb.toFixed(0),
      r.peakRssMb.toFixed(0),
      (r.peakRssMb - r.rssBeforeMb).toFixed(0),
      r.checksum.toFixed(3),
    ]),
  );
}

async function main(): Promise<void> {
  const { mb, workers, mode } = commandLine(COMMAND);
  if (mode === "copied" || mode === "shared") {
    // Run for the program that measures both modes: it ends if that program ends first.
    const parent = Deno.ppid;
    const watch = setInterval(() => Deno.ppid !== parent && Deno.exit(130), 250);
    Deno.unrefTimer(watch);
    return console.log(JSON.stringify(await measure(mode, mb, workers)));
  }
  // Each mode runs for a second or more in a subprocess: the bar shows which one is done.
  const bar = new Progress("modes", 2);
  const results = [];
  for (const mode of ["copied", "shared"] as const) {
    results.push(await measureApart(mode, mb, workers));
    bar.tick();
  }
  console.log(report(results, mb, workers));
  const same = results[0]!.checksum === results[1]!.checksum;
  console.log(same ? "same result both ways" : "the results differ");
  if (!same) Deno.exit(1);
}

if (import.meta.main) await main();

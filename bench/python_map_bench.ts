#!/usr/bin/env -S deno run -A --no-config
/**
 * Chunked `map` against Python's `concurrent.futures.ProcessPoolExecutor.map(chunksize=1000)`,
 * side by side in one run, 2 workers each.
 *
 * Both map the same tiny function (`x + 1`) over `range(N)` with chunks of 1000 and consume every
 * result in order; pools are started and warmed up (one untimed map of the same size: V8's JIT
 * needs it, CPython does not, and it costs Python nothing) before the clock starts, so the figure
 * is the steady-state map itself, not the pool's start-up. Python runs as a child
 * process (`python3`, standard library only) which prints its own timing for the round, so no
 * process start-up is counted on either side. Each round runs both, in alternating order; the
 * ratio is the median of the per-round ratios of items/s (ours / Python's). Goal: ≥ 2×.
 *
 * A second workload does the same with a CPU-bound function (trial-division prime test of each
 * item), where both sides are limited by the work itself: it shows that the pool adds nothing.
 *
 * ```sh
 * deno run -A bench/python_map_bench.ts                 # 1M items, 5 rounds
 * deno run -A bench/python_map_bench.ts --items 100000 --rounds 3
 * ```
 *
 * Without `python3` on PATH the bench says so and exits 0.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { WorkerPoolExecutor } from "../mod.ts";
import { inc, isPrime } from "./_map_tasks.ts";
import { median } from "./_rounds.ts";

const WORKERS = 2;
const CHUNKSIZE = 1000;

// The Python side: the same two functions, the same pool size and chunk size. It reads the
// workload and item count from argv and prints the milliseconds the map took.
const PYTHON = `
import sys, time
from concurrent.futures import ProcessPoolExecutor

def inc(x):
    return x + 1

def is_prime(n):
    if n < 2:
        return False
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return True

if __name__ == "__main__":
    workload, n = sys.argv[1], int(sys.argv[2])
    fn = inc if workload == "tiny" else is_prime
    with ProcessPoolExecutor(max_workers=${WORKERS}) as pool:
        for _ in pool.map(fn, range(n), chunksize=${CHUNKSIZE}):
            pass
        start = time.perf_counter()
        last = None
        for last in pool.map(fn, range(n), chunksize=${CHUNKSIZE}):
            pass
        ms = (time.perf_counter() - start) * 1000
    print(ms, last)
`;

interface Settings {
  items: number;
  primeItems: number;
  rounds: number;
}

function parseSettings(args: string[]): Settings | "help" {
  const { values } = parseArgs({
    args,
    options: {
      items: { type: "string" },
      "prime-items": { type: "string" },
      rounds: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const positive = (name: string, raw: string | undefined, fallback: number) => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new RangeError(
        `'--${name}' must be a positive integer: received ${JSON.stringify(raw)}`,
      );
    }
    return value;
  };
  return {
    items: positive("items", values.items, 1_000_000),
    primeItems: positive("prime-items", values["prime-items"], 200_000),
    rounds: positive("rounds", values.rounds, 5),
  };
}

async function python(script: string, workload: string, n: number): Promise<number> {
  const out = await new Deno.Command("python3", {
    args: [script, workload, String(n)],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`python3 exited with code ${out.code}`);
  const [ms] = new TextDecoder().decode(out.stdout).trim().split(" ");
  return Number(ms);
}

async function ours(
  pool: WorkerPoolExecutor,
  fn: (x: number) => unknown,
  n: number,
): Promise<number> {
  const items = {
    *[Symbol.iterator]() {
      for (let i = 0; i < n; i++) yield i;
    },
  };
  const start = performance.now();
  for await (const _ of pool.map(fn, items, { chunksize: CHUNKSIZE })) { /* consume */ }
  return performance.now() - start;
}

async function hasPython(): Promise<boolean> {
  try {
    return (await new Deno.Command("python3", { args: ["--version"], stdout: "null" }).output())
      .success;
  } catch {
    return false;
  }
}

async function main(args: string[]): Promise<void> {
  const settings = parseSettings(args);
  if (settings === "help") {
    console.log("deno run -A bench/python_map_bench.ts [--items N] [--prime-items N] [--rounds R]");
    return;
  }
  if (!(await hasPython())) {
    console.log("skipped: python3 is not on PATH");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "futures-pymap-" });
  const script = `${dir}/map_bench.py`;
  await Deno.writeTextFile(script, PYTHON);
  const version = new TextDecoder().decode(
    (await new Deno.Command("python3", { args: ["--version"], stdout: "piped" }).output()).stdout,
  ).trim();
  await using pool = new WorkerPoolExecutor({
    maxWorkers: WORKERS,
    modules: [new URL("./_map_tasks.ts", import.meta.url).href],
  });
  try {
    // One untimed round of each at full size, as the Python side does before its timed map.
    await ours(pool, inc, settings.items);
    await ours(pool, isPrime, settings.primeItems);
    console.log(
      `Deno ${Deno.version.deno}, ${version}, ${WORKERS} workers each, chunksize ${CHUNKSIZE}, ` +
        `${settings.rounds} rounds, load average ${
          Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
        }`,
    );
    for (
      const [workload, fn, n] of [
        ["tiny", inc, settings.items],
        ["prime", isPrime, settings.primeItems],
      ] as const
    ) {
      const ratios: number[] = [];
      const oursMs: number[] = [];
      const pyMs: number[] = [];
      for (let round = 0; round < settings.rounds; round++) {
        let a: number, b: number;
        if (round % 2 === 0) {
          a = await ours(pool, fn, n);
          b = await python(script, workload, n);
        } else {
          b = await python(script, workload, n);
          a = await ours(pool, fn, n);
        }
        oursMs.push(a);
        pyMs.push(b);
        ratios.push(b / a);
        console.error(
          `  ${workload} round ${round + 1}: ours ${a.toFixed(0)} ms, Python ${b.toFixed(0)} ms, ` +
            `${(b / a).toFixed(2)}×`,
        );
      }
      const rate = (ms: number) => Math.round(n / (ms / 1000)).toLocaleString("en-US");
      const goal = workload === "tiny" ? " (goal ≥ 2×)" : "";
      console.log(
        `${workload}, ${n.toLocaleString("en-US")} items: WorkerPoolExecutor.map ` +
          `${rate(median(oursMs))} items/s, ProcessPoolExecutor.map ${
            rate(median(pyMs))
          } items/s; ` +
          `ours/Python ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–` +
          `${Math.max(...ratios).toFixed(2)})${goal}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    Deno.exit(2);
  }
}

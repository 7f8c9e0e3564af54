#!/usr/bin/env -S deno run -A --no-config
/**
 * Start-up cost of `WorkerPoolExecutor` against a bare Web Worker doing the same, in one run.
 *
 * Each round starts three programs (`_startup_child.ts`) in turn, in a rotated order: one that
 * runs one tiny task on a bare `new Worker()`, and two that run it on a new `WorkerPoolExecutor`
 * (a task module's export, and an inline function sent by source). Two figures each:
 *
 * - first result: from the constructor (`new Worker` / `new WorkerPoolExecutor`) to the value,
 *   measured inside the program; the library's import time is shown apart;
 * - whole program: from spawning `deno run` to its exit, measured here.
 *
 * ```sh
 * deno run -A bench/startup_bench.ts             # 9 rounds
 * deno run -A bench/startup_bench.ts --rounds 15
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

const CHILD = new URL("./_startup_child.ts", import.meta.url).pathname;
const CONFIG_PATH = new URL("../deno.json", import.meta.url).pathname;
const CONFIG = exists(CONFIG_PATH) ? ["--config", CONFIG_PATH] : ["--no-config"];

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
const MODES = ["raw", "module", "inline"] as const;
type Mode = typeof MODES[number];

interface Sample {
  importMs: number;
  firstMs: number;
  wallMs: number;
}

async function once(mode: Mode): Promise<Sample> {
  const start = performance.now();
  const output = await new Deno.Command(Deno.execPath(), {
    // With the repository's deno.json when there is one: it maps the parser that checks
    // functions sent by source.
    args: ["run", "-A", ...CONFIG, CHILD, mode],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const wallMs = performance.now() - start;
  if (!output.success) throw new Error(`the ${mode} program failed (code ${output.code})`);
  const { importMs, firstMs } = JSON.parse(new TextDecoder().decode(output.stdout));
  return { importMs, firstMs, wallMs };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function spread(values: number[]): string {
  return `${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string" } } });
  const rounds = Number(values.rounds ?? 9);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`'--rounds' must be a positive integer: received ${values.rounds}`);
  }
  // One untimed round: the first run of each program fills Deno's module cache.
  for (const mode of MODES) await once(mode);
  const samples: Record<Mode, Sample[]> = { raw: [], module: [], inline: [] };
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < MODES.length; i++) {
      const mode = MODES[(round + i) % MODES.length]!;
      samples[mode].push(await once(mode));
    }
    console.error(
      `round ${round + 1}/${rounds}: ` +
        MODES.map((m) => {
          const s = samples[m].at(-1)!;
          return `${m} first ${s.firstMs.toFixed(1)} ms, exit ${s.wallMs.toFixed(0)} ms`;
        }).join("; "),
    );
  }
  const ratio = (mode: Mode, field: keyof Sample) =>
    median(samples[mode].map((s, r) => s[field] / samples.raw[r]![field]));
  console.log(
    `Deno ${Deno.version.deno}, ${rounds} rounds, load average ${
      Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
    }; medians (min–max), ratios are medians of per-round ratios to the bare worker\n`,
  );
  const rows = [["program", "import ms", "first result ms", "vs raw", "run → exit ms", "vs raw"]];
  for (const mode of MODES) {
    const s = samples[mode];
    const label = mode === "raw"
      ? "bare Web Worker"
      : `WorkerPoolExecutor, ${mode === "module" ? "module function" : "inline function"}`;
    const col = (field: keyof Sample) =>
      `${median(s.map((x) => x[field])).toFixed(1)} (${spread(s.map((x) => x[field]))})`;
    rows.push([
      label,
      col("importMs"),
      col("firstMs"),
      `${ratio(mode, "firstMs").toFixed(2)}x`,
      col("wallMs"),
      `${ratio(mode, "wallMs").toFixed(2)}x`,
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) {
    console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
  }
}

if (import.meta.main) await main();

// Measuring and reporting for the worker-pool benchmark: contenders run in rounds, in turn,
// and the table that compares them.

/** A line of the table. `ratio` is against the floor of the same workload, measured alongside. */
export interface Row {
  workload: string;
  contender: string;
  figure: string;
  ratio?: number;
  goal?: string;
  met?: boolean;
}

/** What one workload reports: its rows, and every sample for the JSON output. */
export interface WorkloadResult {
  name: string;
  rows: Row[];
  samples: Record<string, unknown[]>;
  /** Cores' worth of CPU that other processes used meanwhile (Linux only). */
  otherCores?: number;
}

/** One contender of a workload: `run` returns one or more named samples for the round. */
export interface Contender<S> {
  name: string;
  /** Whether to run it in the warm-up rounds (the Node peer warms itself up in each process). */
  warm: boolean;
  run(round: number): Promise<Record<string, S>>;
}

/** Round-trip percentiles, in µs. */
export type Latency = { p50: number; p99: number };
/** Where progress lines go. */
export type Log = (line: string) => void;

// --- measuring ---

/** The median; the mean of the middle two for an even count. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The median over rounds of `f(round)`: a ratio between samples taken in the same round. */
export function pairedMedian(rounds: number, f: (round: number) => number): number {
  return median(Array.from({ length: rounds }, (_, round) => f(round)));
}

/**
 * Runs every contender once per round, in an order rotated each round so that each takes each
 * position in turn; warm-up rounds come first and are not kept.
 */
export async function runRounds<S>(
  settings: { rounds: number; warmup: number },
  contenders: Contender<S>[],
  report: (round: number, samples: Record<string, S[]>) => string,
  log: Log,
): Promise<Record<string, S[]>> {
  for (let i = 0; i < settings.warmup; i++) {
    for (const contender of contenders) if (contender.warm) await contender.run(-1);
  }
  const samples: Record<string, S[]> = {};
  for (let round = 0; round < settings.rounds; round++) {
    const shift = round % contenders.length;
    const order = [...contenders.slice(shift), ...contenders.slice(0, shift)];
    for (const contender of order) {
      for (const [name, sample] of Object.entries(await contender.run(round))) {
        (samples[name] ??= []).push(sample);
      }
    }
    log(`  round ${round + 1}/${settings.rounds}: ${report(round, samples)}`);
  }
  return samples;
}

/** Milliseconds for `work`, which must give `expected`. */
export async function timed(
  work: () => Promise<unknown> | unknown,
  expected: unknown,
): Promise<number> {
  const start = performance.now();
  const value = await work();
  const ms = performance.now() - start;
  if (value !== expected) throw new Error(`wrong result: ${value}, expected ${expected}`);
  return ms;
}

/** p50 and p99 in µs of `trips` sequential calls, each awaited before the next. */
export async function latencies(trips: number, call: (i: number) => PromiseLike<unknown>) {
  const micros = new Float64Array(trips);
  for (let i = 0; i < trips; i++) {
    const start = performance.now();
    await call(i);
    micros[i] = (performance.now() - start) * 1000;
  }
  micros.sort();
  return { p50: percentile(micros, 0.5), p99: percentile(micros, 0.99) };
}

/** CPU ticks used by the whole machine and by this process with its children (Linux only). */
function cpuTicks(): { at: number; busy: number; mine: number } | undefined {
  try {
    const all = Deno.readTextFileSync("/proc/stat").split("\n")[0]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
    const busy = all[1]! + all[2]! + all[3]! + all[6]! + all[7]! + all[8]!;
    const self = Deno.readTextFileSync("/proc/self/stat");
    const fields = self.slice(self.lastIndexOf(")") + 2).split(" ").map(Number);
    // utime, stime, cutime, cstime (node and npm are children, counted once they have exited).
    const mine = fields[11]! + fields[12]! + fields[13]! + fields[14]!;
    return { at: performance.now(), busy, mine };
  } catch {
    return undefined;
  }
}

/** Runs `workload` and notes how much CPU other processes took meanwhile, in cores. */
export async function observed(workload: () => Promise<WorkloadResult>): Promise<WorkloadResult> {
  const before = cpuTicks();
  const result = await workload();
  const after = cpuTicks();
  if (before && after && after.at > before.at) {
    const ticksPerSecond = 100; // USER_HZ on Linux
    const others = (after.busy - before.busy) - (after.mine - before.mine);
    result.otherCores = Math.max(0, others / ticksPerSecond / ((after.at - before.at) / 1000));
  }
  return result;
}

// --- output ---

/** Three decimals below 10, so that a ratio next to its goal reads the way it was judged. */
function fmtRatio(ratio: number): string {
  return `${ratio < 10 ? ratio.toFixed(3) : ratio.toFixed(1)}x`;
}

export function fmtRate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString("en-US");
}

export function fmtMicros(us: number): string {
  return us.toFixed(1);
}

export function fmtPercent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

export function fmtMs(ms: number): string {
  return ms < 10 ? ms.toFixed(2) : ms.toFixed(1);
}

export function table(results: WorkloadResult[], header: string[], notes: string[]): string {
  const head = ["workload", "contender", "figure (median)", "vs floor", "goal", "met?"];
  const lines: string[][] = [head];
  for (const { rows } of results) {
    rows.forEach((row, i) => {
      lines.push([
        i === 0 ? row.workload : "",
        row.contender,
        row.figure,
        row.ratio === undefined ? "" : fmtRatio(row.ratio),
        row.goal ?? "",
        row.met === undefined ? "" : row.met ? "yes" : "NO",
      ]);
    });
  }
  const widths = head.map((_, c) => Math.max(...lines.map((line) => line[c]!.length)));
  const format = (line: string[]) =>
    line.map((cell, c) => c === 3 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))
      .join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [...header, "", format(head), rule, ...lines.slice(1).map(format), "", ...notes].join(
    "\n",
  );
}

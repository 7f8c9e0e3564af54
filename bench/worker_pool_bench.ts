#!/usr/bin/env -S deno run -A --no-config
/**
 * `WorkerPoolExecutor` against the raw transport floor and against piscina, side by side in one
 * run, with 2 workers each.
 *
 * (a) Throughput: 100k tiny tasks (`add(i, 1)`) all in flight, in tasks/s, against two raw
 *     floors written here, each a pool of Web Workers fed one `postMessage` per task, round-robin,
 *     answered one message per task, with a Map of resolvers:
 *     - the object floor: one `{ id, fn, args }` object per task;
 *     - the per-message array floor: one `[id, x]` array per task (cheaper to clone, so higher).
 *       This is the goal's floor: every call form must reach >= 1.5x of it, which batching tasks
 *       into columnar messages should reach.
 *     The pool is measured in every call form: `await future` and `future.result()`, on a
 *     function of a task module and on an inline function (sent by source), and `map` with a
 *     chunksize. One untimed warm-up round runs first.
 * (b) Round trips: 5k sequential tasks (each awaited before the next), p50 and p99 in µs. Goal:
 *     p50 ≤ 1.1× the object floor's, for `await future` and `future.result()`. The array floor
 *     runs beside it: the pool's messages are bare arrays too, so it is the fairer bar to read
 *     the pool against. Measured twice: as the scheduler places the threads, and with every
 *     thread of the process pinned to one CPU (`taskset`, Linux). On a VM a message to a thread on
 *     an idle vCPU waits for the host to wake that vCPU, which can cost tens of µs and comes and
 *     goes with the host's load; pinned, what is left is the software's own cost.
 * (c) CPU: the primes below 2,000,000 counted in chunks; efficiency = main-thread-alone time /
 *     (pool time × 2 workers). Goal: ≥ 0.95× the raw pool's efficiency, measured in the same
 *     rounds, which shows what the host allows: a shared VM may give less than two full cores. This
 *     workload runs first, before the others have kept both cores busy for a minute.
 * (d) 64 MiB to a worker by copy, by transfer (`pool.with({ transfer: [buf] })`) and as a
 *     `SharedArrayBuffer`, in ms, against the same through the raw pool.
 * (e) Peer: piscina (pinned version, 2 threads) on Node runs (a) and (b), next to a raw
 *     `worker_threads` pool (Node's own floor). piscina is installed with npm into a temporary
 *     folder for the run and removed afterwards; it is not a dependency of this project. Without
 *     npm or node the table says why the peer rows were skipped.
 * (f) Observers: (b)'s round trips on a pool alone, on a second pool alone (the control: how far
 *     two identical pools drift apart) and on a pool with metrics, traces (no OTel SDK) and the
 *     dashboard attached; the ratios' median and range over the rounds. Then the recording path
 *     alone, in ns per task.
 *
 * The machines are shared VMs whose speed drifts from minute to minute, so the contenders
 * alternate round by round (each takes each position in turn), figures are medians over the
 * rounds, and each ratio is the median of the per-round ratios against the floor measured in the
 * same round. Compare ratios, not absolute figures from another run.
 *
 * It needs no deno.json (no task, no import map): from the repository root run
 *
 * ```sh
 * deno run -A bench/worker_pool_bench.ts
 * deno run -A --no-config bench/worker_pool_bench.ts        # the same, ignoring deno.json
 * deno run -A bench/worker_pool_bench.ts --quick            # a smoke test: fewer rounds and items
 * deno run -A bench/worker_pool_bench.ts --json > out.json  # machine-readable
 * ./bench/worker_pool_bench.ts --help                       # through the shebang line
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { WorkerPoolExecutor } from "../mod.ts";
import { add, countPrimes, countPrimesTimed, inc, lastByte } from "./_worker_tasks.ts";
import { RawPool } from "./_raw_pool.ts";
import { RawArrayPool } from "./_raw_array_pool.ts";
import { type PeerRound, PISCINA_VERSION, PiscinaPeer } from "./_piscina_peer.ts";
import { Affinity } from "./_affinity.ts";
import { observerCost } from "./_observer_cost.ts";
import {
  type Contender,
  fmtMicros,
  fmtMs,
  fmtPercent,
  fmtRate,
  latencies,
  type Latency,
  type Log,
  median,
  observed,
  pairedMedian,
  type Row,
  runRounds,
  table,
  timed,
  type WorkloadResult,
} from "./_rounds.ts";

const USAGE = `Usage: deno run -A bench/worker_pool_bench.ts [options]

WorkerPoolExecutor (2 workers) against a raw postMessage pool and piscina on Node.

Options:
  --quick        a smoke test: 2 rounds, fewer tasks, smaller primes and buffers
  --rounds N     measured rounds per workload (default 7; 2 with --quick)
  --only LIST    run only these workloads, comma-separated:
                 throughput,roundtrips,primes,messages,observers
  --skip-peer    do not install and run piscina
  --json         print the results as JSON (progress still goes to stderr unless --json)
  -h, --help     show this help`;

const WORKERS = 2;
const TASKS_URL = new URL("./_worker_tasks.ts", import.meta.url);
const MIB = 1024 * 1024;
const MESSAGE_REPEATS = 5;

const GOALS = {
  /** Every call form against the per-message array floor: batching must beat it. */
  throughputArrays: 1.5,
  roundTripP50: 1.1,
  /** CPU work: the pool's efficiency against the raw pool's in the same rounds. */
  efficiency: 0.95,
};

/** What a run measures; `--quick` shrinks every workload. */
interface Settings {
  rounds: number;
  warmup: number;
  tasks: number;
  chunksize: number;
  trips: number;
  primesBelow: number;
  primeChunks: number;
  bytes: number;
  only: string[];
  peer: boolean;
  json: boolean;
  quick: boolean;
}

const WORKLOADS = ["throughput", "roundtrips", "primes", "messages", "observers"];

const FULL = {
  rounds: 7,
  warmup: 1,
  tasks: 100_000,
  chunksize: 1_000,
  trips: 5_000,
  primesBelow: 2_000_000,
  primeChunks: 100,
  bytes: 64 * MIB,
};

const QUICK = {
  rounds: 2,
  warmup: 1,
  tasks: 10_000,
  chunksize: 100,
  trips: 500,
  primesBelow: 300_000,
  primeChunks: 20,
  bytes: 8 * MIB,
};

/**
 * A pool as the contenders use it. `idleTimeout` stays finite, so the per-task idle-timer work of
 * the default (1000 ms) is measured, but long enough that workers do not exit while the other
 * contenders take their turn (respawning them would be timed).
 */
function newPool(idleTimeout = 60_000): WorkerPoolExecutor {
  return new WorkerPoolExecutor({ maxWorkers: WORKERS, modules: [TASKS_URL], idleTimeout });
}

/** The peer's contender for a workload, or undefined when there is no peer. */
function peerContender<S>(
  peer: PiscinaPeer | undefined,
  workload: PeerRound["workload"],
  count: number,
  convert: (value: PeerRound["results"]["raw"]) => S,
): Contender<S> | undefined {
  if (!peer) return undefined;
  return {
    name: "piscina",
    warm: false,
    run: async (round) => {
      const { results } = await peer.round(workload, count, round);
      return { piscina: convert(results.piscina), nodeRaw: convert(results.raw) };
    },
  };
}

// --- the workloads ---

/** The tiny task again, written inline: it goes to the workers by source, not as a module export. */
const addInline = (a: number, b: number): number => a + b;

/** The call forms of (a): every one must beat the per-message floor. */
const SUBMIT_FORMS: {
  name: string;
  label: string;
  submit: (pool: WorkerPoolExecutor, i: number) => PromiseLike<number>;
}[] = [
  { name: "awaitModule", label: "await future, module fn", submit: (p, i) => p.submit(add, i, 1) },
  {
    name: "resultModule",
    label: "future.result(), module fn",
    submit: (p, i) => p.submit(add, i, 1).result(),
  },
  {
    name: "awaitInline",
    label: "await future, inline fn",
    submit: (p, i) => p.submit(addInline, i, 1),
  },
  {
    name: "resultInline",
    label: "future.result(), inline fn",
    submit: (p, i) => p.submit(addInline, i, 1).result(),
  },
];

/** (a) Tiny tasks, all in flight: tasks/s. */
async function throughput(settings: Settings, peer: PiscinaPeer | undefined, log: Log) {
  const { tasks, chunksize } = settings;
  const items = Array.from({ length: tasks }, (_, i) => i);
  log(`throughput: ${tasks.toLocaleString("en-US")} tasks add(i, 1), all in flight`);
  await using pool = newPool();
  using raw = await RawPool.start(WORKERS);
  using rawArray = await RawArrayPool.start(WORKERS);
  const contenders: Contender<number>[] = [
    {
      name: "raw",
      warm: true,
      run: async () => ({
        raw: await timed(async () => {
          const pending = new Array<Promise<unknown>>(tasks);
          for (let i = 0; i < tasks; i++) pending[i] = raw.call("add", [i, 1]);
          return (await Promise.all(pending))[tasks - 1];
        }, tasks),
      }),
    },
    {
      name: "rawArray",
      warm: true,
      run: async () => ({
        rawArray: await timed(async () => {
          const pending = new Array<Promise<number>>(tasks);
          for (let i = 0; i < tasks; i++) pending[i] = rawArray.inc(i);
          return (await Promise.all(pending))[tasks - 1];
        }, tasks),
      }),
    },
    ...SUBMIT_FORMS.map(({ name, submit }): Contender<number> => ({
      name,
      warm: true,
      run: async () => ({
        [name]: await timed(async () => {
          const futures = new Array<PromiseLike<number>>(tasks);
          for (let i = 0; i < tasks; i++) futures[i] = submit(pool, i);
          return (await Promise.all(futures))[tasks - 1];
        }, tasks),
      }),
    })),
    {
      name: "map",
      warm: true,
      run: async () => ({
        map: await timed(async () => {
          let last = 0;
          for await (const value of pool.map(inc, items, { chunksize })) last = value;
          return last;
        }, tasks),
      }),
    },
  ];
  const peerRow = peerContender(peer, "throughput", tasks, Number);
  if (peerRow) contenders.push(peerRow);
  const rate = (ms: number) => tasks / ms * 1000;
  const samples = await runRounds(
    settings,
    contenders,
    (round, s) =>
      Object.entries(s).map(([name, ms]) => `${name} ${fmtRate(rate(ms[round]!))}`).join(", "),
    log,
  );
  const vsFloor = (name: string) =>
    pairedMedian(settings.rounds, (r) => samples.raw![r]! / samples[name]![r]!);
  const figure = (name: string) => `${fmtRate(median(samples[name]!.map(rate)))} tasks/s`;
  const workload = `(a) ${tasks.toLocaleString("en-US")} tiny tasks in flight`;
  const vsArrays = (name: string) =>
    pairedMedian(settings.rounds, (r) => samples.rawArray![r]! / samples[name]![r]!);
  const goal = `>= ${GOALS.throughputArrays}x arrays`;
  const met = (r: number) => r >= GOALS.throughputArrays;
  const rows: Row[] = [
    {
      workload,
      contender: "object floor: raw pool, one {id, fn, args} message per task",
      figure: figure("raw"),
      ratio: 1,
    },
    {
      workload,
      contender: "array floor: raw pool, one [id, x] message per task",
      figure: figure("rawArray"),
      ratio: vsFloor("rawArray"),
    },
    ...SUBMIT_FORMS.map(({ name, label }) =>
      goalRow(
        {
          workload,
          contender: `WorkerPoolExecutor ${label}, vs array floor`,
          figure: figure(name),
        },
        vsArrays(name),
        goal,
        met,
      )
    ),
    {
      workload,
      contender: `WorkerPoolExecutor map, chunksize ${chunksize}, vs array floor`,
      figure: figure("map"),
      ratio: vsArrays("map"),
    },
  ];
  if (samples.piscina) rows.push(...peerRows(workload, figure, vsFloor));
  return { name: "throughput", rows, samples };
}

/**
 * (b) Sequential round trips: p50 and p99 in µs; then the same with every thread pinned to one
 * CPU, which takes the host's vCPU wake-ups out and leaves the software's own cost.
 */
async function roundTrips(settings: Settings, peer: PiscinaPeer | undefined, log: Log) {
  const { trips } = settings;
  log(`round trips: ${trips.toLocaleString("en-US")} sequential add(i, 1)`);
  await using pool = newPool();
  await using noIdleTimer = newPool(Infinity);
  using raw = await RawPool.start(WORKERS);
  using raw1 = await RawPool.start(1);
  using rawArray = await RawArrayPool.start(WORKERS);
  const trip = {
    raw: () => latencies(trips, (i) => raw.call("add", [i, 1])),
    submit: () => latencies(trips, (i) => pool.submit(add, i, 1)),
    noIdleTimer: () => latencies(trips, (i) => noIdleTimer.submit(add, i, 1)),
  };
  const contenders: Contender<Latency>[] = [
    { name: "raw", warm: true, run: async () => ({ raw: await trip.raw() }) },
    {
      name: "rawArray",
      warm: true,
      run: async () => ({ rawArray: await latencies(trips, (i) => rawArray.inc(i)) }),
    },
    { name: "submit", warm: true, run: async () => ({ submit: await trip.submit() }) },
    {
      name: "submitResult",
      warm: true,
      run: async () => ({
        submitResult: await latencies(trips, (i) => pool.submit(add, i, 1).result()),
      }),
    },
    {
      // Sequential tasks all go to the same (least busy) worker of the pool: this is that pattern.
      name: "raw1",
      warm: true,
      run: async () => ({ raw1: await latencies(trips, (i) => raw1.call("add", [i, 1])) }),
    },
  ];
  const peerRow = peerContender(peer, "roundtrip", trips, (v) => v as Latency);
  if (peerRow) contenders.push(peerRow);
  const affinity = await Affinity.probe();
  if (affinity instanceof Affinity) {
    for (const [name, measure] of Object.entries(trip)) {
      const pinnedName = `${name}Pinned`;
      contenders.push({
        name: pinnedName,
        warm: true,
        run: async () => {
          await affinity.pin();
          try {
            return { [pinnedName]: await measure() };
          } finally {
            await affinity.restore();
          }
        },
      });
    }
  }
  const samples = await runRounds(
    settings,
    contenders,
    (round, s) =>
      Object.entries(s).map(([name, l]) =>
        `${name} p50 ${fmtMicros(l[round]!.p50)} p99 ${fmtMicros(l[round]!.p99)}`
      ).join(", "),
    log,
  );
  const ratio = (name: string, floor: string) =>
    pairedMedian(settings.rounds, (r) => samples[name]![r]!.p50 / samples[floor]![r]!.p50);
  const vsFloor = (name: string) => ratio(name, "raw");
  const figure = (name: string) =>
    `p50 ${fmtMicros(median(samples[name]!.map((l) => l.p50)))} µs, ` +
    `p99 ${fmtMicros(median(samples[name]!.map((l) => l.p99)))} µs`;
  const goal = `p50 <= ${GOALS.roundTripP50}x`;
  const met = (r: number) => r <= GOALS.roundTripP50;
  const workload = `(b) ${trips.toLocaleString("en-US")} sequential round trips`;
  const rows: Row[] = [
    { workload, contender: "raw postMessage pool (floor)", figure: figure("raw"), ratio: 1 },
    goalRow(
      { workload, contender: "WorkerPoolExecutor submit, await each", figure: figure("submit") },
      vsFloor("submit"),
      goal,
      met,
    ),
    goalRow(
      {
        workload,
        contender: "WorkerPoolExecutor submit, .result() each",
        figure: figure("submitResult"),
      },
      vsFloor("submitResult"),
      goal,
      met,
    ),
    {
      workload,
      contender: "raw postMessage, 1 worker (the pool's pattern here)",
      figure: figure("raw1"),
      ratio: vsFloor("raw1"),
    },
    {
      workload,
      contender: "raw [id, x] array pool (cheaper messages to clone)",
      figure: figure("rawArray"),
      ratio: vsFloor("rawArray"),
    },
    {
      workload,
      contender: "WorkerPoolExecutor submit, await each, vs the array pool",
      figure: figure("submit"),
      ratio: ratio("submit", "rawArray"),
    },
    {
      workload,
      contender: "WorkerPoolExecutor submit, .result() each, vs the array pool",
      figure: figure("submitResult"),
      ratio: ratio("submitResult", "rawArray"),
    },
  ];
  if (samples.piscina) rows.push(...peerRows(workload, figure, vsFloor));
  if (affinity instanceof Affinity) {
    rows.push(
      {
        workload,
        contender: "pinned to 1 CPU: raw postMessage pool (floor)",
        figure: figure("rawPinned"),
        ratio: 1,
      },
      goalRow(
        {
          workload,
          contender: "pinned to 1 CPU: WorkerPoolExecutor",
          figure: figure("submitPinned"),
        },
        ratio("submitPinned", "rawPinned"),
        goal,
        met,
      ),
      {
        workload,
        contender: "pinned to 1 CPU: same, idleTimeout: Infinity",
        figure: figure("noIdleTimerPinned"),
        ratio: ratio("noIdleTimerPinned", "rawPinned"),
      },
    );
  } else {
    rows.push({
      workload,
      contender: `pinned to 1 CPU: skipped (${affinity.unavailable})`,
      figure: "",
    });
  }
  return { name: "roundtrips", rows, samples };
}

/** One timed run of the chunks; for the pools, how the workers spent it. */
interface CpuRun {
  ms: number;
  /** Share of the workers' time between their first and last chunk spent waiting for work. */
  idle?: number;
  /** Time from the first worker's last chunk to the last worker's, as a share of the run. */
  tail?: number;
}

/** Reads the timings of countPrimesTimed() results: total count, idle and tail shares. */
function chunkTimings(results: [number, number, number, number][], ms: number) {
  const byWorker = new Map<number, [number, number][]>();
  let count = 0;
  for (const [n, start, end, worker] of results) {
    count += n;
    const spans = byWorker.get(worker) ?? [];
    spans.push([start, end]);
    byWorker.set(worker, spans);
  }
  let idle = 0, span = 0, firstDone = Infinity, lastDone = -Infinity;
  for (const spans of byWorker.values()) {
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) idle += spans[i]![0] - spans[i - 1]![1];
    const done = spans.at(-1)![1];
    span += done - spans[0]![0];
    firstDone = Math.min(firstDone, done);
    lastDone = Math.max(lastDone, done);
  }
  return { count, idle: idle / span, tail: (lastDone - firstDone) / ms };
}

/**
 * (c) Primes counted in chunks: CPU efficiency of the 2 workers against the main thread alone,
 * and where the pools' workers lost time (waiting between chunks, or done early at the end).
 */
async function primes(settings: Settings, log: Log) {
  const { primesBelow, primeChunks } = settings;
  const step = Math.ceil(primesBelow / primeChunks);
  const ranges: [number, number][] = [];
  for (let from = 0; from < primesBelow; from += step) {
    ranges.push([from, Math.min(primesBelow, from + step)]);
  }
  const expected = ranges.reduce((sum, [from, to]) => sum + countPrimes(from, to), 0);
  log(`primes below ${primesBelow.toLocaleString("en-US")} in ${ranges.length} chunks`);
  await using pool = newPool();
  using raw = await RawPool.start(WORKERS);
  type Timed = [number, number, number, number];
  const onWorkers = async (run: () => Promise<Timed[]>): Promise<CpuRun> => {
    const start = performance.now();
    const results = await run();
    const ms = performance.now() - start;
    const { count, idle, tail } = chunkTimings(results, ms);
    if (count !== expected) throw new Error(`wrong result: ${count}, expected ${expected}`);
    return { ms, idle, tail };
  };
  const contenders: Contender<CpuRun>[] = [
    {
      name: "main",
      warm: true,
      run: async () => ({
        main: {
          ms: await timed(
            () => ranges.reduce((s, [from, to]) => s + countPrimes(from, to), 0),
            expected,
          ),
        },
      }),
    },
    {
      name: "raw",
      warm: true,
      run: async () => ({
        raw: await onWorkers(() =>
          Promise.all(ranges.map((r) => raw.call("countPrimesTimed", r) as Promise<Timed>))
        ),
      }),
    },
    {
      name: "pool",
      warm: true,
      run: async () => ({
        pool: await onWorkers(() =>
          Promise.all(ranges.map(([a, b]) => pool.submit(countPrimesTimed, a, b)))
        ),
      }),
    },
  ];
  const samples = await runRounds(
    settings,
    contenders,
    (round, s) =>
      Object.entries(s).map(([name, runs]) => {
        const { ms, idle, tail } = runs[round]!;
        const detail = idle === undefined
          ? ""
          : ` (idle ${fmtPercent(idle)}, tail ${fmtPercent(tail!)})`;
        return `${name} ${fmtMs(ms)} ms${detail}`;
      }).join(", "),
    log,
  );
  const ms = (name: string) => samples[name]!.map((run) => run.ms);
  const efficiencyIn = (name: string, r: number) =>
    samples.main![r]!.ms / (samples[name]![r]!.ms * WORKERS);
  const efficiency = (name: string) => pairedMedian(settings.rounds, (r) => efficiencyIn(name, r));
  const figure = (name: string) =>
    `${fmtMs(median(ms(name)))} ms, efficiency ${efficiency(name).toFixed(3)}`;
  const lost = (name: string) =>
    `idle between chunks ${fmtPercent(median(samples[name]!.map((run) => run.idle!)))}, ` +
    `tail ${fmtPercent(median(samples[name]!.map((run) => run.tail!)))}`;
  const workload = `(c) primes below ${
    primesBelow.toLocaleString("en-US")
  }, ${ranges.length} chunks`;
  const rows: Row[] = [
    { workload, contender: "main thread alone", figure: `${fmtMs(median(ms("main")))} ms` },
    { workload, contender: "raw postMessage pool (floor)", figure: figure("raw"), ratio: 1 },
    { workload, contender: "  where its workers lost time", figure: lost("raw") },
    goalRow(
      { workload, contender: "WorkerPoolExecutor submit", figure: figure("pool") },
      pairedMedian(settings.rounds, (r) => efficiencyIn("pool", r) / efficiencyIn("raw", r)),
      `>= ${GOALS.efficiency}x the raw pool`,
      (r) => r >= GOALS.efficiency,
    ),
    { workload, contender: "  where its workers lost time", figure: lost("pool") },
  ];
  return { name: "primes", rows, samples };
}

/**
 * (d) One large buffer to a worker and a tiny answer back, by copy, transfer, shared: the median
 * of a few sends per round.
 */
async function bigMessages(settings: Settings, log: Log) {
  const { bytes } = settings;
  log(`large messages: ${bytes / MIB} MiB by copy, by transfer, as a SharedArrayBuffer`);
  await using pool = newPool();
  using raw = await RawPool.start(WORKERS);
  const filled = <B extends ArrayBufferLike>(buffer: B): B => {
    new Uint8Array(buffer).fill(7);
    return buffer;
  };
  const copied = filled(new ArrayBuffer(bytes));
  const shared = filled(new SharedArrayBuffer(bytes));
  const modes = {
    copy: {
      buffer: () => copied,
      pool: (b: ArrayBuffer) => pool.submit(lastByte, b),
      raw: (b: ArrayBuffer) => raw.call("lastByte", [b]),
    },
    transfer: {
      buffer: () => filled(new ArrayBuffer(bytes)),
      pool: (b: ArrayBuffer) => pool.with({ transfer: [b] }).submit(lastByte, b),
      raw: (b: ArrayBuffer) => raw.call("lastByte", [b], [b]),
    },
    shared: {
      buffer: () => shared as unknown as ArrayBuffer,
      pool: (b: ArrayBuffer) => pool.submit(lastByte, b),
      raw: (b: ArrayBuffer) => raw.call("lastByte", [b]),
    },
  };
  const contenders: Contender<number>[] = [];
  for (const [mode, { buffer, ...sides }] of Object.entries(modes)) {
    for (const [side, send] of Object.entries(sides)) {
      const name = `${side} ${mode}`;
      contenders.push({
        name,
        warm: true,
        run: async () => {
          // One send is short and often hit by a hiccup of the host: keep the median of a few.
          const ms: number[] = [];
          for (let i = 0; i < MESSAGE_REPEATS; i++) {
            const b = buffer();
            ms.push(await timed(() => send(b), 7));
          }
          return { [name]: median(ms) };
        },
      });
    }
  }
  const samples = await runRounds(
    settings,
    contenders,
    (round, s) => Object.entries(s).map(([name, ms]) => `${name} ${fmtMs(ms[round]!)}`).join(", "),
    log,
  );
  const workload = `(d) ${bytes / MIB} MiB to a worker`;
  const rows: Row[] = [];
  for (const mode of Object.keys(modes)) {
    const raw = samples[`raw ${mode}`]!;
    const mine = samples[`pool ${mode}`]!;
    const label = mode === "shared" ? "SharedArrayBuffer" : `by ${mode}`;
    rows.push(
      {
        workload,
        contender: `raw postMessage pool (floor), ${label}`,
        figure: `${fmtMs(median(raw))} ms`,
        ratio: 1,
      },
      {
        workload,
        contender: `WorkerPoolExecutor, ${label}`,
        figure: `${fmtMs(median(mine))} ms`,
        ratio: pairedMedian(settings.rounds, (r) => mine[r]! / raw[r]!),
      },
    );
  }
  return { name: "messages", rows, samples };
}

function goalRow(row: Row, ratio: number, goal: string, met: (ratio: number) => boolean): Row {
  return { ...row, ratio, goal, met: met(ratio) };
}

function peerRows(
  workload: string,
  figure: (name: string) => string,
  vsFloor: (name: string) => number,
): Row[] {
  return [
    {
      workload,
      contender: `piscina ${PISCINA_VERSION} on Node (peer)`,
      figure: figure("piscina"),
      ratio: vsFloor("piscina"),
    },
    {
      workload,
      contender: "raw worker_threads pool on Node",
      figure: figure("nodeRaw"),
      ratio: vsFloor("nodeRaw"),
    },
  ];
}

// --- main ---

function parseSettings(args: string[]): Settings | "help" {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" },
      rounds: { type: "string" },
      only: { type: "string" },
      "skip-peer": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const quick = values.quick ?? false;
  const base = quick ? QUICK : FULL;
  let rounds = base.rounds;
  if (values.rounds !== undefined) {
    rounds = Number(values.rounds);
    if (!Number.isInteger(rounds) || rounds < 1) {
      throw new RangeError(
        `'--rounds' must be a positive integer: received ${JSON.stringify(values.rounds)}`,
      );
    }
  }
  const only = values.only?.split(",").map((name) => name.trim()) ?? WORKLOADS;
  for (const name of only) {
    if (!WORKLOADS.includes(name)) {
      throw new RangeError(
        `'--only' must list workloads among ${WORKLOADS.join(", ")}: received ${
          JSON.stringify(name)
        }`,
      );
    }
  }
  return { ...base, rounds, only, peer: !values["skip-peer"], json: values.json ?? false, quick };
}

async function main(args: string[]): Promise<void> {
  let settings: Settings | "help";
  try {
    settings = parseSettings(args);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    Deno.exit(2);
  }
  if (settings === "help") return console.log(USAGE);
  const json = settings.json;
  const log: Log = (line) => {
    if (!json) console.error(line);
  };

  let peer: PiscinaPeer | undefined;
  let peerStatus: string;
  const only = new Set(settings.only);
  if (!settings.peer) peerStatus = "skipped: --skip-peer";
  else if (!only.has("throughput") && !only.has("roundtrips")) {
    peerStatus = "skipped: it runs only the throughput and roundtrips workloads";
  } else {
    const setup = await PiscinaPeer.setup(log);
    if (setup instanceof PiscinaPeer) {
      peer = setup;
      peerStatus = `piscina ${PISCINA_VERSION}, installed for this run in a temporary folder`;
    } else peerStatus = `skipped: ${setup.skipped}`;
  }
  log(`peer row: ${peerStatus}`);

  const results: WorkloadResult[] = [];
  try {
    // The CPU workload goes first: after some seconds of both cores busy the host of a shared VM
    // may cap it near one core for a while, and the throughput rounds keep every core busy.
    if (only.has("primes")) results.push(await observed(() => primes(settings, log)));
    if (only.has("roundtrips")) {
      results.push(await observed(() => roundTrips(settings, peer, log)));
    }
    if (only.has("messages")) results.push(await observed(() => bigMessages(settings, log)));
    if (only.has("observers")) results.push(await observed(() => observerCost(settings, log)));
    if (only.has("throughput")) {
      results.push(await observed(() => throughput(settings, peer, log)));
    }
    results.sort((a, b) => WORKLOADS.indexOf(a.name) - WORKLOADS.indexOf(b.name));
  } finally {
    await peer?.close();
  }
  const nodeVersion = peer?.nodeVersion;

  const meta = {
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    node: nodeVersion,
    hardwareConcurrency: navigator.hardwareConcurrency,
    workers: WORKERS,
    loadavg: Deno.loadavg(),
    peer: peerStatus,
  };
  if (json) {
    const goals = results.flatMap((r) => r.rows).filter((row) => row.met !== undefined);
    console.log(JSON.stringify({ meta, settings, goals, workloads: results }, null, 2));
    return;
  }
  const header = [
    `Deno ${meta.deno} (V8 ${meta.v8})${nodeVersion ? `, Node ${nodeVersion}` : ""}, ` +
    `hardwareConcurrency ${meta.hardwareConcurrency}, ${WORKERS} workers per pool, ` +
    `${settings.rounds} rounds${settings.quick ? " (--quick)" : ""}, ` +
    `load average ${meta.loadavg.map((l) => l.toFixed(2)).join(" ")}`,
    `peer row: ${peerStatus}`,
  ];
  const notes = [
    "vs floor: median of the per-round ratios against the raw pool's figure in the same round",
    "  (a) tasks/s ratio, higher is better; (b) p50 ratio and (d) ms ratio, lower is better;",
    "  (c) efficiency ratio; the pinned rows of (b) are against the pinned floor; the pool's",
    "  rows of (a) are against the per-message [id, x] array floor (the goal's floor).",
    "  Absolute figures drift between runs on a shared machine.",
  ];
  const goals = results.flatMap((r) => r.rows).filter((row) => row.met !== undefined);
  notes.unshift(`goals met: ${goals.filter((row) => row.met).length} of ${goals.length}`, "");
  const others = results.filter((r) => r.otherCores !== undefined);
  if (others.length > 0) {
    notes.push(
      "CPU taken by other processes meanwhile (cores): " +
        others.map((r) => `${r.name} ${r.otherCores!.toFixed(2)}`).join(", ") +
        " (the host's own share of the VM's cores is not visible from inside)",
    );
  }
  console.log(table(results, header, notes));
}

if (import.meta.main) await main(Deno.args);

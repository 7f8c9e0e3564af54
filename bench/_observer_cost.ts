// The observers' cost, for the worker-pool benchmark: round trips on one pool with every observer
// of observe/ attached (metrics, traces through a no-op @opentelemetry/api, and the dashboard
// with a client reading its event stream) and with them detached, taking turns every 100 tasks;
// then the recording path alone, in ns per task.
//
// The same pool serves both, its observer switched on and off between blocks (two pools differ
// by a few percent on their own: where their threads landed). A third mode, detached again, is
// the control: its ratio to the first shows the noise the observed ratio is read against. The
// dashboard's snapshot (one a second, on the event loop) is sent in every mode: a p50 barely sees
// it, and it is not per task.

import { WorkerPoolExecutor } from "../mod.ts";
import { dashboardHandler, metricsHandler, traceExecutors } from "../observe/mod.ts";
import { type ExecutorObserver, observableOf } from "../executors/_observe.ts";
import type { Job, Task } from "../executors/_task.ts";
import { add } from "./_worker_tasks.ts";
import {
  type Contender,
  fmtMicros,
  type Latency,
  type Log,
  median,
  type Row,
  runRounds,
  type WorkloadResult,
} from "./_rounds.ts";

const WORKERS = 2;
const TASKS_URL = new URL("./_worker_tasks.ts", import.meta.url);
/** Simulated tasks per measurement of the recording path. */
const RECORDED = 200_000;

function newPool(): WorkerPoolExecutor {
  return new WorkerPoolExecutor({
    maxWorkers: WORKERS,
    modules: [TASKS_URL],
    idleTimeout: 60_000,
  });
}

/** Attaches every observer to `pool`; returns what to close and whether tracing is on. */
async function attachAll(pool: WorkerPoolExecutor): Promise<{ close(): void; tracing: string }> {
  const metrics = metricsHandler({ pool });
  let tracing = "traceExecutors (no OTel SDK: the API is a no-op)";
  try {
    await traceExecutors({ pool });
  } catch {
    // Run without deno.json (--no-config) the bare "@opentelemetry/api" does not resolve.
    tracing = "no traces (@opentelemetry/api needs deno.json)";
  }
  const dashboard = dashboardHandler({ pool }, { interval: 1000 });
  // A client on the event stream: a snapshot each second, as an open page gets.
  const events = dashboard(new Request("http://127.0.0.1/events")).body!.getReader();
  void (async () => {
    while (!(await events.read()).done);
  })().catch(() => {});
  await metrics(new Request("http://127.0.0.1/metrics")).text();
  return {
    tracing,
    close() {
      dashboard.close();
    },
  };
}

/**
 * The recording path alone: the events of `tasks` simulated tasks (submitted, queued, started on
 * a worker, which turns busy, ran, ended, the worker idle again, settled) sent to `observer`, in
 * ns per task.
 */
function recordingCost(observer: ExecutorObserver, settled: Task["future"], tasks: number): number {
  const fn = add as unknown as Task["fn"];
  // Jobs are reused (as the engine's are not, but allocation is not what is measured here).
  const jobs = Array.from({ length: 64 }, () => {
    const task = { fn, future: settled, kind: "call", traceparent: undefined } as unknown as Task;
    return {
      task,
      fn,
      attempt: 1,
      started: true,
      observerSlot: -1,
      options: {},
      queuedAt: performance.now(),
    } as unknown as Job;
  });
  const start = performance.now();
  // When the worker said the task ended (a worker pool's results tell it).
  const end = performance.timeOrigin + start;
  for (let i = 0; i < tasks; i++) {
    const job = jobs[i & 63]!;
    observer.submitted(job.task);
    observer.queued(job);
    const worker = i & 1 ? "worker 1" : "worker 2";
    observer.started(job, worker);
    observer.worker(worker, "busy");
    observer.ran(job, 0.01, end);
    observer.ended(job, true, undefined);
    observer.worker(worker, "idle");
    observer.settled(job.task, 0);
  }
  return (performance.now() - start) * 1e6 / tasks;
}

/**
 * What a `performance.now()` costs here, in ns: what the recorder would pay per read (it reads
 * none per attempt on a worker pool, whose workers say when their tasks ended).
 */
function clockCost(reads: number): number {
  let sum = 0;
  const start = performance.now();
  for (let i = 0; i < reads; i++) sum += performance.now();
  const ns = (performance.now() - start) * 1e6 / reads;
  return sum > 0 ? ns : ns;
}

/** Round trips in a row on one pool before the next takes its turn (its worker stays warm). */
const BLOCK = 100;

/**
 * p50 and p99 in µs of `trips` sequential round trips on `pool` in each mode, the modes taking
 * turns every `BLOCK` trips (in a rotating order), so that each sees the same stretches of a
 * shared machine's load. `observer` is the pool's observer in a mode, or undefined.
 */
async function interleaved(
  trips: number,
  pool: WorkerPoolExecutor,
  modes: Record<string, ExecutorObserver | undefined>,
): Promise<Record<string, Latency>> {
  const core = observableOf(pool)!;
  const entries = Object.entries(modes);
  const micros = entries.map(() => new Float64Array(trips));
  try {
    for (let block = 0; block * BLOCK < trips; block++) {
      for (let k = 0; k < entries.length; k++) {
        const m = (block + k) % entries.length;
        core.observer = entries[m]![1];
        for (let i = block * BLOCK; i < Math.min(trips, (block + 1) * BLOCK); i++) {
          const start = performance.now();
          await pool.submit(add, i, 1);
          micros[m]![i] = (performance.now() - start) * 1000;
        }
      }
    }
  } finally {
    core.observer = modes.observed;
  }
  const at = (sorted: Float64Array, q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;
  return Object.fromEntries(entries.map(([name], m) => {
    const sorted = micros[m]!.sort();
    return [name, { p50: at(sorted, 0.5), p99: at(sorted, 0.99) }];
  }));
}

/** (f) Round trips with and without observers, and the recording path's cost per task. */
export async function observerCost(
  settings: { rounds: number; warmup: number; trips: number },
  log: Log,
): Promise<WorkloadResult> {
  const { trips } = settings;
  log(`observers: ${trips.toLocaleString("en-US")} sequential add(i, 1), with and without`);
  await using pool = newPool();
  const attached = await attachAll(pool);
  const observer = observableOf(pool)!.observer!;
  try {
    const contender: Contender<Latency> = {
      name: "modes",
      warm: true,
      run: () =>
        interleaved(trips, pool, { alone: undefined, control: undefined, observed: observer }),
    };
    const samples = await runRounds(
      settings,
      [contender],
      (round, s) =>
        Object.entries(s).map(([name, l]) => `${name} p50 ${fmtMicros(l[round]!.p50)}`).join(", "),
      log,
    );
    const ratios = (name: string) =>
      samples[name]!.map((l, round) => l.p50 / samples.alone![round]!.p50);
    const spread = (values: number[]) =>
      `median ${median(values).toFixed(3)}x, range ${Math.min(...values).toFixed(3)}–${
        Math.max(...values).toFixed(3)
      }x`;
    const p50 = (name: string) => `p50 ${fmtMicros(median(samples[name]!.map((l) => l.p50)))} µs`;

    // The recording path, measured on the pool's own observer (the objects the round trips went
    // through), warm.
    const done = pool.submit(add, 1, 1);
    await done;
    recordingCost(observer, done as Task["future"], RECORDED);
    const perTask: number[] = [];
    const clock: number[] = [];
    for (let round = 0; round < settings.rounds; round++) {
      perTask.push(recordingCost(observer, done as Task["future"], RECORDED));
      clock.push(clockCost(RECORDED));
    }
    const workload = `(f) observers, ${trips.toLocaleString("en-US")} round trips`;
    const rows: Row[] = [
      {
        workload,
        contender: "WorkerPoolExecutor, observers detached",
        figure: p50("alone"),
        ratio: 1,
      },
      {
        workload,
        contender: `the same, detached again: the noise (${spread(ratios("control"))})`,
        figure: p50("control"),
        ratio: median(ratios("control")),
      },
      {
        workload,
        contender: `the same with metrics + ${attached.tracing} + dashboard (${
          spread(ratios("observed"))
        })`,
        figure: p50("observed"),
        ratio: median(ratios("observed")),
      },
      {
        workload,
        contender: "recording path alone, 8 events per task",
        figure: `${median(perTask).toFixed(0)} ns/task (range ${Math.min(...perTask).toFixed(0)}–${
          Math.max(...perTask).toFixed(0)
        }), no clock read (one costs ${median(clock).toFixed(0)} ns)`,
      },
    ];
    return {
      name: "observers",
      rows,
      samples: { ...samples, recordingNsPerTask: perTask, clockReadNs: clock },
    };
  } finally {
    attached.close();
  }
}

/**
 * Prometheus metrics for executors: {@linkcode metricsHandler} serves them in the text exposition
 * format 0.0.4 for `Deno.serve`, {@linkcode readMetrics} returns the same numbers as objects.
 *
 * The format is written here rather than with prom-client. Measured on this machine (Deno 2.9.6):
 * recording an attempt (two histograms and a counter, labelled by executor) took prom-client
 * about 850 ns and these counters about 15 ns; importing prom-client took 130–190 ms against
 * 2–11 ms for this module; a scrape of four executors took about the same (0.15–0.25 ms). The
 * numbers that `stats()` already keeps are read from it at scrape time, not recorded twice.
 *
 * @module
 */

import type { CircuitState, DomainCircuitStats } from "../executors/circuit_breaker.ts";

/**
 * How a task or an attempt ended.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { type Outcome, readMetrics } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * await io.submit(() => "ok");
 * const outcome: Outcome = "completed";
 * assert.equal(readMetrics([io])[0]!.tasks[outcome], 1);
 * ```
 */
export type Outcome = "completed" | "failed" | "cancelled";
import { type Executors, observeAll, type Observed } from "./_registry.ts";
import { BUCKETS } from "./_histogram.ts";
import { checkOptionsArgument, refuse } from "../future/_options.ts";
import { allowedHostsOf, refusedHost } from "./_hosts.ts";

export type { Executors } from "./_registry.ts";

/**
 * A histogram's cumulative counts (`le` is the upper bound in seconds, `+Inf` last).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { type HistogramSnapshot, readMetrics } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * readMetrics([io]); // starts recording
 * await io.submit(() => new Promise((r) => setTimeout(r, 5)));
 * const duration: HistogramSnapshot = readMetrics([io])[0]!.duration;
 * assert.equal(duration.count, 1);
 * assert(duration.sum >= 0.004); // seconds
 * assert.deepEqual(duration.buckets.at(-1), { le: "+Inf", count: 1 });
 * ```
 */
export interface HistogramSnapshot {
  /** Cumulative counts per upper bound. */
  buckets: { le: string; count: number }[];
  /** The sum of the observed values, in seconds. */
  sum: number;
  /** How many values were observed. */
  count: number;
}

/**
 * The numbers of one executor, as {@linkcode metricsHandler} serves them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPoolExecutor } from "@concurrent/futures";
 * import { type ExecutorMetrics, readMetrics } from "@concurrent/futures/observe";
 *
 * await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 1 });
 * await cpu.submit(() => 1);
 * const [m]: ExecutorMetrics[] = readMetrics([cpu]);
 * assert.equal(m!.executor, "cpu");
 * assert.equal(m!.kind, "WorkerPoolExecutor");
 * assert.equal(m!.tasks.completed, 1);
 * assert.equal(m!.workers.idle, 1);
 * ```
 */
export interface ExecutorMetrics {
  /** The `executor` label. */
  executor: string;
  /** Its class, e.g. `WorkerPoolExecutor`. */
  kind: string;
  /** Futures settled, by outcome. */
  tasks: Record<Outcome, number>;
  /** Attempts ended, by outcome: a retried task counts each attempt. */
  attempts: Record<Outcome, number>;
  /** Tasks waiting to start. */
  queued: number;
  /** Tasks running. */
  running: number;
  /**
   * Workers by state (an AsyncPoolExecutor has none). `draining` workers are also `retiring`:
   * those whose event loop answered, which finish their other tasks before they end.
   */
  workers: {
    starting: number;
    idle: number;
    busy: number;
    retiring: number;
    draining: number;
    spinning: number;
  };
  /** Workers replaced. */
  restarts: number;
  /** Run time of attempts, in seconds. */
  duration: HistogramSnapshot;
  /** Time attempts waited before they started, in seconds. */
  wait: HistogramSnapshot;
  /** Each domain's circuit: 0 closed, 1 half-open, 2 open. */
  circuits: { domain: string; state: 0 | 1 | 2 }[];
  /** For a DistributedExecutor: the cluster as this client sees it. */
  cluster?: {
    /** Workers whose heartbeat was heard within the expiry, by name. */
    workers: string[];
    /** Tasks in the queue's stream that no worker has taken (read from JetStream). */
    streamDepth: number;
    /** Deliveries after the first (a worker was lost, or gave a task back). */
    redeliveries: number;
  };
}

/**
 * Options of {@linkcode readMetrics} and {@linkcode metricsHandler}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 * import { readMetrics } from "@concurrent/futures/observe";
 *
 * await using executor = new DistributedExecutor({ maxWorkers: 1, name: "jobs" });
 * await executor.whenStarted();
 * const [m] = readMetrics([executor], { workerExpiry: 10_000 });
 * assert.equal(m!.executor, "jobs");
 * assert(m!.cluster !== undefined); // its cluster.workers: those heard within the last 10 s
 * ```
 */
export interface MetricsOptions {
  /**
   * A cluster worker whose heartbeat has not been heard for this long leaves `cluster.workers`,
   * in ms. By default three of the worker's own heartbeat intervals (`--heartbeat`, 2 s). An
   * executor's cluster has one expiry, shared by all its handlers: the first that gives one sets
   * it, and a different one given later is refused with a `TypeError`.
   * @default {6000}
   */
  workerExpiry?: number;
}

/**
 * Options of {@linkcode metricsHandler}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { metricsHandler } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const handler = metricsHandler({ io }, { workerExpiry: 10_000, allowedHosts: ["app.internal"] });
 * const response = handler(new Request("http://app.internal:9464/metrics"));
 * assert.equal(response.status, 200);
 * assert.match(await response.text(), /executor="io"/);
 * ```
 */
export interface MetricsHandlerOptions extends MetricsOptions {
  /**
   * Host names (or addresses) the metrics are served for besides the loopback ones (`localhost`,
   * `127.x.y.z`, `[::1]`) and IP addresses (`10.0.0.5`, `[fd00::5]`), always answered: a
   * Prometheus server that scrapes a target by address sends it. The name of each request (its
   * `Host` header and URL) is compared without its port and case-insensitively; any other is
   * refused with 403. This stops a web page from reading the metrics through the user's browser
   * by pointing a name of its own at the server's address (DNS rebinding). `"*"` answers any
   * name: only behind a reverse proxy that checks it.
   *
   * @default {[]}
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * import { metricsHandler } from "@concurrent/futures/observe";
   *
   * await using io = new AsyncPoolExecutor({ name: "io" });
   * const handler = metricsHandler([io], { allowedHosts: ["metrics.example.com"] });
   * assert.equal(handler(new Request("http://metrics.example.com:9464/metrics")).status, 200);
   * assert.equal(handler(new Request("http://10.0.0.5:9464/metrics")).status, 200);
   * const refused = handler(new Request("http://attacker.example/metrics"));
   * assert.equal(refused.status, 403);
   * assert.match(await refused.text(), /attacker\.example.*allowedHosts/);
   * ```
   */
  allowedHosts?: readonly string[];
}

const CIRCUIT: Record<CircuitState, 0 | 1 | 2> = { closed: 0, halfOpen: 1, open: 2 };

interface AnyStats {
  queued?: number;
  running?: number;
  inFlight?: number;
  redelivered?: number;
  restarts?: number;
  workers?: Partial<ExecutorMetrics["workers"]> & Record<string, unknown>;
  futures?: { completed: number; failed: number; cancelled: number };
}

interface StatsSource {
  stats?(): AnyStats;
  circuitStats?(): Map<string, DomainCircuitStats>;
}

function snapshotOf(observed: Observed): ExecutorMetrics {
  const { recorder, executor, name, kind, cluster } = observed;
  const source = executor as StatsSource;
  const stats = source.stats?.() ?? {};
  const workers = { starting: 0, idle: 0, busy: 0, retiring: 0, draining: 0, spinning: 0 };
  const distributed = stats.redelivered !== undefined;
  if (!distributed && stats.workers) {
    for (const key of Object.keys(workers) as (keyof typeof workers)[]) {
      const n = stats.workers[key];
      if (typeof n === "number") workers[key] = n;
    }
  }
  const circuits: ExecutorMetrics["circuits"] = [];
  for (const [domain, circuit] of source.circuitStats?.() ?? []) {
    circuits.push({ domain, state: CIRCUIT[circuit.state] });
  }
  const metrics: ExecutorMetrics = {
    executor: name,
    kind,
    tasks: stats.futures ? { ...stats.futures } : { ...recorder.tasks },
    attempts: { ...recorder.attempts },
    queued: stats.queued ?? 0,
    running: stats.running ?? stats.inFlight ?? 0,
    workers,
    restarts: stats.restarts ?? 0,
    duration: histogram(recorder.duration),
    wait: histogram(recorder.wait),
    circuits,
  };
  if (distributed) {
    const alive = cluster?.workers() ?? [];
    recorder.syncCluster(alive);
    for (const worker of alive) {
      if (worker.running > 0) workers.busy++;
      else workers.idle++;
    }
    metrics.cluster = {
      workers: alive.map((w) => w.name),
      // Read from JetStream at most once per snapshot; until the first answer, what this client
      // has published and no worker has started.
      streamDepth: cluster?.streamDepth() ?? stats.queued ?? 0,
      redeliveries: stats.redelivered ?? 0,
    };
  }
  return metrics;
}

function histogram(h: import("./_histogram.ts").Histogram): HistogramSnapshot {
  return { buckets: h.cumulative(), sum: h.sum, count: h.count };
}

/**
 * The numbers {@linkcode metricsHandler} serves, as objects: one entry per executor.
 *
 * @param executors a record (`{ cpu: pool }`, the key is the `executor` label) or a list
 * @param options see {@linkcode MetricsOptions}
 * @returns a snapshot per executor
 * @throws {TypeError} when an entry is not an executor of this library
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { readMetrics } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * readMetrics([io]); // starts recording
 * await io.submit(() => 42);
 * const [m] = readMetrics([io]);
 * assert.equal(m!.executor, "io");
 * assert.equal(m!.tasks.completed, 1);
 * assert.equal(m!.duration.count, 1);
 * ```
 */
export function readMetrics(executors: Executors, options?: MetricsOptions): ExecutorMetrics[] {
  checkMetricsOptions("read metrics", options);
  const observed = observeAll(executors, "read metrics");
  claimExpiry(observed, options, "read metrics");
  return observed.map((o) => snapshotOf(o));
}

/** Checks the options of the metrics (and the dashboard's): known keys, valid values. */
export function checkMetricsOptions(
  what: string,
  options: unknown,
  keys: readonly string[] = ["workerExpiry"],
): void {
  checkOptionsArgument(what, options as object | undefined, keys, keys[0]!);
  const expiry = (options as MetricsOptions | undefined)?.workerExpiry;
  if (expiry !== undefined && !(typeof expiry === "number" && expiry > 0)) {
    refuse({ action: what, path: "workerExpiry" }, "a positive number of ms", expiry);
  }
}

/**
 * Gives the clusters of `observed` the `workerExpiry` of `options`, if it has one. A cluster is
 * watched once per executor, so it has one expiry: a different one asked later is refused (it
 * would change what every other handler of the executor reports, or be ignored).
 */
export function claimExpiry(
  observed: Observed[],
  options: MetricsOptions | undefined,
  what: string,
): void {
  const expiry = options?.workerExpiry;
  if (expiry === undefined) return;
  for (const { name, cluster } of observed) {
    if (!cluster || cluster.expiry === expiry) continue;
    if (cluster.expiry !== undefined) {
      throw new TypeError(
        `Cannot ${what} with workerExpiry ${expiry} as the cluster of '${name}' is observed with workerExpiry ${cluster.expiry} already (one expiry an executor)`,
      );
    }
    cluster.expiry = expiry;
  }
}

/**
 * Formats snapshots in the Prometheus text exposition format 0.0.4.
 *
 * @param metrics snapshots from {@linkcode readMetrics}
 * @returns the text, one `# HELP` and `# TYPE` per metric family
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { formatMetrics, readMetrics } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const text = formatMetrics(readMetrics([io]));
 * assert.match(text, /^concurrent_futures_tasks_queued\{executor="io"\} 0$/m);
 * ```
 */
export function formatMetrics(metrics: ExecutorMetrics[]): string {
  const out: string[] = [];
  const family = (name: string, type: string, help: string, lines: string[]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    // One by one: spread as arguments, a family of some 120k lines overflowed the stack.
    for (const line of lines) out.push(line);
  };
  const sample = (name: string, labels: Record<string, string>, value: number) =>
    `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${escape(v)}"`).join(",")}} ${
      number(value)
    }`;
  const P = "concurrent_futures_";
  const each = (f: (m: ExecutorMetrics) => string[]) => metrics.flatMap(f);
  const outcomes = (key: "tasks" | "attempts") =>
    each((m) =>
      (["completed", "failed", "cancelled"] as const).map((outcome) =>
        sample(`${P}${key}_total`, { executor: m.executor, outcome }, m[key][outcome])
      )
    );
  family(`${P}tasks_total`, "counter", "Tasks settled, by outcome.", outcomes("tasks"));
  family(
    `${P}attempts_total`,
    "counter",
    "Attempts ended, by outcome; retries count each attempt.",
    outcomes("attempts"),
  );
  family(
    `${P}tasks_queued`,
    "gauge",
    "Tasks waiting to start.",
    each((m) => [sample(`${P}tasks_queued`, { executor: m.executor }, m.queued)]),
  );
  family(
    `${P}tasks_running`,
    "gauge",
    "Tasks running.",
    each((m) => [sample(`${P}tasks_running`, { executor: m.executor }, m.running)]),
  );
  family(
    `${P}workers`,
    "gauge",
    "Workers by state (draining workers are retiring ones that finish their other tasks).",
    each((m) =>
      Object.entries(m.workers).map(([state, n]) =>
        sample(`${P}workers`, { executor: m.executor, state }, n)
      )
    ),
  );
  for (
    const [key, name, help] of [
      ["duration", "task_duration_seconds", "Run time of attempts."],
      ["wait", "task_wait_seconds", "Time attempts waited in the queue before they started."],
    ] as const
  ) {
    family(
      `${P}${name}`,
      "histogram",
      help,
      each((m) => [
        ...m[key].buckets.map(({ le, count }) =>
          sample(`${P}${name}_bucket`, { executor: m.executor, le }, count)
        ),
        sample(`${P}${name}_sum`, { executor: m.executor }, m[key].sum),
        sample(`${P}${name}_count`, { executor: m.executor }, m[key].count),
      ]),
    );
  }
  family(
    `${P}worker_restarts_total`,
    "counter",
    "Workers replaced after a crash, a stopped task or maxTasksPerWorker.",
    each((m) => [sample(`${P}worker_restarts_total`, { executor: m.executor }, m.restarts)]),
  );
  family(
    `${P}circuit_state`,
    "gauge",
    "Each domain's circuit: 0 closed, 1 half-open, 2 open.",
    each((m) =>
      m.circuits.map((c) =>
        sample(`${P}circuit_state`, { executor: m.executor, domain: c.domain }, c.state)
      )
    ),
  );
  const clusters = metrics.filter((m) => m.cluster);
  if (clusters.length > 0) {
    const of = (m: ExecutorMetrics) => m.cluster!;
    family(
      `${P}cluster_workers`,
      "gauge",
      "Cluster workers heard of within the heartbeat expiry.",
      clusters.map((m) =>
        sample(`${P}cluster_workers`, { executor: m.executor }, of(m).workers.length)
      ),
    );
    family(
      `${P}cluster_worker_up`,
      "gauge",
      "1 for each cluster worker heard of within the heartbeat expiry.",
      clusters.flatMap((m) =>
        of(m).workers.map((worker) =>
          sample(`${P}cluster_worker_up`, { executor: m.executor, worker }, 1)
        )
      ),
    );
    family(
      `${P}stream_depth`,
      "gauge",
      "Tasks in the stream that no worker has started.",
      clusters.map((m) => sample(`${P}stream_depth`, { executor: m.executor }, of(m).streamDepth)),
    );
    family(
      `${P}redeliveries_total`,
      "counter",
      "Deliveries of a task after the first.",
      clusters.map((m) =>
        sample(`${P}redeliveries_total`, { executor: m.executor }, of(m).redeliveries)
      ),
    );
  }
  return out.join("\n") + "\n";
}

/**
 * A request handler for `Deno.serve` that answers every request with the executors' metrics in
 * the Prometheus text format 0.0.4. Recording starts when it is created. Requests for a host that
 * is not a loopback name, an IP address nor in `allowedHosts` get 403.
 *
 * @param executors a record (`{ cpu: pool }`, the key is the `executor` label) or a list
 * @param options see {@linkcode MetricsHandlerOptions}
 * @returns the handler
 * @throws {TypeError} when an entry is not an executor of this library, or an option is unknown
 * or of the wrong type
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPoolExecutor } from "@concurrent/futures";
 * import { metricsHandler } from "@concurrent/futures/observe";
 *
 * await using cpu = new WorkerPoolExecutor({ maxWorkers: 1 });
 * const handler = metricsHandler({ cpu });
 * await cpu.submit((n: number) => n * 2, 21);
 * const text = await handler(new Request("http://localhost/metrics")).text();
 * assert.match(text, /^concurrent_futures_tasks_total\{executor="cpu",outcome="completed"\} 1$/m);
 * // In a program: Deno.serve({ hostname: "127.0.0.1", port: 9464 }, handler);
 * ```
 */
export function metricsHandler(
  executors: Executors,
  options?: MetricsHandlerOptions,
): (request: Request) => Response {
  const what = "serve metrics";
  checkMetricsOptions(what, options, ["workerExpiry", "allowedHosts"]);
  const allowed = allowedHostsOf(what, options?.allowedHosts);
  const observed = observeAll(executors, what);
  claimExpiry(observed, options, what);
  return (request) => {
    const refused = allowed === "*" ? undefined : refusedHost(request, allowed, true);
    if (refused !== undefined) {
      return new Response(
        `These metrics are not served for host ${
          JSON.stringify(refused.slice(0, 100))
        }: only for loopback names and IP addresses unless the 'allowedHosts' option lists the host\n`,
        {
          status: 403,
          headers: {
            "content-type": "text/plain; charset=utf-8",
            "x-content-type-options": "nosniff",
          },
        },
      );
    }
    return new Response(formatMetrics(observed.map((o) => snapshotOf(o))), {
      headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
    });
  };
}

/** @internal the snapshot of one observed executor (the dashboard uses it). */
export { snapshotOf };

/**
 * The histogram bucket bounds, in seconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { HISTOGRAM_BUCKETS, readMetrics } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor();
 * const { buckets } = readMetrics([io])[0]!.duration;
 * assert.equal(buckets.length, HISTOGRAM_BUCKETS.length + 1); // and +Inf
 * assert.equal(buckets[0]!.le, String(HISTOGRAM_BUCKETS[0]));
 * ```
 */
export const HISTOGRAM_BUCKETS: readonly number[] = BUCKETS;

function escape(value: string): string {
  return value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n");
}

function number(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

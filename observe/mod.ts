/**
 * See executors run: Prometheus metrics ({@linkcode metricsHandler}, {@linkcode readMetrics}),
 * OpenTelemetry traces ({@linkcode traceExecutors}) and a live dashboard
 * ({@linkcode serveDashboard}) for `AsyncPoolExecutor`, `WorkerPoolExecutor`,
 * `ProcessPoolExecutor` and `DistributedExecutor`.
 *
 * Nothing here is loaded by the executors themselves, nor by their workers: import it in the
 * program that owns the executors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { metricsHandler } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const metrics = metricsHandler([io]);
 * await io.submit(async () => "done");
 * const text = await metrics(new Request("http://localhost/metrics")).text();
 * assert.match(text, /concurrent_futures_tasks_total\{executor="io",outcome="completed"\} 1/);
 * ```
 *
 * @module
 */

export {
  type ExecutorMetrics,
  type Executors,
  formatMetrics,
  HISTOGRAM_BUCKETS,
  type HistogramSnapshot,
  metricsHandler,
  type MetricsHandlerOptions,
  type MetricsOptions,
  type Outcome,
  readMetrics,
} from "./metrics.ts";
export {
  type DashboardHandler,
  dashboardHandler,
  type DashboardOptions,
  type DashboardServer,
  serveDashboard,
  type ServeDashboardOptions,
} from "./dashboard.ts";
export { traceExecutors, type TraceOptions } from "./tracing.ts";

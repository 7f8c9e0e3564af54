/**
 * Executors: {@linkcode AsyncPoolExecutor} for I/O-bound work, {@linkcode WorkerPoolExecutor}
 * for CPU-bound work, with one {@linkcode Executor} interface, the event-loop bridge, task options, retries and circuit breakers per domain.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures/executors";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 4 });
 * const future = pool.submit(async (x: number) => x * 2, 21);
 * assert((await future) === 42);
 * ```
 *
 * @module
 */

export type {
  AttemptCounts,
  Executor,
  ExecutorStats,
  ExecutorView,
  FutureCounts,
  FuturesOr,
  MapOptions,
  ShutdownOptions,
  TaskOptions,
} from "./executor.ts";
export {
  AsyncPoolExecutor,
  type AsyncPoolExecutorOptions,
  type AsyncPoolStats,
} from "./async_pool.ts";
export {
  type Percentiles,
  type WorkerCounts,
  type WorkerPermissions,
  WorkerPoolExecutor,
  type WorkerPoolExecutorOptions,
  type WorkerPoolStats,
} from "./worker_pool.ts";
export { ProcessPoolExecutor, type ProcessPoolExecutorOptions } from "./process_pool.ts";
export { ExecutorBase } from "./_facade.ts";
export { getDefaultExecutor, runInExecutor, setDefaultExecutor, toThread } from "./bridge.ts";
export type { Backoff, RetryOptions } from "./retry.ts";
export {
  type CircuitBreakerOptions,
  CircuitBreakers,
  type CircuitPermit,
  type CircuitState,
  type DomainCircuitStats,
} from "./circuit_breaker.ts";
export type { CommonExecutorOptions } from "./_core.ts";
export {
  BrokenExecutorError,
  CancelledError,
  CircuitOpenError,
  DependencyError,
  InvalidStateError,
  QueueFullError,
  TimeoutError,
  WorkerCrashedError,
} from "../future/errors.ts";

/**
 * Executors: {@linkcode AsyncPoolExecutor} for I/O-bound work, with one {@linkcode Executor}
 * interface, task options, retries and circuit breakers per domain.
 *
 * @example
 * ```ts
 * import { AsyncPoolExecutor } from "@concurrent/futures/executors";
 *
 * await using pool = new AsyncPoolExecutor({ maxWorkers: 4 });
 * const future = pool.submit(async (x: number) => x * 2, 21);
 * console.assert((await future) === 42);
 * ```
 *
 * @module
 */

export type { Executor, MapOptions, ShutdownOptions, TaskOptions } from "./executor.ts";
export {
  AsyncPoolExecutor,
  type AsyncPoolExecutorOptions,
  type AsyncPoolStats,
} from "./async_pool.ts";
export { taskSignal } from "./task_signal.ts";
export type { RetryOptions } from "./retry.ts";
export {
  type CircuitBreakerOptions,
  CircuitBreakers,
  type CircuitPermit,
  type CircuitState,
  type DomainCircuitStats,
} from "./circuit_breaker.ts";
export type { CommonExecutorOptions } from "./_core.ts";

/**
 * The distributed executor: the executor interface across machines, on NATS JetStream. It lives
 * behind its own entry point so that users of the local executors never load the NATS client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
 * assert.equal(await executor.submit((n: number) => n * 2, 21), 42);
 * ```
 *
 * @module
 */

export {
  DistributedExecutor,
  type DistributedExecutorOptions,
  type DistributedStats,
  type DistributedTaskStats,
} from "./executor.ts";
export type { NatsConnectOptions, NatsTlsOptions } from "./_auth.ts";
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
export { ExecutorBase } from "../executors/_facade.ts";
export { registerErrorClass } from "../actors/error_codec.ts";
export { Future, type FutureState, type WaitOptions } from "../future/future.ts";
export type {
  AttemptCounts,
  Backoff,
  CircuitBreakerOptions,
  CircuitState,
  CommonExecutorOptions,
  DomainCircuitStats,
  Executor,
  ExecutorStats,
  ExecutorView,
  FutureCounts,
  FuturesOr,
  MapOptions,
  RetryOptions,
  ShutdownOptions,
  TaskOptions,
} from "../executors/mod.ts";

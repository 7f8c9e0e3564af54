/**
 * The actor layer: user actors ({@linkcode spawn}), the running task's signal
 * ({@linkcode taskSignal}), and how errors keep their class across a worker boundary
 * ({@linkcode registerErrorClass}).
 *
 * @example
 * ```ts
 * import { registerErrorClass } from "@concurrent/futures/actors";
 *
 * class QuotaError extends Error {
 *   constructor(message: string) {
 *     super(message);
 *     this.name = "QuotaError";
 *   }
 * }
 * registerErrorClass(QuotaError);
 * ```
 *
 * @module
 */

export { registerErrorClass } from "./error_codec.ts";
export { taskSignal } from "./task_signal.ts";
export {
  type ActorMethods,
  type ActorOptions,
  type ActorRef,
  type Backoff,
  spawn,
} from "./spawn.ts";
export { proxy, type Remote } from "./proxy.ts";
export {
  CancelledError,
  InvalidStateError,
  TimeoutError,
  WorkerCrashedError,
} from "../future/errors.ts";

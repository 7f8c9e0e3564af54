/**
 * The actor layer: how errors keep their class across a worker boundary.
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

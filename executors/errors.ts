/**
 * Errors of executors' own features: backpressure ({@linkcode QueueFullError}) and task graphs
 * ({@linkcode DependencyError}). They are declared with every other error class in
 * `future/errors.ts`; this module re-exports them so that its imports keep working.
 *
 * @module
 */

export { DependencyError, QueueFullError } from "../future/errors.ts";

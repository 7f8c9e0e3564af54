/**
 * {@linkcode ProcessPoolExecutor}: work that must be stoppable and contained, on Deno
 * subprocesses.
 *
 * @module
 */

import {
  asProcessPool,
  WorkerPoolExecutor,
  type WorkerPoolExecutorOptions,
} from "./worker_pool.ts";
import { checkPositiveInt } from "./_options.ts";

/** Options for {@linkcode ProcessPoolExecutor}: those of `WorkerPoolExecutor`, and a heap limit. */
export interface ProcessPoolExecutorOptions extends WorkerPoolExecutorOptions {
  /**
   * Each process's V8 heap limit in MiB (`--max-old-space-size`). A task that runs out of memory
   * ends only its process: it rejects with `WorkerCrashedError` and the pool carries on.
   */
  memoryLimitMb?: number;
}

/**
 * Runs functions in a pool of Deno subprocesses: for work that must be stoppable and contained.
 *
 * It has the interface and the options of {@linkcode WorkerPoolExecutor} (and is one), with these
 * differences:
 * - a task's `timeout` or aborted `signal` kills its process with SIGKILL, so the work really
 *   stops, even in a loop that never yields; the process is replaced;
 * - a task that runs out of memory (`memoryLimitMb`) or crashes ends only its process: its future
 *   rejects with `WorkerCrashedError` (`exitCode`, `signal`) and the pool and the caller carry on;
 * - `permissions` become the child's permission flags: `"inherit"` passes each permission this
 *   process holds in full (a permission granted only for some paths or hosts is not passed; give it
 *   as a list instead), `"none"` passes none; task modules are always readable;
 * - arguments and results are serialized (the structured-clone algorithm, as V8 serializes it)
 *   and copied: `transfer` copies too, and a `SharedArrayBuffer` cannot be sent;
 * - each process runs one task at a time, and starts in tens of milliseconds;
 * - stdout carries the pool's messages, so `console` output of tasks goes to stderr.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessPoolExecutor, TimeoutError } from "@concurrent/futures";
 *
 * await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
 * const stuck = pool.with({ timeout: 200 }).submit(() => {
 *   while (true) {
 *     // Never yields: only killing the process stops it.
 *   }
 * });
 * assert((await stuck.exception()) instanceof TimeoutError);
 * assert.equal(await pool.submit((a: number, b: number) => a + b, 2, 3), 5);
 * ```
 */
export class ProcessPoolExecutor extends WorkerPoolExecutor {
  /**
   * Creates the pool; processes start lazily, when there is work for them.
   *
   * @param options see {@linkcode ProcessPoolExecutorOptions}
   * @throws {RangeError} or {TypeError} for an option out of range, naming it and the value
   */
  constructor(options?: ProcessPoolExecutorOptions) {
    const memoryLimitMb = checkPositiveInt(
      "create ProcessPoolExecutor",
      "memoryLimitMb",
      options?.memoryLimitMb,
    );
    super(asProcessPool(options, memoryLimitMb));
  }
}

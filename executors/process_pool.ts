/**
 * {@linkcode ProcessPoolExecutor}: work that must be stoppable and contained, on Deno
 * subprocesses.
 *
 * @module
 */

import {
  asProcessPool,
  poolPids,
  WorkerPoolExecutor,
  type WorkerPoolExecutorOptions,
} from "./worker_pool.ts";
import { checkPositiveInt } from "./_options.ts";
import { check } from "./_check.ts";
import { preloadFraming } from "../actors/_framing.ts";

/**
 * Options for {@linkcode ProcessPoolExecutor}: those of `WorkerPoolExecutor`, a heap limit, and
 * the Deno flags of the processes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProcessPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new ProcessPoolExecutor({
 *   maxWorkers: 1,
 *   memoryLimitMb: 256, // a task that needs more ends its process with WorkerCrashedError
 *   denoArgs: [], // no module-loading flags: enough for self-contained functions
 * });
 * assert.equal(await pool.submit((a: number, b: number) => a * b, 6, 7), 42);
 * ```
 */
export interface ProcessPoolExecutorOptions extends WorkerPoolExecutorOptions {
  /**
   * Each process's V8 heap limit in MiB (`--max-old-space-size`). A task that runs out of memory
   * ends only its process: it rejects with `WorkerCrashedError` and the pool carries on.
   */
  memoryLimitMb?: number;
  /**
   * Deno flags for each process, before its main module (`["--config", "deno.json",
   * "--unstable-kv"]`): how it resolves and loads modules, unstable features. Permission flags
   * come from `permissions`, not from here. When not set, each process gets the flags of this
   * kind that this program was run with (`--config`, `--import-map`, `--lock`, `--no-lock`,
   * `--frozen`, `--cached-only`, `--no-remote`, `--no-npm`, `--node-modules-dir`, `--vendor`,
   * `--cert`, `--conditions`, `--unstable-*`), read from `/proc/self/cmdline` (by a short-lived
   * Deno process, once, when this program lacks `-A`): on Linux only, as Deno does not tell a
   * program its own flags elsewhere. Set it to be portable.
   * @default {the module-loading flags of this program, on Linux; none elsewhere}
   */
  denoArgs?: string[];
}

/**
 * Deno's permission flags: `--allow-*`, `--deny-*`, `--permission-set`, and the short ones alone or
 * together (`-A`, `-R=/tmp`, `-RW`, `-I` for imports, `-P` for a permission set).
 */
const PERMISSION_FLAG = /^(--(allow|deny)-|--permission-set|-[A-Za-z]*[ARWNESPI])/;

/**
 * Runs functions in a pool of Deno subprocesses: for work that must be stoppable and contained.
 *
 * It has the interface and the options of {@linkcode WorkerPoolExecutor} (and is one), with these
 * differences:
 * - a task's `timeout` or aborted `signal` kills its process with SIGKILL, so the work really
 *   stops, even in a loop that never yields; the process is replaced;
 * - a task that runs out of memory (`memoryLimitMb`) or crashes ends only its process: its future
 *   rejects with `WorkerCrashedError` (`exitCode`, `signal`) and the pool and the caller carry on;
 *   a task sent to a process that ends before starting it runs on another process;
 * - `permissions` become the child's permission flags: `"inherit"` passes what this process
 *   holds, in full or for some paths, hosts or names (as read from its command line, on Linux),
 *   and its `--deny-*` flags; `"none"` passes none; task modules load without read permission;
 * - the pool needs `--allow-run` and `--allow-net=127.0.0.1` (it listens there for its processes);
 * - arguments and results are serialized (the structured-clone algorithm, as V8 serializes it)
 *   and copied: `transfer` copies too, and a `SharedArrayBuffer` cannot be sent;
 * - each process runs one task at a time, and starts in tens of milliseconds;
 * - an idle process that ends (at `shutdown()`, past `idleTimeout`, after `maxTasksPerWorker`)
 *   exits as a program does (its `unload` listeners run, Deno sends its OpenTelemetry spans), or
 *   is killed if it has not 2 s after it was asked;
 * - the pool talks to each process over a loopback TCP connection that the process opens (so each
 *   process is also granted `--allow-net=127.0.0.1:PORT` for its pool's port); a task's stdout and
 *   stderr are this program's, and its stdin is empty;
 * - each process leads its own process group (on POSIX systems): stopping a task kills the group,
 *   so programs the task started end with it; `shutdown()` does not wait for them;
 * - the processes end with this program, however it ends (exit, a signal it does not handle, a
 *   crash, SIGKILL), even in a loop that never yields: a small watchdog process, one per program
 *   while a pool has processes, kills them when this program is gone.
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
    const denoArgs = options?.denoArgs;
    check(
      denoArgs === undefined ||
        (Array.isArray(denoArgs) && denoArgs.every((arg) => typeof arg === "string")),
      "create ProcessPoolExecutor",
      "denoArgs",
      "an array of strings",
      denoArgs,
    );
    // The processes' permissions are the pool's `permissions`: a flag here would widen them.
    const permissionFlag = denoArgs?.find((arg) => PERMISSION_FLAG.test(arg));
    if (permissionFlag !== undefined) {
      throw new TypeError(
        `Cannot create ProcessPoolExecutor as 'denoArgs' must not hold permission flags (give them with 'permissions'): received ${
          JSON.stringify(permissionFlag)
        }`,
      );
    }
    // Two heap limits: one would be ignored.
    const heapFlag = denoArgs?.find((arg) => /max[-_]old[-_]space[-_]size/.test(arg));
    if (memoryLimitMb !== undefined && heapFlag !== undefined) {
      throw new TypeError(
        `Cannot create ProcessPoolExecutor as 'memoryLimitMb' and 'denoArgs' both set the heap limit: received ${
          JSON.stringify(heapFlag)
        } (give one)`,
      );
    }
    // Its processes talk in V8-serialized frames: `node:v8` loads now, before the first one.
    void preloadFraming();
    super(asProcessPool(options, { memoryLimitMb, denoArgs: denoArgs && [...denoArgs] }));
  }

  /**
   * The process ids of the pool's worker processes that have not ended (processes start
   * lazily: none before the first task).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ProcessPoolExecutor } from "@concurrent/futures";
   * await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
   * assert.deepEqual(pool.pids, []);
   * await pool.submit(() => 1);
   * assert.equal(pool.pids.length, 1);
   * ```
   */
  get pids(): number[] {
    return poolPids(this);
  }
}

/**
 * {@linkcode WorkerPoolExecutor}: CPU-bound work on a pool of Deno Web Workers.
 *
 * @module
 */

import type { WorkerPermissions } from "../actors/_transport.ts";
import { checkWorkerOptionsFlag } from "../actors/_worker_options_flag.ts";
import { checkPermissions, checkWorkerPermissions } from "../actors/_permissions.ts";
import { WORKER_READS } from "../actors/_worker_handle.ts";
import { moduleUrl } from "../actors/_module_url.ts";
import { attachCore, ExecutorBase } from "./_facade.ts";
import { COMMON_OPTION_KEYS, type CommonExecutorOptions, ExecutorCore } from "./_core.ts";
import { makeObservable } from "./_observe.ts";
import { checkKnownKeys, checkMillis, checkPositiveInt, checkRestartLimit } from "./_options.ts";
import { check } from "./_check.ts";
import { type Backoff, checkBackoff, resolveBackoff } from "../actors/_backoff.ts";
import { type PoolSettings, WorkerEngine, type WorkerPoolStats } from "./_worker_engine.ts";

export type { WorkerCounts, WorkerPoolStats } from "./_worker_engine.ts";
export type { Percentiles } from "./_samples.ts";
export type { WorkerPermissions } from "../actors/_transport.ts";

/** The process ids of a pool's workers; internal to `ProcessPoolExecutor.pids`. */
export let poolPids: (pool: WorkerPoolExecutor) => number[];

/** Pools created without a name, numbered in their workers' names. */
let unnamedPools = 0;

/**
 * Options for {@linkcode WorkerPoolExecutor}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({
 *   maxWorkers: 2,
 *   idleTimeout: 500,
 *   maxTasksPerWorker: 100,
 *   onCrash: "restart",
 * });
 * assert.equal(pool.maxWorkers, 2);
 * assert.equal(await pool.submit((s: string) => s.toUpperCase(), "cpu"), "CPU");
 * ```
 */
export interface WorkerPoolExecutorOptions extends CommonExecutorOptions {
  /**
   * How many workers at most.
   * @default {navigator.hardwareConcurrency}
   */
  maxWorkers?: number;
  /**
   * Task modules: their exported functions can be submitted by reference
   * (`pool.submit(countPrimes, 0, n)`). A string is a URL or a path relative to the working
   * directory; prefer `new URL("./tasks.ts", import.meta.url)`. The modules are imported in each
   * worker and once on the calling thread (to know the functions by identity).
   */
  modules?: (string | URL)[];
  /**
   * Runs once in each new worker before its first task: an export of one of `modules`, or a
   * self-contained function. If it throws, the executor is broken.
   */
  // deno-lint-ignore no-explicit-any
  initializer?: (...args: any[]) => unknown;
  /** Arguments for `initializer`. */
  initargs?: unknown[];
  /**
   * Replace a worker after it has run this many tasks.
   * @default {Infinity}
   */
  maxTasksPerWorker?: number;
  /**
   * An idle worker exits after this many ms. An idle Web Worker keeps the process alive, so keep
   * it finite unless you always shut the pool down.
   * @default {1000}: warm between bursts of work, gone soon after (the default executor of
   * `toThread()` uses 250 ms, since nobody shuts it down; an actor never ends its worker unasked,
   * since its state lives there)
   */
  idleTimeout?: number;
  /**
   * The workers' permissions. Anything but `"inherit"` needs Deno's `--unstable-worker-options`
   * flag (or `"unstable": ["worker-options"]` in deno.json). Workers import the task `modules`
   * with these permissions: a local module needs `read` access to its file, so with `"none"`
   * submit self-contained functions (the executor is broken, saying so, when a module cannot be
   * read).
   * @default {"inherit"}
   */
  permissions?: WorkerPermissions;
  /**
   * What a worker's death does: `"restart"` rejects the task it was running with
   * `WorkerCrashedError` and replaces the worker; `"break"` breaks the executor, as Python's
   * `BrokenProcessPool`.
   * @default {"restart"}
   */
  onCrash?: "restart" | "break";
  /**
   * More crashes than `max` within `within` ms break the executor.
   * @default {{ max: 20, within: 60_000 }}: the limit counts the crashes of all `maxWorkers`
   * workers together, so it is higher than an actor's (`spawn()`'s counts one worker's)
   */
  restartLimit?: { max: number; within: number };
  /**
   * How replacements of crashed workers back off (see {@linkcode Backoff}), as Akka's backoff
   * supervisor: the first replacement is immediate, then each crash in a row waits `initial`,
   * `initial·multiplier` … up to `max` ms, stretched by up to `jitter` of itself at random;
   * `resetAfter` ms without a crash start over. Other workers keep serving meanwhile. The old
   * field names `min` (for `initial`) and `randomFactor` (for `jitter`) are deprecated.
   * @default {{ initial: 10, max: 1000, multiplier: 2, jitter: 0.2, resetAfter: 2000 }}
   */
  restartBackoff?: Backoff;
}

/**
 * Runs functions on a pool of Deno Web Workers: the executor for CPU-bound work.
 *
 * Tasks are functions exported from one of `modules` (sent by reference, fully typed) or
 * self-contained functions (no free variables: sent by source and compiled once per worker).
 * Arguments and results are copied with structured clone (`transfer` moves buffers instead; a
 * `SharedArrayBuffer` arrives shared).
 *
 * - A task that throws rejects its future; the worker lives on.
 * - A worker that dies while running a task (`self.close()`, `Deno.exit()`, an uncaught error
 *   outside the task) rejects that task with `WorkerCrashedError`; tasks it had not started go to
 *   another worker.
 * - A `timeout` or an aborted `signal` rejects the future at once; the worker gets no more work
 *   and is replaced. Deno cannot stop a thread that never yields, so the task should check
 *   `taskSignal().aborted` (it reads shared memory, so it works inside tight loops); until it
 *   does, `stats().workers.spinning` counts it. Use `ProcessPoolExecutor` for work that must be
 *   killed for sure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPoolExecutor } from "@concurrent/futures";
 *
 * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
 * const square = (x: number) => x * x;
 * const results = [];
 * for await (const y of pool.map(square, [1, 2, 3, 4], { chunksize: 2 })) results.push(y);
 * assert(results.join() === "1,4,9,16");
 * ```
 */
export class WorkerPoolExecutor extends ExecutorBase<WorkerPoolStats> {
  readonly #engine: WorkerEngine;
  readonly #maxWorkers: number;

  /**
   * Creates the pool; workers start lazily, when there is work for them.
   *
   * @param options see {@linkcode WorkerPoolExecutorOptions}
   * @throws {RangeError} for an option out of range, naming it and the value
   * @throws {TypeError} for an option of the wrong type or an unknown option key, naming it
   * @throws {Error} when `permissions` is set but Deno lacks `--unstable-worker-options`
   * @throws {Deno.errors.NotCapable} when the program may not read the worker module or a task
   * module (or, for `ProcessPoolExecutor`, run Deno subprocesses), naming the flag to add
   */
  constructor(options?: WorkerPoolExecutorOptions) {
    const processes = nextPoolOfProcesses;
    nextPoolOfProcesses = undefined;
    const name = processes ? "ProcessPoolExecutor" : "WorkerPoolExecutor";
    const settings = processes
      ? poolSettings(name, options, "process", processes)
      : poolSettings(name, options);
    super();
    this.#maxWorkers = settings.maxWorkers;
    this.#engine = new WorkerEngine(settings);
    const core = new ExecutorCore(name, options, this.#engine);
    this.#engine.attach(core);
    attachCore(this, core);
    makeObservable(this, core);
  }

  /**
   * How many workers the pool runs at most (`maxWorkers`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 3 });
   * assert.equal(pool.maxWorkers, 3);
   * ```
   */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  static {
    poolPids = (pool) => pool.#engine.pids();
  }

  /**
   * A snapshot of the pool: workers by state, queue, counters, and run and wait percentiles.
   * `futures` counts settled futures by outcome (what callers saw); `attempts` counts tries (a
   * retried task counts each; `completed` and `failed` are the same numbers).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * await pool.submit((n: number) => n + 1, 1);
   * assert(pool.stats().futures.completed === 1 && pool.stats().attempts.completed === 1);
   * ```
   */
  override stats(): WorkerPoolStats {
    return this.#engine.stats();
  }
}

/** What only a pool of processes has. */
export interface ProcessSettings {
  memoryLimitMb: number | undefined;
  denoArgs: string[] | undefined;
}

let nextPoolOfProcesses: ProcessSettings | undefined;

/**
 * Makes the next `WorkerPoolExecutor` constructor call build a pool of processes; internal to
 * `ProcessPoolExecutor`, which passes its options through it to `super()`.
 */
export function asProcessPool<T>(options: T, processes: ProcessSettings): T {
  nextPoolOfProcesses = processes;
  return options;
}

const WORKER_POOL_KEYS = [
  ...COMMON_OPTION_KEYS,
  "maxWorkers",
  "modules",
  "initializer",
  "initargs",
  "maxTasksPerWorker",
  "idleTimeout",
  "permissions",
  "onCrash",
  "restartLimit",
  "restartBackoff",
];
const PROCESS_POOL_KEYS = [...WORKER_POOL_KEYS, "memoryLimitMb", "denoArgs"];

/** Checks the options of a worker or process pool and applies the defaults. */
export function poolSettings(
  kindName: string,
  options: WorkerPoolExecutorOptions | undefined,
  kind: "thread" | "process" = "thread",
  processes?: ProcessSettings,
): PoolSettings {
  const what = `create ${kindName}`;
  const isObject = (value: unknown) => typeof value === "object" && value !== null;
  if (typeof options === "number") {
    // Python's ProcessPoolExecutor(4): the number is max_workers.
    throw new TypeError(
      `Cannot ${what} as 'options' must be an object: received ${options} (did you mean { maxWorkers: ${options} }?)`,
    );
  }
  check(options === undefined || isObject(options), what, "options", "an object", options, false);
  const o = options ?? {};
  checkKnownKeys(what, o, kind === "process" ? PROCESS_POOL_KEYS : WORKER_POOL_KEYS);
  const modules = o.modules ?? [];
  check(Array.isArray(modules), what, "modules", "an array", modules, false);
  check(
    o.initializer === undefined || typeof o.initializer === "function",
    what,
    "initializer",
    "a function",
    o.initializer,
    false,
  );
  check(
    o.initargs === undefined || Array.isArray(o.initargs),
    what,
    "initargs",
    "an array",
    o.initargs,
    false,
  );
  check(
    o.onCrash === undefined || o.onCrash === "restart" || o.onCrash === "break",
    what,
    "onCrash",
    `"restart" or "break"`,
    o.onCrash,
    false,
  );
  // Restarts are tuned only where there are restarts: a setting is never ignored.
  const restartKey = o.restartLimit !== undefined
    ? "restartLimit"
    : o.restartBackoff !== undefined
    ? "restartBackoff"
    : undefined;
  if (o.onCrash === "break" && restartKey !== undefined) {
    throw new TypeError(
      `Cannot ${what} as '${restartKey}' applies only with onCrash: "restart" (with "break" the first crash breaks the pool)`,
    );
  }
  const restartLimit = checkRestartLimit(what, o.restartLimit, { max: 20, within: 60_000 });
  const permissions = o.permissions;
  checkWorkerPermissions(what, permissions);
  if (kind === "thread" && permissions !== undefined && permissions !== "inherit") {
    checkWorkerOptionsFlag(what);
  }
  const moduleUrls = modules.map((m) => moduleUrl(m, what, "modules"));
  checkPermissions(what, {
    read: kind === "thread" ? [...WORKER_READS, ...moduleUrls] : moduleUrls,
    run: kind === "process",
    loopback: kind === "process",
  });
  return {
    // Unnamed pools are numbered, as Python numbers its pools' threads, so that no two pools'
    // workers share a name (`WorkerPoolExecutor-2 worker 1`); a name given is used as it is.
    label: o.name ? `${kindName} '${o.name}'` : `${kindName}-${++unnamedPools}`,
    kind,
    memoryLimitMb: processes?.memoryLimitMb,
    denoArgs: processes?.denoArgs,
    maxWorkers: checkPositiveInt(what, "maxWorkers", o.maxWorkers) ??
      Math.max(1, navigator.hardwareConcurrency || 1),
    modules,
    initializer: o.initializer,
    initargs: o.initargs ?? [],
    // Infinity, the default, may be given too.
    maxTasksPerWorker: o.maxTasksPerWorker === Infinity
      ? Infinity
      : checkPositiveInt(what, "maxTasksPerWorker", o.maxTasksPerWorker) ?? Infinity,
    idleTimeout: checkMillis(what, "idleTimeout", o.idleTimeout) ?? 1_000,
    permissions,
    onCrash: o.onCrash ?? "restart",
    restartLimit,
    restartBackoff: backoffSettings(what, o.restartBackoff),
  };
}

/** A pool's restart backoff when none is given. */
const POOL_RESTART_BACKOFF = {
  initial: 10,
  max: 1000,
  multiplier: 2,
  jitter: 0.2,
  resetAfter: 2000,
} as const;

function backoffSettings(what: string, value: unknown): PoolSettings["restartBackoff"] {
  const at = { action: what, path: "restartBackoff" };
  return resolveBackoff(at, checkBackoff(at, value), POOL_RESTART_BACKOFF);
}

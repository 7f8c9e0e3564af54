/**
 * {@linkcode WorkerPoolExecutor}: CPU-bound work on a pool of Deno Web Workers.
 *
 * @module
 */

import type { Future } from "../future/future.ts";
import type { WorkerPermissions } from "../actors/_transport.ts";
import { checkWorkerOptionsFlag } from "../actors/_worker_options_flag.ts";
import { checkPermissions } from "../actors/_permissions.ts";
import { WORKER_READS } from "../actors/_worker_handle.ts";
import { moduleUrl } from "../actors/_module_url.ts";
import type { Executor, FuturesOr, MapOptions, ShutdownOptions, TaskOptions } from "./executor.ts";
import { COMMON_OPTION_KEYS, type CommonExecutorOptions, ExecutorCore } from "./_core.ts";
import { checkKnownKeys, checkMillis, checkPositiveInt } from "./_options.ts";
import { check } from "./_check.ts";
import { type Backoff, checkBackoff, resolveBackoff } from "../actors/_backoff.ts";
import type { DomainCircuitStats } from "./circuit_breaker.ts";
import { type PoolSettings, WorkerEngine, type WorkerPoolStats } from "./_worker_engine.ts";

export type { WorkerCounts, WorkerPoolStats } from "./_worker_engine.ts";
export type { Percentiles } from "./_samples.ts";
export type { WorkerPermissions } from "../actors/_transport.ts";

/** Pools created without a name, numbered in their workers' names. */
let unnamedPools = 0;

/** Options for {@linkcode WorkerPoolExecutor}. */
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
   * @default {1000}
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
export class WorkerPoolExecutor implements Executor {
  readonly #core: ExecutorCore;
  readonly #engine: WorkerEngine;

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
    this.#engine = new WorkerEngine(settings);
    this.#core = new ExecutorCore(name, options, this.#engine);
    this.#engine.attach(this.#core);
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
  stats(): WorkerPoolStats {
    return this.#engine.stats();
  }

  /**
   * The state of each domain's circuit, when the pool was given `circuitBreaker` (empty if not).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({
   *   maxWorkers: 1,
   *   circuitBreaker: { threshold: 1, halfOpenAfter: 1000 },
   * });
   * await pool.with({ domain: "db" }).submit(() => {
   *   throw new Error("down");
   * }).exception();
   * assert.equal(pool.circuitStats().get("db")?.state, "open");
   * ```
   */
  circuitStats(): Map<string, DomainCircuitStats> {
    return this.#core.breakers?.stats() ?? new Map();
  }

  /**
   * Schedules `fn(...args)` on a worker; returns its future.
   *
   * @param fn the function to run
   * @param args its arguments; a future among them is awaited first and its value passed
   * @returns the task's future
   * @throws {TypeError} for a class, a bound or a built-in function
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {BrokenExecutorError} once the executor is broken
   * @throws {QueueFullError} when `maxQueued` tasks already wait to start
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * assert((await pool.submit((a: number, b: number) => a * b, 6, 7)) === 42);
   * ```
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>> {
    return this.#core.submit(fn, ...args);
  }

  /**
   * Applies `fn` to each item on the workers, `chunksize` items per message; results in input
   * order (see `Executor.map`).
   *
   * @param fn the function to apply to each item
   * @param items the items, sync or async; futures among them are awaited first
   * @param options `timeout` (from this call), `chunksize`, `buffersize`, `signal`
   * @returns an async iterator of the results, in input order
   * @throws {InvalidStateError} after `shutdown()`
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
   * let sum = 0;
   * for await (const v of pool.map((x: number) => x * 2, [1, 2, 3], { chunksize: 2 })) sum += v;
   * assert(sum === 12);
   * ```
   */
  map<T, R>(
    fn: (item: T) => R,
    items: Iterable<T | Future<T>> | AsyncIterable<T | Future<T>>,
    options?: MapOptions,
  ): AsyncIterableIterator<Awaited<R>> {
    return this.#core.map(fn, items, options);
  }

  /**
   * A view of this pool whose tasks get `options` (timeout, deadline, signal, retry, domain,
   * transfer).
   *
   * @param options the task options the view's tasks get
   * @returns an executor that submits to this pool with those options
   * @throws {TypeError} for an option of the wrong type or an unknown key, naming it
   * @throws {RangeError} for an option out of range, naming it and the value
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * const bounded = pool.with({ timeout: 5_000 });
   * assert((await bounded.submit(() => "done")) === "done");
   * ```
   */
  with(options: TaskOptions): Executor {
    return this.#core.with(options);
  }

  /**
   * Resolves when a task can be submitted without `QueueFullError` (at once without `maxQueued`,
   * or once the pool is shut down). Another caller may take the room first: it is a hint.
   *
   * @returns a promise that resolves when fewer than `maxQueued` tasks wait to start
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 1, maxQueued: 4 });
   * const results = [];
   * for (let i = 0; i < 20; i++) {
   *   await pool.whenReady();
   *   results.push(pool.submit((x: number) => x * 2, i));
   * }
   * assert.equal((await Promise.all(results)).at(-1), 38);
   * ```
   */
  whenReady(): Promise<void> {
    return this.#core.whenReady();
  }

  /**
   * Resolves when every task submitted so far has settled (at once if none is left).
   *
   * @returns a promise that resolves when the pool is idle
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
   * pool.submit((x: number) => x + 1, 1);
   * await pool.onIdle();
   * ```
   */
  onIdle(): Promise<void> {
    return this.#core.onIdle();
  }

  /**
   * Stops accepting work; with `wait` (the default) resolves once all work has settled and every
   * worker has been ended.
   *
   * @param options `wait` (default true): resolve once the work has settled; `cancelFutures`
   * (default false): cancel the tasks that have not started
   * @returns a promise that resolves when the executor has shut down (at once without `wait`)
   *
   * @example
   * ```ts
   * import { WorkerPoolExecutor } from "@concurrent/futures";
   * const pool = new WorkerPoolExecutor();
   * await pool.shutdown();
   * ```
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#core.shutdown(options);
  }

  /** `shutdown({ wait: true })`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.shutdown({ wait: true });
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
  const limit = o.restartLimit ?? { max: 20, within: 60_000 };
  check(isObject(limit), what, "restartLimit", "{ max, within }", limit, false);
  const max = limit.max === 0 ? 0 : checkPositiveInt(what, "restartLimit.max", limit.max);
  const within = checkMillis(what, "restartLimit.within", limit.within);
  if (max === undefined || within === undefined) {
    throw new TypeError(`Cannot ${what} as 'restartLimit' needs both 'max' and 'within'`);
  }
  const permissions = o.permissions;
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
    maxTasksPerWorker: checkPositiveInt(what, "maxTasksPerWorker", o.maxTasksPerWorker) ?? Infinity,
    idleTimeout: checkMillis(what, "idleTimeout", o.idleTimeout) ?? 1_000,
    permissions,
    onCrash: o.onCrash ?? "restart",
    restartLimit: { max, within },
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

// The worker's local pool, rebuilt when it breaks. A process pool breaks after too many crashes in
// a row (its restart limit); a worker that kept the broken pool would fail every task it pulled
// with BrokenExecutorError, one poison task turning the whole queue into failures. Here the
// worker stops pulling (lanes wait on `ready()`), and after a backoff a new pool takes over; tasks
// that the broken pool refused run again on the new one.
//
// `inline` runs tasks in the worker's own process (an AsyncPoolExecutor): no process hop, for
// trusted modules only, as a timeout or cancel rejects the task but cannot stop its code, and a
// task that crashes the process takes the worker down (its supervisor restarts it).

import { AsyncPoolExecutor } from "../executors/async_pool.ts";
import type { Executor } from "../executors/executor.ts";
import { ProcessPoolExecutor } from "../executors/process_pool.ts";
import { WorkerPoolExecutor } from "../executors/worker_pool.ts";
import { BrokenExecutorError } from "../future/errors.ts";

/** Where a worker runs its tasks. */
export type Isolation = "process" | "worker" | "inline";

/** The isolation kinds, as the option checks list them. */
export const ISOLATIONS: readonly Isolation[] = ["process", "worker", "inline"];

/** How the local pool is made. */
export interface LocalPoolOptions {
  isolation: Isolation;
  concurrency: number;
  modules: string[];
  name: string;
  /** The pool's restart limit (default: its own, 20 restarts within 60 s). */
  restartLimit?: { max: number; within: number };
  /** Milliseconds before the first rebuild; it doubles for each rebuild in a row, up to 60 s. */
  rebuildDelay?: number;
  log?: (line: string) => void;
}

const MAX_DELAY = 60_000;

/** A pool that is rebuilt after a backoff when it breaks. */
export class LocalPool {
  readonly #options: LocalPoolOptions;
  #pool: Executor;
  #rebuilding: Promise<void> | undefined;
  #delay: number;
  #lastRebuild = 0;
  #closed = false;
  #wake: (() => void) | undefined;
  /** Times the pool was rebuilt. */
  rebuilds = 0;

  constructor(options: LocalPoolOptions) {
    this.#options = options;
    this.#delay = options.rebuildDelay ?? 1_000;
    this.#pool = this.#make();
  }

  /** The current pool. */
  get executor(): Executor {
    return this.#pool;
  }

  /** Whether a rebuild is under way (then `ready()` resolves once it is done). */
  get rebuilding(): boolean {
    return this.#rebuilding !== undefined;
  }

  /** Resolves when the pool takes tasks: at once, or once it has been rebuilt. */
  ready(): Promise<void> {
    return this.#rebuilding ?? Promise.resolve();
  }

  /**
   * Says whether a task failed with `error` because the pool is broken (it did not run then); if
   * so, a rebuild is under way: wait for `ready()` and run the task again.
   */
  refused(error: unknown): boolean {
    if (!(error instanceof BrokenExecutorError)) return false;
    if (this.#rebuilding) return true;
    // A task may throw a BrokenExecutorError of its own: the pool itself says whether it is broken
    // (a broken executor's submit() throws its error before it looks at the function).
    try {
      this.#pool.submit(null as never);
    } catch (probe) {
      if (!(probe instanceof BrokenExecutorError)) return false;
      this.#rebuilding = this.#rebuild(probe);
      return true;
    }
    return false;
  }

  async #rebuild(error: BrokenExecutorError): Promise<void> {
    const now = Date.now();
    // Rebuilds far apart start from the first delay again.
    if (now - this.#lastRebuild > 10 * MAX_DELAY) this.#delay = this.#options.rebuildDelay ?? 1_000;
    const delay = this.#delay;
    this.#delay = Math.min(MAX_DELAY, delay * 2);
    this.#options.log?.(
      `futures worker ${this.#options.name}: ${error.message}; it takes no tasks and builds a new pool in ${delay} ms`,
    );
    const old = this.#pool;
    await old.shutdown({ cancelFutures: true }).catch(() => {});
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, delay);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = undefined;
    if (!this.#closed) {
      this.#pool = this.#make();
      this.rebuilds++;
      this.#lastRebuild = Date.now();
    }
    this.#rebuilding = undefined;
  }

  #make(): Executor {
    if (this.#options.isolation === "inline") {
      return new AsyncPoolExecutor({
        maxWorkers: this.#options.concurrency,
        name: `distributed worker ${this.#options.name}`,
      });
    }
    const options = {
      maxWorkers: this.#options.concurrency,
      modules: this.#options.modules,
      name: `distributed worker ${this.#options.name}`,
      ...(this.#options.restartLimit ? { restartLimit: this.#options.restartLimit } : {}),
    };
    return this.#options.isolation === "worker"
      ? new WorkerPoolExecutor(options)
      : new ProcessPoolExecutor(options);
  }

  /** Ends the pool (a rebuild under way ends at once). */
  async shutdown(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#rebuilding;
    await this.#pool.shutdown({ wait: true });
  }
}

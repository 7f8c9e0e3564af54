// Helpers for WorkerPoolExecutor tests: a pool over the fixture task modules, waiting on shared
// cells the tasks write, bounded polling of stats(), and running Deno scripts in a subprocess.

import {
  type Future,
  WorkerPoolExecutor,
  type WorkerPoolExecutorOptions,
  type WorkerPoolStats,
} from "../../mod.ts";
import { Cell } from "../fixtures/tasks.ts";

export const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);
export const ERRORS = new URL("../fixtures/errors.ts", import.meta.url);
export const SCRIPTS = new URL("../fixtures/scripts/", import.meta.url);
export const ROOT = new URL("../../", import.meta.url);

/**
 * How long a future may take to settle in a fault test before the test fails. Only a guard
 * against a hang, so that a test fails with a message rather than at the runner's limit: nothing
 * is expected to take long, but on a loaded machine seconds pass between events.
 */
export const SETTLE_MS = 30_000;

/** A pool whose workers load the fixture task module. */
export function workerPool(options: WorkerPoolExecutorOptions = {}): WorkerPoolExecutor {
  return new WorkerPoolExecutor({ modules: [TASKS], ...options });
}

/** The error a future settles with; fails the test if it does not settle within `ms`. */
export async function errorOf(future: Future<unknown>, ms = SETTLE_MS): Promise<unknown> {
  const error = await future.exception({ timeout: ms });
  if (error === undefined) throw new Error("the future succeeded; an error was expected");
  return error;
}

/**
 * Waits until `cell[index]` is no longer `from` and returns its value. `Atomics.waitAsync` does
 * not keep the event loop alive, so a timer does while it waits.
 */
export async function changed(
  cell: Int32Array,
  index: number,
  from: number,
  ms = SETTLE_MS,
): Promise<number> {
  const deadline = performance.now() + ms;
  while (Atomics.load(cell, index) === from) {
    const left = deadline - performance.now();
    if (left <= 0) throw new Error(`cell slot ${index} stayed ${from} for ${ms} ms`);
    const keepAlive = setTimeout(() => {}, left + 50);
    try {
      await Atomics.waitAsync(cell, index, from, left).value;
    } finally {
      clearTimeout(keepAlive);
    }
  }
  return Atomics.load(cell, index);
}

/** Waits until at least `n` tasks using `cell` have started. */
export async function startedAtLeast(cell: Int32Array, n: number, ms = SETTLE_MS): Promise<void> {
  const deadline = performance.now() + ms;
  for (let seen = Atomics.load(cell, Cell.Started); seen < n;) {
    await changed(cell, Cell.Started, seen, Math.max(1, deadline - performance.now()));
    seen = Atomics.load(cell, Cell.Started);
  }
}

/** Lets the tasks held on `cell` finish. */
export function release(cell: Int32Array): void {
  Atomics.store(cell, Cell.Release, 1);
  Atomics.notify(cell, Cell.Release);
}

/**
 * Polls `pool.stats()` every few ms until `ok` holds, for states nothing else signals (a worker
 * ending after its idle timeout, a thread leaving its loop). Fails after `ms`.
 */
export async function statsUntil(
  pool: WorkerPoolExecutor,
  ok: (stats: WorkerPoolStats) => boolean,
  ms = SETTLE_MS,
): Promise<WorkerPoolStats> {
  const deadline = performance.now() + ms;
  for (;;) {
    const stats = pool.stats();
    if (ok(stats)) return stats;
    if (performance.now() > deadline) {
      throw new Error(
        `stats did not reach the expected state in ${ms} ms: ${JSON.stringify(stats)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** What a subprocess did. */
export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
  killed: boolean;
}

/** Runs `deno <args>` from the repository root; kills it after `ms`. */
export async function runDeno(args: string[], ms = 30_000): Promise<ScriptRun> {
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, ms);
  try {
    const { code, stdout, stderr } = await child.output();
    const decoder = new TextDecoder();
    return {
      code,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr),
      ms: performance.now() - start,
      killed,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once `path` exists: a process says so by writing it. */
export async function holding(path: string): Promise<void> {
  // Watched before the first look: a file written between a look and the next change is seen.
  using watcher = Deno.watchFs(path.slice(0, path.lastIndexOf("/")));
  const changes = watcher[Symbol.asyncIterator]();
  while (!(await Deno.stat(path).then(() => true, () => false))) await changes.next();
}

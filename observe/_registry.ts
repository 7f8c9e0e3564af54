// Finds the core behind each public executor and installs one recorder on it, once.

import { clusterOf, observableOf, type ObservedCluster } from "../executors/_observe.ts";
import { Recorder } from "./_recorder.ts";

/**
 * The executors to observe: a record names them (`{ cpu: pool }`); in a list each is named after
 * its `name` option, or its class when it has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { type Executors, readMetrics } from "@concurrent/futures/observe";
 *
 * await using pool = new AsyncPoolExecutor();
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const named: Executors = { cpu: pool };
 * assert.equal(readMetrics(named)[0]!.executor, "cpu");
 * assert.deepEqual(readMetrics([pool, io]).map((m) => m.executor), ["AsyncPoolExecutor", "io"]);
 * ```
 */
export type Executors = Record<string, object> | Iterable<object>;

/** An executor with its name and recorder. */
export interface Observed {
  name: string;
  /** Its class name, e.g. `WorkerPoolExecutor`. */
  kind: string;
  executor: object;
  recorder: Recorder;
  /** A distributed executor's cluster, watched from its workers' heartbeats. */
  cluster: ObservedCluster | undefined;
}

const recorders = new WeakMap<object, Recorder>();

/** The recorder of `executor`, installed on first use. */
export function recorderOf(executor: object, what: string): Recorder {
  let recorder = recorders.get(executor);
  if (recorder) return recorder;
  const core = observableOf(executor);
  if (!core) {
    const view = typeof (executor as { with?: unknown }).with === "function" &&
      typeof (executor as { submit?: unknown }).submit === "function";
    throw new TypeError(
      `Cannot ${what} as 'executors' must hold executors of this library: received ${
        view
          ? "a view made by with() (pass the executor it was made from)"
          : Object.prototype.toString.call(executor)
      }`,
    );
  }
  recorder = new Recorder(core);
  // Futures settled are counted by the executor's stats() where it has them.
  const stats = (executor as { stats?(): { futures?: unknown } }).stats?.();
  recorder.countTasks = stats?.futures === undefined;
  // An AsyncPoolExecutor's own slots stay listed when free; those nested submits add do not.
  const maxWorkers = (executor as { maxWorkers?: unknown }).maxWorkers;
  if (typeof maxWorkers === "number") recorder.keptSlots = maxWorkers;
  core.observer = recorder;
  // A cluster's workers joining and leaving are changes too (the dashboard sends an update), and
  // those gone leave the recorder then, read or not (their names would pile up otherwise).
  const cluster = clusterOf(executor);
  if (cluster) {
    cluster.onChange = () => {
      recorder.syncCluster(cluster.workers());
      recorder.onChange?.();
    };
  }
  recorders.set(executor, recorder);
  return recorder;
}

/** Resolves `executors` to named, recorded executors. */
export function observeAll(executors: Executors, what: string): Observed[] {
  const refuse = (received: string): never => {
    throw new TypeError(
      `Cannot ${what} as 'executors' must be a list or a record of executors: received ${received}`,
    );
  };
  if (executors === null || typeof executors !== "object") refuse(String(executors));
  // One executor, whose keys would be taken for names (none): nothing would be recorded.
  if (observableOf(executors)) refuse("one executor (put it in a list: [executor])");
  if (executors instanceof Map) refuse("a Map (use a record, { cpu: pool }, or a list)");
  const entries: [string | undefined, object][] = Symbol.iterator in executors
    ? [...(executors as Iterable<object>)].map((e) => [undefined, e])
    : Object.entries(executors);
  const seen = new Set<object>();
  /** The last count given after each name, and the names given. */
  const names = new Map<string, number>();
  const taken = new Set<string>();
  const observed: Observed[] = [];
  for (const [given, executor] of entries) {
    // Listed twice: observed once (its series would be there twice).
    if (seen.has(executor)) continue;
    seen.add(executor);
    const recorder = recorderOf(executor, what);
    const label = recorder.core.label;
    const kind = label.split(" ")[0]!;
    const own = /'(.*)'$/s.exec(label)?.[1];
    const cluster = clusterOf(executor);
    // Two executors of the same name (two unnamed pools of a class) would share their series
    // and their card: the second is "name (2)", and so on, past any name already taken (a pool
    // may be named "name (2)" itself).
    const base = given ?? own ?? kind;
    let count = names.get(base) ?? 1;
    let name = count === 1 ? base : `${base} (${count})`;
    while (taken.has(name)) name = `${base} (${++count})`;
    names.set(base, count);
    taken.add(name);
    observed.push({ name, kind, executor, recorder, cluster });
  }
  return observed;
}

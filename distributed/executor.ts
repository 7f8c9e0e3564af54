/**
 * {@linkcode DistributedExecutor}: the executor interface across machines, on NATS JetStream.
 *
 * @module
 */

import {
  COMMON_OPTION_KEYS,
  type CommonExecutorOptions,
  commonSettings,
  ExecutorCore,
} from "../executors/_core.ts";
import type { ExecutorStats } from "../executors/executor.ts";
import { attachCore, ExecutorBase } from "../executors/_facade.ts";
import { FunctionRefs } from "../executors/_fn_ref.ts";
import { moduleUrl } from "../actors/_module_url.ts";
import { checkKnownKeys, checkPositiveInt, checkRestartLimit } from "../executors/_options.ts";
import { checkAliases, checkOneOf, OPTION_ALIASES, refuse } from "../future/_options.ts";
import { makeObservable } from "../executors/_observe.ts";
import type { Future } from "../future/future.ts";
import { checkDurations, defaultLayout, type LayoutOptions } from "./_layout.ts";
import { requestedLayout } from "./_settings.ts";
import { type DistributedTaskStats, NatsEngine } from "./_engine.ts";
import { CONNECT_OPTION_KEYS, connectionOptions, type NatsConnectOptions } from "./_auth.ts";
import { ISOLATIONS } from "./_local_pool.ts";

export type { DistributedTaskStats };

/**
 * What {@linkcode DistributedExecutor.stats} reports: the counters of every executor, and the
 * distributed ones.
 *
 * @example
 * ```ts
 * import type { DistributedStats } from "@concurrent/futures/distributed";
 * const show = (s: DistributedStats) => `${s.running} running, ${s.redelivered} redelivered`;
 * void show;
 * ```
 */
export interface DistributedStats extends ExecutorStats {
  /** Tasks submitted and not started by a worker yet (here or in the stream). */
  queued: number;
  /** Tasks a worker has started and whose outcome has not arrived. */
  running: number;
  /**
   * Tasks a worker has started and whose outcome has not arrived.
   * @deprecated Use `running` (the same number); removed in 0.3.0.
   */
  inFlight: number;
  /**
   * Attempts that finished with a value (each publish of a retried task is one).
   */
  completed: number;
  /**
   * Attempts that finished with an error: thrown, poison, timed out and aborted here (`timeout`,
   * `deadline`, an aborted `signal`; a cancel is not a failure), or refused here (arguments that
   * cannot be sent, a publish the server refused).
   */
  failed: number;
  /**
   * Deliveries after the first, counted as the server counts them (a task delivered three times
   * counts two), as far as the client learns of them: from start notices, outcomes and the
   * delivery-limit advisory.
   */
  redelivered: number;
  /** Outcomes per worker name. */
  byWorker: Record<string, { completed: number; failed: number }>;
  /** Whether the connection to NATS is up; while it is down, submits are held here. */
  connected: boolean;
  /** Tasks held here, not yet in the stream (waiting for room or for the connection). */
  buffered: number;
  /**
   * Messages of acknowledged tasks that a server crash left in the task stream, removed by this
   * client (it looks when it connects and after each reconnect).
   */
  ghosts: number;
  /**
   * Outcomes per worker name.
   * @deprecated Use `byWorker` (the same record; `workers` in the pools' stats counts workers by
   * state); removed in 0.3.0.
   */
  workers: Record<string, { completed: number; failed: number }>;
}

/**
 * Options for {@linkcode DistributedExecutor}; the connection's (credentials, TLS, other
 * `connect()` options) are those of {@linkcode NatsConnectOptions}.
 *
 * Four limits bound four different things, from the caller to the server: `maxQueued` bounds the
 * tasks submitted that no worker has started, here and in the stream (past it `submit()` throws
 * `QueueFullError`, as on every executor); `maxPublished` bounds the tasks published and not
 * settled (more wait here, in order, unpublished); `maxInFlight` bounds the tasks held by workers
 * across the cluster (the consumer's `max_ack_pending`); `streamMaxMessages` is the stream's
 * capacity (a full stream refuses publishes and the executor tries again). Tasks running at once
 * are `maxWorkers × concurrency` in embedded mode, and the workers' own `--concurrency` with
 * `servers`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({
 *   maxWorkers: 1, // embedded mode: no `servers`, so it starts nats-server and one worker
 *   allowSource: true,
 *   queue: "docs",
 *   storage: "memory",
 *   poisonAfter: 2,
 * });
 * assert.equal(await executor.submit((s: string) => s.length, "four"), 4);
 * ```
 */
export interface DistributedExecutorOptions extends CommonExecutorOptions, NatsConnectOptions {
  /**
   * NATS server URL(s), such as `"nats://nats-host:4222"`. Without it the executor starts an
   * embedded `nats-server` on 127.0.0.1 (random port, temporary store) and `workers` local worker
   * processes, and ends them at shutdown.
   */
  servers?: string | string[];
  /**
   * The queue: workers started with the same `--queue` run its tasks.
   * @default {"default"}
   */
  queue?: string;
  /** Task modules: their exported functions can be submitted by reference. */
  modules?: (string | URL)[];
  /**
   * Embedded mode only: local worker processes to start, each running `concurrency` tasks at
   * once.
   * @default {navigator.hardwareConcurrency}: as many processes as CPUs, one task each. A
   * standalone worker (`./worker`) is the other way round: one process with `--concurrency`
   * lanes, as many as CPUs. Same total; here each lane is its own process, so that a timeout can
   * kill one task without the others.
   */
  maxWorkers?: number;
  /**
   * Embedded mode only: local worker processes to start.
   * @deprecated Use `maxWorkers`, the other executors' name; removed in 0.3.0.
   */
  workers?: number;
  /**
   * Embedded mode only: tasks each local worker runs at once (the worker CLI's `--concurrency`).
   * @default {1}
   */
  concurrency?: number;
  /**
   * Embedded mode only: how local workers isolate tasks (`"process"`: a subprocess per lane,
   * which a timeout kills; `"worker"`: Web Workers; `"inline"`: in the worker process itself, the
   * fastest, for trusted modules only, as a timeout rejects a task but cannot stop it).
   * @default {"process"}
   */
  isolation?: "process" | "worker" | "inline";
  /**
   * Embedded mode only: let local workers run functions sent by source (remote code execution).
   * @default {false}
   */
  allowSource?: boolean;
  /**
   * Embedded mode only: local worker processes are started again when they exit (a task that
   * ends its worker); more exits than `max` within `within` ms break the executor with
   * `BrokenExecutorError` (workers that cannot start, or a poison task that keeps killing them).
   * With `servers`, a supervisor (systemd, a container runtime) restarts the workers.
   * @default {{ max: 3 × maxWorkers, within: 60000 }}
   */
  restartLimit?: { max: number; within: number };
  /**
   * Milliseconds a worker may hold a task without a sign of life before it is delivered to
   * another; running tasks send in-progress acks every third of it. Applies when this executor
   * creates the queue's consumer.
   * @default {30000}
   */
  ackWait?: number;
  /**
   * Deliveries of one task to workers (a worker lost while running it means another delivery);
   * one more and it rejects as a poison task with `WorkerCrashedError`. It counts the deliveries
   * of one publish, where `RetryOptions.maxAttempts` counts the publishes of a task (each retry
   * publishes it again): with both, a task may run up to `retry.maxAttempts × poisonAfter` times.
   * @default {3}
   */
  poisonAfter?: number;
  /**
   * Deliveries of one task before it is a poison task.
   * @deprecated Use `poisonAfter`: `maxAttempts` counts attempts of a task everywhere else
   * (`RetryOptions`); removed in 0.3.0.
   */
  maxAttempts?: number;
  /**
   * Tasks published and not settled at most; more wait here, in order. (`maxQueued` bounds the
   * tasks waiting to start, here and in the stream: past it `submit()` throws `QueueFullError`.)
   * @default {10000}
   */
  maxPublished?: number;
  /**
   * Tasks held by workers across the cluster at most (the consumer's `max_ack_pending`).
   * Applies when this executor creates the consumer.
   * @default {1000}
   */
  maxInFlight?: number;
  /**
   * Messages the task stream holds at most; a full stream refuses publishes and the executor
   * tries again. Applies when this executor creates the stream.
   * @default {1000000}
   */
  streamMaxMessages?: number;
  /**
   * Arguments (and results) larger than this many bytes travel through the object store.
   * @default {262144}
   */
  payloadThreshold?: number;
  /**
   * Where JetStream keeps tasks and results: `"file"` survives a server restart.
   * @default {"file"}
   */
  storage?: "file" | "memory";
  /**
   * Stream replicas in a NATS cluster (3 in production). Applies when this executor creates them.
   * @default {1}
   */
  replicas?: number;
  /**
   * Milliseconds a stored result is kept (it must outlive every redelivery of its task). A task
   * that no worker took within it is dropped from the stream (its `max_age`) and rejects.
   * @default {3600000}
   */
  resultTtl?: number;
  /**
   * Deliveries the queue's consumer makes at most (its `max_deliver`): a safety net above
   * `poisonAfter` for tasks that end their worker before it can count them. Past it, the server
   * tells the client, which rejects the task with `WorkerCrashedError`.
   * @default {10}
   */
  maxDeliveries?: number;
  /**
   * This client's id: its results are stored under `<clientId>.<task>`, its start notices come on
   * `futs.started.<clientId>`. Give a fixed one when NATS permissions restrict what each client
   * may read (see the README's "Running it safely"), or to get the results of tasks an earlier run
   * submitted, with `futureOf(taskId)`. Letters, digits, `_` or `-`.
   * @default {a random id}
   */
  clientId?: string;
}

/**
 * Runs functions on worker processes on any number of machines, joined by NATS JetStream: tasks go
 * to a work-queue stream, workers pull them, outcomes come back through a key-value bucket.
 *
 * It has the interface of the local executors (`submit`, `map`, `with`, `shutdown`), so switching
 * is changing one identifier. Execution is at least once (a task whose worker died is run again
 * elsewhere, so tasks should be idempotent) and every future settles exactly once. Tasks are
 * functions exported from `modules` (each worker loads the same modules), or self-contained
 * functions sent by source to workers that allow it.
 *
 * With no `servers`, it starts an embedded `nats-server` and local worker processes, which need
 * `nats-server` installed (`apt-get install nats-server`).
 *
 * It breaks with `BrokenExecutorError` (every unsettled future rejects with it, and so does a
 * later `submit()`) when its embedded server exits, or when its connection closes for good
 * (credentials refused on a reconnect, `maxReconnectAttempts` of `connectOptions` used up).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
 * assert.equal(await executor.submit((a: number, b: number) => a + b, 2, 3), 5);
 * ```
 */
export class DistributedExecutor extends ExecutorBase<DistributedStats> {
  readonly #core: ExecutorCore;
  readonly #engine: NatsEngine;
  readonly #maxWorkers: number;

  /**
   * Creates the executor; it connects (or starts its embedded server and workers) in the
   * background, and tasks submitted meanwhile wait.
   *
   * @param options see {@linkcode DistributedExecutorOptions}
   * @throws {RangeError} or {TypeError} for an option out of range, naming it and the value
   */
  constructor(given?: DistributedExecutorOptions) {
    super();
    const what = "create DistributedExecutor";
    const at = (path: string) => ({ action: what, path });
    if (given !== undefined && (given === null || typeof given !== "object")) {
      refuse(at("options"), "an object", given, false);
    }
    checkKnownKeys(what, given ?? {}, [
      ...COMMON_OPTION_KEYS,
      "servers",
      "queue",
      "modules",
      "maxWorkers",
      "workers",
      "concurrency",
      "isolation",
      "allowSource",
      "restartLimit",
      "ackWait",
      "poisonAfter",
      "maxAttempts",
      "maxPublished",
      "maxInFlight",
      "streamMaxMessages",
      "payloadThreshold",
      "storage",
      "replicas",
      "resultTtl",
      "maxDeliveries",
      "clientId",
      ...CONNECT_OPTION_KEYS,
    ]);
    // The deprecated names are read as the new ones; giving both is refused.
    const options = given && checkAliases(
      { action: what, path: "" },
      given as Record<string, unknown>,
      OPTION_ALIASES.distributed,
    ) as DistributedExecutorOptions;
    const servers = options?.servers;
    if (
      servers !== undefined &&
      !(typeof servers === "string" ||
        Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === "string"))
    ) {
      refuse(at("servers"), "a URL or a non-empty list of URLs", servers, false);
    }
    const clientId = options?.clientId;
    if (
      clientId !== undefined && (typeof clientId !== "string" || !/^[A-Za-z0-9_-]+$/.test(clientId))
    ) {
      refuse(at("clientId"), "letters, digits, '_' or '-'", clientId, false);
    }
    const modules = options?.modules ?? [];
    if (!Array.isArray(modules)) refuse(at("modules"), "a list of URLs or paths", modules, false);
    for (const module of modules) moduleUrl(module, what, "modules");
    const allowSource = options?.allowSource;
    if (allowSource !== undefined && typeof allowSource !== "boolean") {
      refuse(at("allowSource"), "true or false", allowSource, false);
    }
    // Checked now (a bad option throws here); the embedded server's URL is added at start.
    const connection = connectionOptions([servers ?? []].flat(), options ?? {}, what);
    const queue = options?.queue ?? "default";
    if (typeof queue !== "string" || !/^[A-Za-z0-9_-]+$/.test(queue)) {
      refuse(at("queue"), "letters, digits, '_' or '-'", queue, false);
    }
    const isolation = checkOneOf(what, "isolation", options?.isolation, ISOLATIONS) ??
      "process";
    const storage = checkOneOf(what, "storage", options?.storage, ["file", "memory"]) ?? "file";
    const int = (name: keyof DistributedExecutorOptions, fallback: number) =>
      checkPositiveInt(what, keyGiven(given, name), options?.[name]) ?? fallback;
    const maxWorkers = int("maxWorkers", navigator.hardwareConcurrency);
    const concurrency = int("concurrency", 1);
    const restartLimit = checkRestartLimit(what, options?.restartLimit, {
      max: 3 * maxWorkers,
      within: 60_000,
    });
    // Values are checked first (a bad one is named as such), then where they belong.
    if (servers !== undefined) {
      // These shape the processes this executor starts; with `servers` it starts none.
      for (const [key, flag] of EMBEDDED_ONLY) {
        if (options?.[key] === undefined) continue;
        throw new TypeError(
          `Cannot ${what} as '${keyGiven(given, key)}' applies to the embedded workers only, ` +
            `which are not started when 'servers' is given: ${flag}`,
        );
      }
    }
    if (servers === undefined) {
      // The embedded server asks for a token of its own, which this executor and its workers use.
      for (const key of ["user", "pass", "token", "nkeySeed", "credsFile", "tls"] as const) {
        if (options?.[key] === undefined) continue;
        throw new TypeError(
          `Cannot ${what} as '${key}' applies to a server given in 'servers' only: the embedded ` +
            "server (started without 'servers') asks for a token it makes itself",
        );
      }
    }
    const layout: LayoutOptions = {
      ...defaultLayout,
      ackWait: int("ackWait", defaultLayout.ackWait),
      maxAckPending: int("maxInFlight", defaultLayout.maxAckPending),
      streamMaxMsgs: int("streamMaxMessages", defaultLayout.streamMaxMsgs),
      storage,
      replicas: int("replicas", 1),
      resultTtl: int("resultTtl", defaultLayout.resultTtl),
      maxDeliver: int("maxDeliveries", defaultLayout.maxDeliver),
    };
    checkDurations(what, layout, (key) => keyGiven(given, key));
    // The engine starts the embedded server and workers as it is built: every option is checked
    // before, for a constructor that throws after leaves them running with nobody to stop them.
    const common = commonSettings("DistributedExecutor", options);
    this.#engine = new NatsEngine({
      servers: servers === undefined ? undefined : [servers].flat(),
      connection,
      clientId,
      queue,
      modules: new FunctionRefs(modules),
      layout,
      requested: requestedLayout(layout, options ?? {}),
      maxPublished: int("maxPublished", 10_000),
      maxAttempts: int("poisonAfter", 3),
      payloadThreshold: int("payloadThreshold", 256 * 1024),
      reconcileInterval: Math.min(5_000, layout.ackWait),
      embedded: {
        workers: maxWorkers,
        concurrency,
        isolation,
        allowSource: options?.allowSource === true,
        restartLimit,
      },
    });
    this.#maxWorkers = servers === undefined ? maxWorkers * concurrency : 0;
    this.#core = new ExecutorCore("DistributedExecutor", options, this.#engine, common);
    this.#engine.onBroken = (error) => this.#core.breakWith(error);
    attachCore(this, this.#core);
    this.#engine.observed = this.#core;
    makeObservable(this, this.#core, () => this.#engine.cluster());
  }

  /**
   * How many tasks run at once on the worker processes this executor starts (embedded mode:
   * `maxWorkers` × `concurrency`); 0 with `servers`, whose workers are not its own.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1 });
   * assert.equal(executor.maxWorkers, 1);
   * ```
   */
  get maxWorkers(): number {
    return this.#maxWorkers;
  }

  /**
   * Resolves once the executor has started: connected, its stream and consumer made, and (in
   * embedded mode) its server and worker processes up. `whenReady()` is another thing, the
   * backpressure hint every executor has (room below `maxQueued`).
   *
   * @returns a promise that resolves when tasks can be published
   * @throws {Error} when it cannot connect, or cannot start its embedded server (the message says
   * how to install `nats-server`)
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1 });
   * await executor.whenStarted();
   * ```
   */
  whenStarted(): Promise<void> {
    return this.#engine.ready.then(() => this.#engine.workersUp);
  }

  /**
   * Resolves once the executor has started.
   *
   * @deprecated Use `whenStarted()` (the same promise); removed in 0.3.0.
   * @returns a promise that resolves when tasks can be published
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1 });
   * await executor.whenStarted();
   * ```
   */
  ready(): Promise<void> {
    return this.whenStarted();
  }

  /**
   * Counts of tasks by state and outcome, and outcomes per worker.
   *
   * @returns a snapshot; see {@linkcode DistributedStats}
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
   * await executor.submit(() => 1);
   * assert.equal(executor.stats().completed, 1);
   * ```
   */
  override stats(): DistributedStats {
    const { inFlight, workers, ...rest } = this.#engine.stats();
    return {
      ...rest,
      running: inFlight,
      inFlight,
      futures: this.#core.futureCounts(),
      attempts: { completed: rest.completed, failed: rest.failed },
      byWorker: workers,
      workers,
    };
  }

  /**
   * Counts of one future's task: its attempts (task ids), its deliveries to workers (more than
   * one when a worker was lost and the task ran again), and the worker whose outcome settled it.
   *
   * @param future a future returned by `submit()` of this executor (or a view of it)
   * @returns the counts, or undefined for a future this executor never published
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
   * const future = executor.submit(() => 1);
   * await future;
   * assert.equal(executor.taskStats(future)?.deliveries, 1);
   * ```
   */
  taskStats(future: Future<unknown>): DistributedTaskStats | undefined {
    return this.#engine.taskStats(future);
  }

  /**
   * The id of the task behind a future this executor returned, under which its outcome is stored
   * (the latest attempt's, with `retry`). With a stable `clientId`, another run of the program
   * gets the task's future back from it with `futureOf`.
   *
   * @param future a future returned by `submit()`
   * @returns the task id, or `undefined` for a future this executor did not return
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
   * const future = executor.submit(() => 1);
   * assert.equal(typeof executor.taskId(future), "string");
   * ```
   */
  taskId(future: Future<unknown>): string | undefined {
    return this.#engine.taskId(future);
  }

  /**
   * The future of task `taskId` of this client (see `clientId`): the one `submit()` returned, for
   * a task of this executor that has not settled, or else a future that settles with the outcome stored by
   * the workers, such as that of a task submitted by an earlier run of the program that ended
   * before it settled. A task whose outcome expired (`resultTtl`) or never existed stays pending;
   * give `wait()` a timeout.
   *
   * @param taskId an id from {@linkcode DistributedExecutor.taskId}
   * @returns its future
   * @throws `InvalidStateError` after `shutdown()`, unless the task is one of this executor's own
   *   that has not settled
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true, clientId: "app" });
   * const id = executor.taskId(executor.submit(() => 7))!;
   * // In another run, with the same clientId:
   * assert.equal(await executor.futureOf(id), 7);
   * ```
   */
  futureOf<T = unknown>(taskId: string): Future<T> {
    if (typeof taskId !== "string" || !/^[A-Za-z0-9_-]+$/.test(taskId)) {
      refuse({ action: "get the future of a task", path: "taskId" }, "a task id", taskId, false);
    }
    return this.#engine.futureOf(taskId, this.#core.isShutdown) as Future<T>;
  }

  /**
   * Removes the stored outcome of task `taskId` and its payloads now rather than at the end of
   * `resultTtl`: for outcomes nobody will read (a crashed run's large results). A task of this
   * run that is still queued is cancelled; one that is running is waited for (its future settles
   * as usual), and its outcome removed once stored. A task of another run still queued or running
   * may store its outcome again. While the connection is down, it waits for it to come back.
   *
   * @param taskId an id from {@linkcode DistributedExecutor.taskId}
   * @returns a promise that resolves once it is removed (it rejects with `InvalidStateError` after
   *   `shutdown()`: nothing could be removed then; with the error of a request that failed
   *   otherwise than with the connection; and once the connection is closed)
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
   * const future = executor.submit(() => new Uint8Array(1 << 20));
   * await future;
   * await executor.forget(executor.taskId(future)!);
   * ```
   */
  forget(taskId: string): Promise<void> {
    if (typeof taskId !== "string" || !/^[A-Za-z0-9_-]+$/.test(taskId)) {
      refuse({ action: "forget a task", path: "taskId" }, "a task id", taskId, false);
    }
    return this.#engine.forget(taskId, this.#core.isShutdown);
  }

  /**
   * PIDs of the processes this executor started that are running: the embedded server first,
   * then its workers (empty with `servers`, and after shutdown).
   *
   * @returns the PIDs
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ maxWorkers: 1 });
   * await executor.whenStarted();
   * assert.equal(executor.pids.length, 2);
   * ```
   */
  get pids(): number[] {
    return this.#engine.pids;
  }
}

/** The key the caller wrote for option `name`: its deprecated name if that is the one given. */
function keyGiven(given: DistributedExecutorOptions | undefined, name: string): string {
  for (const [old, now] of Object.entries(OPTION_ALIASES.distributed)) {
    if (now === name && given?.[old as keyof DistributedExecutorOptions] !== undefined) return old;
  }
  return name;
}

/** The options that only the embedded workers take, and what stands for each with `servers`. */
const EMBEDDED_ONLY: [keyof DistributedExecutorOptions, string][] = [
  ["maxWorkers", "start that many worker processes (deno run -A jsr:@concurrent/futures/worker)"],
  ["concurrency", "give each worker process --concurrency"],
  ["isolation", "give each worker process --isolation"],
  ["allowSource", "give each worker process that may run functions sent by source --allow-source"],
  ["restartLimit", "run each worker process under a supervisor (systemd, a container runtime)"],
];

/**
 * {@linkcode DistributedExecutor}: the executor interface across machines, on NATS JetStream.
 *
 * @module
 */

import {
  COMMON_OPTION_KEYS,
  type CommonExecutorOptions,
  ExecutorCore,
} from "../executors/_core.ts";
import type {
  Executor,
  FuturesOr,
  MapOptions,
  ShutdownOptions,
  TaskOptions,
} from "../executors/executor.ts";
import type { DomainCircuitStats } from "../executors/circuit_breaker.ts";
import { FunctionRefs } from "../executors/_fn_ref.ts";
import { checkKnownKeys, checkPositiveInt } from "../executors/_options.ts";
import { show } from "../executors/_check.ts";
import { makeObservable } from "../executors/_observe.ts";
import type { Future } from "../future/future.ts";
import { defaultLayout, type LayoutOptions } from "./_layout.ts";
import { requestedLayout } from "./_settings.ts";
import { type DistributedStats, type DistributedTaskStats, NatsEngine } from "./_engine.ts";
import { CONNECT_OPTION_KEYS, connectionOptions, type NatsConnectOptions } from "./_auth.ts";
import { ISOLATIONS } from "./_local_pool.ts";

export type { DistributedStats, DistributedTaskStats };

/**
 * Options for {@linkcode DistributedExecutor}; the connection's (credentials, TLS, other
 * `connect()` options) are those of {@linkcode NatsConnectOptions}.
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
   * Embedded mode only: local worker processes to start.
   * @default {navigator.hardwareConcurrency}
   */
  workers?: number;
  /**
   * Embedded mode only: tasks each local worker runs at once.
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
   * Milliseconds a worker may hold a task without a sign of life before it is delivered to
   * another; running tasks send in-progress acks every third of it. Applies when this executor
   * creates the queue's consumer.
   * @default {30000}
   */
  ackWait?: number;
  /**
   * Deliveries a task may use; one more and it rejects as a poison task with `WorkerCrashedError`.
   * @default {3}
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
   * `maxAttempts` for tasks that end their worker before it can count them. Past it, the server
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
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
 * assert.equal(await executor.submit((a: number, b: number) => a + b, 2, 3), 5);
 * ```
 */
export class DistributedExecutor implements Executor {
  readonly #core: ExecutorCore;
  readonly #engine: NatsEngine;

  /**
   * Creates the executor; it connects (or starts its embedded server and workers) in the
   * background, and tasks submitted meanwhile wait.
   *
   * @param options see {@linkcode DistributedExecutorOptions}
   * @throws {RangeError} or {TypeError} for an option out of range, naming it and the value
   */
  constructor(options?: DistributedExecutorOptions) {
    const what = "create DistributedExecutor";
    checkKnownKeys(what, options ?? {}, [
      ...COMMON_OPTION_KEYS,
      "servers",
      "queue",
      "modules",
      "workers",
      "concurrency",
      "isolation",
      "allowSource",
      "ackWait",
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
    const servers = options?.servers;
    if (
      servers !== undefined &&
      !(typeof servers === "string" ||
        Array.isArray(servers) && servers.length > 0 && servers.every((s) => typeof s === "string"))
    ) {
      throw new TypeError(
        `Cannot ${what} as 'servers' must be a URL or a non-empty list of URLs: received ${
          String(servers)
        }`,
      );
    }
    const clientId = options?.clientId;
    if (
      clientId !== undefined && (typeof clientId !== "string" || !/^[A-Za-z0-9_-]+$/.test(clientId))
    ) {
      throw new TypeError(
        `Cannot ${what} as 'clientId' must be letters, digits, '_' or '-': received ${
          show(clientId)
        }`,
      );
    }
    // Checked now (a bad option throws here); the embedded server's URL is added at start.
    const connection = connectionOptions([servers ?? []].flat(), options ?? {}, what);
    const queue = options?.queue ?? "default";
    if (typeof queue !== "string" || !/^[A-Za-z0-9_-]+$/.test(queue)) {
      throw new TypeError(
        `Cannot ${what} as 'queue' must be letters, digits, '_' or '-': received ${show(queue)}`,
      );
    }
    const isolation = options?.isolation ?? "process";
    if (!ISOLATIONS.includes(isolation)) {
      throw new TypeError(
        `Cannot ${what} as 'isolation' must be "process", "worker" or "inline": received ${
          show(isolation)
        }`,
      );
    }
    const storage = options?.storage ?? "file";
    if (storage !== "file" && storage !== "memory") {
      throw new TypeError(
        `Cannot ${what} as 'storage' must be "file" or "memory": received ${show(storage)}`,
      );
    }
    const int = (name: keyof DistributedExecutorOptions, fallback: number) =>
      checkPositiveInt(what, name, options?.[name]) ?? fallback;
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
    this.#engine = new NatsEngine({
      servers: servers === undefined ? undefined : [servers].flat(),
      connection,
      clientId,
      queue,
      modules: new FunctionRefs(options?.modules ?? []),
      layout,
      requested: requestedLayout(layout, options ?? {}),
      maxPublished: int("maxPublished", 10_000),
      maxAttempts: int("maxAttempts", 3),
      payloadThreshold: int("payloadThreshold", 256 * 1024),
      reconcileInterval: Math.min(5_000, layout.ackWait),
      embedded: {
        workers: int("workers", navigator.hardwareConcurrency),
        concurrency: int("concurrency", 1),
        isolation,
        allowSource: options?.allowSource === true,
      },
    });
    this.#core = new ExecutorCore("DistributedExecutor", options, this.#engine);
    this.#engine.onBroken = (error) => this.#core.breakWith(error);
    this.#engine.observed = this.#core;
    makeObservable(this, this.#core, () => this.#engine.cluster());
  }

  /**
   * Resolves once the executor is connected and its queue exists.
   *
   * @returns a promise that resolves when tasks can be published
   * @throws {Error} when it cannot connect, or cannot start its embedded server (the message says
   * how to install `nats-server`)
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1 });
   * await executor.ready();
   * ```
   */
  ready(): Promise<void> {
    return this.#engine.ready;
  }

  /**
   * Resolves when a task can be submitted without `QueueFullError` (see `maxQueued`).
   *
   * @returns a promise that resolves when fewer than `maxQueued` tasks wait to start
   *
   * @example
   * ```ts ignore
   * await executor.whenReady();
   * executor.submit(countPrimes, 0, 1_000);
   * ```
   */
  whenReady(): Promise<void> {
    return this.#core.whenReady();
  }

  /**
   * Resolves when every task submitted so far has settled.
   *
   * @returns a promise that resolves when the executor is idle
   *
   * @example
   * ```ts ignore
   * await executor.onIdle();
   * ```
   */
  onIdle(): Promise<void> {
    return this.#core.onIdle();
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
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
   * await executor.submit(() => 1);
   * assert.equal(executor.stats().completed, 1);
   * ```
   */
  stats(): DistributedStats {
    return this.#engine.stats();
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
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
   * const future = executor.submit(() => 1);
   * await future;
   * assert.equal(executor.taskStats(future)?.deliveries, 1);
   * ```
   */
  taskStats(future: Future<unknown>): DistributedTaskStats | undefined {
    return this.#engine.taskStats(future);
  }

  /**
   * The state of each domain's circuit, when the executor was given `circuitBreaker`.
   *
   * @returns a map from domain to its circuit's state (empty without `circuitBreaker`)
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1 });
   * assert.equal(executor.circuitStats().size, 0);
   * ```
   */
  circuitStats(): Map<string, DomainCircuitStats> {
    return this.#core.breakers?.stats() ?? new Map();
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
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
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
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true, clientId: "app" });
   * const id = executor.taskId(executor.submit(() => 7))!;
   * // In another run, with the same clientId:
   * assert.equal(await executor.futureOf(id), 7);
   * ```
   */
  futureOf<T = unknown>(taskId: string): Future<T> {
    if (typeof taskId !== "string" || !/^[A-Za-z0-9_-]+$/.test(taskId)) {
      throw new TypeError(
        `Cannot get the future of a task as 'taskId' must be a task id: received ${show(taskId)}`,
      );
    }
    return this.#engine.futureOf(taskId) as Future<T>;
  }

  /**
   * Removes the stored outcome of task `taskId` and its payloads now rather than at the end of
   * `resultTtl`: for outcomes nobody will read (a crashed run's large results). A task that has
   * not settled here is cancelled. A task still queued or running elsewhere may store its outcome
   * again.
   *
   * @param taskId an id from {@linkcode DistributedExecutor.taskId}
   * @returns a promise that resolves once it is removed
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
   * const future = executor.submit(() => new Uint8Array(1 << 20));
   * await future;
   * await executor.forget(executor.taskId(future)!);
   * ```
   */
  forget(taskId: string): Promise<void> {
    if (typeof taskId !== "string" || !/^[A-Za-z0-9_-]+$/.test(taskId)) {
      throw new TypeError(
        `Cannot forget a task as 'taskId' must be a task id: received ${show(taskId)}`,
      );
    }
    return this.#engine.forget(taskId);
  }

  /**
   * PIDs of the processes this executor started: the embedded server first, then its workers
   * (empty with `servers`).
   *
   * @returns the PIDs
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1 });
   * await executor.ready();
   * assert.equal(executor.pids.length, 2);
   * ```
   */
  get pids(): number[] {
    return this.#engine.pids;
  }

  /**
   * Publishes `fn(...args)` to the queue and returns a future for its result.
   *
   * @param fn a function exported from one of `modules`, or a self-contained function (only
   * workers started with `--allow-source` run those)
   * @param args its arguments (serialized as structured clone does)
   * @returns a future for the result
   * @throws {InvalidStateError} after `shutdown()`
   * @throws {BrokenExecutorError} when the executor could not start
   * @throws {TypeError} when `fn` is not a function that can be sent
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
   * assert.equal(await executor.submit((s: string) => s.toUpperCase(), "hi"), "HI");
   * ```
   */
  submit<A extends unknown[], R>(
    fn: (...args: A) => R,
    ...args: FuturesOr<A>
  ): Future<Awaited<R>> {
    return this.#core.submit(fn, ...args);
  }

  /**
   * Applies `fn` to every item on the workers; results come in input order. `chunksize` items
   * travel in one message; `buffersize` bounds the chunks outstanding.
   *
   * @param fn the function, as for `submit`
   * @param items the items
   * @param options see {@linkcode MapOptions}
   * @returns the results, in input order
   * @throws {InvalidStateError} after `shutdown()`
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
   * const out = [];
   * for await (const x of executor.map((n: number) => n * n, [1, 2, 3], { chunksize: 2 })) {
   *   out.push(x);
   * }
   * assert.deepEqual(out, [1, 4, 9]);
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
   * A view of this executor that gives every task these options.
   *
   * @param options `timeout` (enforced by the worker, which kills the work), `deadline`,
   * `signal`, `retry` and `domain` (both handled here)
   * @returns the view
   * @throws {TypeError} or {RangeError} for a bad option
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DistributedExecutor, TimeoutError } from "@concurrent/futures/distributed";
   *
   * await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
   * const stuck = executor.with({ timeout: 200 }).submit(() => {
   *   while (true) {
   *     // Never yields: the worker kills its process.
   *   }
   * });
   * assert((await stuck.exception()) instanceof TimeoutError);
   * ```
   */
  with(options: TaskOptions): Executor {
    return this.#core.with(options);
  }

  /**
   * Stops accepting tasks; with `wait`, resolves once every task has settled, the connection is
   * closed, and the embedded server and workers (if any) have exited.
   *
   * @param options see {@linkcode ShutdownOptions}
   * @returns a promise that resolves when it is done
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * const executor = new DistributedExecutor({ workers: 1 });
   * await executor.shutdown({ cancelFutures: true });
   * ```
   */
  shutdown(options?: ShutdownOptions): Promise<void> {
    return this.#core.shutdown(options);
  }

  /**
   * `shutdown({ wait: true })`, for `await using`.
   *
   * @returns a promise that resolves when the executor is shut down
   *
   * @example
   * ```ts
   * import { DistributedExecutor } from "@concurrent/futures/distributed";
   *
   * await using _executor = new DistributedExecutor({ workers: 1 });
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#core.shutdown({ wait: true });
  }
}

// The client side of the distributed executor: an Engine (see executors/_core.ts) that publishes
// jobs to the task stream and settles them from the outcomes workers push to it (core NATS), with
// the results bucket as the record that a reconcile step reads for what a push missed. Per task
// the client receives two messages: the publish acknowledgement and the pushed outcome (a start
// notice too when the task runs long enough for its running state to matter). Futures, timeouts,
// deadlines, retries and circuit breakers are the shared core's; this file only moves jobs and
// outcomes.

import { deserialize, serialize } from "node:v8";
import {
  headers,
  type NatsConnection,
  type NodeConnectionOptions,
  type Subscription,
} from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import type { Engine } from "../executors/_core.ts";
import type { Job } from "../executors/_task.ts";
import type { Observable } from "../executors/_observe.ts";
import { ClusterWatch, type Heartbeat, heartbeatSubject } from "./_heartbeat.ts";
import type { FunctionRefs } from "../executors/_fn_ref.ts";
import { JobQueue } from "../executors/_job_queue.ts";
import { ChunkFailure } from "../executors/_map.ts";
import {
  BrokenExecutorError,
  CancelledError,
  InvalidStateError,
  TimeoutError,
  WorkerCrashedError,
} from "../future/errors.ts";
import type { Future } from "../future/future.ts";
import { outcomeOf } from "../future/_hooks.ts";
import { sweepGhosts } from "./_ghosts.ts";
import {
  cancelSubject,
  consumerName,
  ensureQueue,
  type LayoutOptions,
  poisonAdvisory,
  resultSubject,
  startedSubject,
  STREAM,
  taskSubject,
} from "./_layout.ts";
import { Blobs, openResults, type PayloadSeal } from "./_stores.ts";
import { PubAcks, PublishRefused } from "./_acks.ts";
import { coalesceWrites } from "./_coalesce.ts";
import type { RequestedLayout } from "./_verify.ts";
import { Reattached } from "./_reattach.ts";
import { outcomeError, payloadOf, wholeRecord } from "./_outcome.ts";
import { RecentKeys } from "./_recent.ts";
import { NatsServer, type Spawned, spawnWorker } from "./_processes.ts";
import type { Isolation } from "./_local_pool.ts";
import {
  PROTOCOL,
  type ResultRecord,
  type StartedNote,
  type TaskEnvelope,
  type WireFn,
} from "./_protocol.ts";
import { decodeBody, encodeBody } from "./_codec.ts";
import { connectOnce } from "./_auth.ts";
import { moduleHashes } from "./_trust.ts";
import { LostRequests, RequestLostError, streamLeaderElected } from "./_lost_requests.ts";
import { findProxy } from "../actors/_proxy_wire.ts";

/** Everything the engine is configured with, validated by the executor. */
export interface EngineSettings {
  servers: string[] | undefined;
  /** Credentials, TLS and the other connect() options (servers are taken from `servers`). */
  connection: NodeConnectionOptions;
  /** A fixed client id, or undefined for a random one. */
  clientId: string | undefined;
  queue: string;
  modules: FunctionRefs;
  layout: LayoutOptions;
  /** The layout settings given explicitly: checked against the JetStream objects that exist. */
  requested: RequestedLayout;
  maxPublished: number;
  maxAttempts: number;
  payloadThreshold: number;
  reconcileInterval: number;
  embedded: {
    workers: number;
    concurrency: number;
    isolation: Isolation;
    allowSource: boolean;
    /** More exits of the workers than `max` within `within` ms break the executor. */
    restartLimit: { max: number; within: number };
  };
}

/** Counts that {@linkcode DistributedExecutor.stats} reports. */
export interface DistributedStats {
  /** Tasks submitted and not started by a worker yet (here or in the stream). */
  queued: number;
  /** Tasks a worker has started and whose outcome has not arrived. */
  inFlight: number;
  /** Tasks that finished with a value. */
  completed: number;
  /**
   * Tasks that finished with an error: thrown, poison, timed out and aborted here (`timeout`,
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
  workers: Record<string, { completed: number; failed: number }>;
  /**
   * Whether the connection to NATS is up (false before the executor first connects and after
   * shutdown); while it is down, submits are held here.
   */
  connected: boolean;
  /** Tasks held here, not yet in the stream (waiting for room or for the connection). */
  buffered: number;
  /**
   * Messages of acknowledged tasks that a server crash left in the task stream, removed by this
   * client (it looks when it connects and after each reconnect).
   */
  ghosts: number;
}

/**
 * What {@linkcode DistributedExecutor.taskStats} reports about one future.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({ maxWorkers: 1, allowSource: true });
 * const future = executor.submit(() => "done");
 * await future;
 * const { ids, attempts, deliveries, worker } = executor.taskStats(future)!;
 * assert.deepEqual([ids.length, attempts, deliveries], [1, 1, 1]);
 * assert.equal(typeof worker, "string"); // the name of the worker that ran it
 * ```
 */
export interface DistributedTaskStats {
  /** Task ids published for it, one per attempt (`retry` publishes again). */
  ids: string[];
  /** Attempts published. */
  attempts: number;
  /** Deliveries of all its attempts to workers, as far as the client learned of them. */
  deliveries: number;
  /** The worker whose outcome settled it, if a worker's outcome did. */
  worker: string | undefined;
}

interface Sent {
  job: Job;
  id: string;
  key: string;
  seq: number | undefined;
  started: boolean;
  /** When the start notice came (`performance.now()`). */
  startedAt: number;
  /** The worker it was last heard to run on (a redelivery may move it to another). */
  startedOn: string | undefined;
  /** Settled here (an outcome arrived, or it was cancelled): later news about it is ignored. */
  done: boolean;
  deliveries: number;
  blobs: string[];
  /** Counts of the future this attempt belongs to. */
  info: DistributedTaskStats;
  /** When it was published (`Date.now()`): the stream drops it `resultTtl` later if not taken. */
  publishedAt: number;
  /**
   * When its first publish was sent (`Date.now()`, 0 before): it can have reached the stream
   * then, although its acknowledgement came only from a publish sent again after a reconnect.
   */
  sentAt: number;
}

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  blobs: Blobs;
  dropped: LostRequests;
  acks: PubAcks;
}

/** Publishes jobs to JetStream and settles them from the results bucket. */
export class NatsEngine implements Engine {
  readonly chunks = true;
  /** No slot is known to be free: workers elsewhere pull tasks when they have room. */
  freeSlots(): number {
    return 0;
  }
  /** The job policy: an aborted attempt is called off where it was published. */
  jobAborted(job: Job, reason: unknown): void {
    const sent = job.placedOn as Sent | undefined;
    if (sent) this.#abandon(sent, reason);
  }
  /** The job policy: a job settled while it waited here (cancelled) leaves the queue now. */
  jobDropped(job: Job): void {
    this.#queue.remove(job);
    this.#queuedById.delete(this.#jobIds.get(job)!);
  }
  readonly client: string;
  /** Set by the executor: breaks it when the engine cannot start. */
  onBroken: (error: BrokenExecutorError) => void = () => {};
  /** Set by the executor: where task events go (see executors/_observe.ts). */
  observed: Observable | undefined;
  readonly ready: Promise<void>;
  /**
   * In embedded mode, resolves once every local worker has sent its first heartbeat (it pulls
   * from then on); rejects when they keep exiting instead. At once otherwise.
   */
  readonly workersUp: Promise<void>;
  readonly #workersUp = Promise.withResolvers<void>();
  readonly #settings: EngineSettings;
  readonly #queue = new JobQueue<Job>();
  /** The jobs of `#queue` by task id (`futureOf()` looked for one by walking the queue). */
  readonly #queuedById = new Map<string, Job>();
  readonly #sent = new Map<string, Sent>();
  readonly #bySeq = new Map<number, Sent>();
  readonly #chores = new Set<Promise<unknown>>();
  readonly #subs: Subscription[] = [];
  #conn: Connection | undefined;
  #cluster: ClusterWatch | undefined;
  #server: NatsServer | undefined;
  #workers: Spawned[] = [];
  #counter = 0;
  #idPrefix = "";
  /**
   * The random part of each task id: ids that another client could guess would let it publish
   * first under the same message id (the stream's dedupe would then drop this client's task).
   */
  readonly #unguessable = new RandomTokens();
  /** The SHA-256 of each task module's file, which lets a worker with a copy elsewhere run it. */
  #hashes: (string | undefined)[] = [];
  /** The token the embedded server asks of its clients. */
  #token = "";
  /** When embedded workers exited (`performance.now()`), within the restart limit's window. */
  #workerExits: number[] = [];
  #reconciling = false;
  /** When the connection last came back (`Date.now()`): tasks published before it are checked. */
  #reconnectedAt = -Infinity;
  #sweeping = false;
  /** Set when the server refused the sweep (permissions): it is not tried again. */
  #sweepOff = false;
  #closed = false;
  /** Why the executor cannot go on (see `#break()`), once it cannot. */
  #broken: BrokenExecutorError | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #statusWatch: Promise<void> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** The connection is up (not before the first, nor after `close()`); while down, publishing waits on `#back`. */
  #connected = false;
  #back = Promise.withResolvers<void>();
  #maxPayload = 1024 * 1024;
  /** Milliseconds after which the stream drops a message nobody took (its max_age). */
  #dropAfter = Infinity;
  readonly #reattached: Reattached;
  /** Task ids, given when a job is scheduled, and the latest one of each future. */
  readonly #jobIds = new WeakMap<Job, string>();
  readonly #futureIds = new WeakMap<Future<unknown>, string>();
  #stats = { completed: 0, failed: 0, redelivered: 0, ghosts: 0 };
  #perWorker: Record<string, { completed: number; failed: number }> = {};
  #perFuture = new WeakMap<Future<unknown>, DistributedTaskStats>();
  /**
   * Tasks whose outcome was pushed lately: a worker pushes a first run's outcome while it stores
   * it, so for about an ack wait the store may still be on its way.
   */
  readonly #pushed: RecentKeys;

  constructor(settings: EngineSettings) {
    this.#settings = settings;
    this.#pushed = new RecentKeys(Math.max(settings.layout.ackWait, 5_000));
    this.client = settings.clientId ?? `c${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    // A fixed client id outlives this process: task ids then start with a random part of their
    // own, or a restarted client would reuse ids whose outcomes (and publish dedupe) are stored.
    if (settings.clientId !== undefined) {
      this.#idPrefix = `${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}-`;
    }
    this.#reattached = new Reattached(this.client);
    this.workersUp = this.#workersUp.promise;
    this.workersUp.catch(() => {});
    if (settings.servers) this.#workersUp.resolve();
    this.ready = this.#start();
    this.ready.then(() => this.#pump(), (error) => {
      this.onBroken(
        new BrokenExecutorError(
          `the distributed executor could not start: ${
            error instanceof Error ? error.message : String(error)
          }`,
          { cause: error },
        ),
      );
    });
  }

  /** The URL of the embedded server, when the executor started one. */
  get embeddedUrl(): string | undefined {
    return this.#server?.url;
  }

  /** PIDs of the processes this executor started and that run (the embedded server and workers). */
  get pids(): number[] {
    const pids = this.#workers.filter((w) => !w.exited).map((w) => w.pid);
    if (this.#server && !this.#server.exited) pids.unshift(this.#server.pid);
    return pids;
  }

  stats(): DistributedStats {
    let inFlight = 0;
    let queued = this.#queue.length;
    let buffered = queued;
    for (const sent of this.#sent.values()) {
      sent.started ? inFlight++ : queued++;
      if (sent.seq === undefined) buffered++;
    }
    const workers: DistributedStats["workers"] = {};
    for (const [name, counts] of Object.entries(this.#perWorker)) workers[name] = { ...counts };
    return { queued, inFlight, ...this.#stats, workers, connected: this.#connected, buffered };
  }

  /** Counts of one future submitted here, or undefined for one that was never published. */
  taskStats(future: Future<unknown>): DistributedTaskStats | undefined {
    const info = this.#perFuture.get(future);
    return info && { ...info, ids: [...info.ids] };
  }

  validateFunction(fn: unknown): void {
    this.#settings.modules.validate(fn);
  }

  schedule(job: Job): void {
    const id = `${this.#idPrefix}${(++this.#counter).toString(36)}${this.#unguessable.next()}`;
    this.#jobIds.set(job, id);
    this.#futureIds.set(job.task.future, id);
    this.#queue.push(job);
    this.#queuedById.set(id, job);
    this.#pump();
    // Held here (no connection yet or any more, or no room in `maxPublished`): arguments that
    // cannot be sent fail now, not when it is published, and take no room in `maxQueued`
    // meanwhile. A job published at once was encoded by `#publish()` already; one held here is
    // encoded again then (its bytes are not kept: a deep queue would hold its arguments twice).
    if (this.#queuedById.get(id) !== job) return;
    try {
      encodeBody({ args: job.args });
    } catch (error) {
      this.#count(false, undefined);
      job.reject(unsendable(job.args, error));
    }
  }

  /** The cluster as its workers' heartbeats tell it; started by observe/ (see _heartbeat.ts). */
  cluster(): ClusterWatch {
    return this.#cluster ??= new ClusterWatch(
      this.ready.then(() => this.#conn!),
      this.#settings.queue,
    );
  }

  async close(): Promise<void> {
    this.#closed = true;
    // Nothing is started any more: whoever waits for the workers waits no longer.
    this.#workersUp.resolve();
    this.#cluster?.close();
    await this.ready.catch(() => {});
    clearInterval(this.#timer);
    clearTimeout(this.#reconnectTimer);
    // Publishes waiting for the connection give up: their jobs are settled by now.
    this.#back.resolve();
    while (this.#chores.size > 0) await Promise.allSettled([...this.#chores]);
    this.#reattached.close();
    for (const sub of this.#subs) sub.unsubscribe();
    const conn = this.#conn;
    if (conn) {
      // A server that does not answer (stopped, or its machine gone) would hold the drain for
      // ever: it gets a few seconds, then the connection is closed.
      const drained = conn.nc.drain().then(() => true, () => false);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 3_000));
      if (!await Promise.race([drained, late])) await conn.nc.close().catch(() => {});
      clearTimeout(timer);
      conn.acks.close();
    }
    await this.#statusWatch;
    this.#connected = false;
    clearTimeout(this.#reconnectTimer);
    // Workers whose embedded server exited can finish nothing: a drain would wait for it in vain.
    const signal = this.#server?.exited ? "SIGKILL" : "SIGTERM";
    await Promise.all(this.#workers.map((worker) => worker.stop(signal)));
    await this.#server?.destroy();
  }

  async #start(): Promise<void> {
    try {
      await this.#startOnce();
    } catch (error) {
      // An embedded server started for an executor that cannot start would keep the program
      // alive until shutdown().
      const server = this.#server;
      this.#server = undefined;
      await server?.destroy().catch(() => {});
      throw error;
    }
  }

  async #startOnce(): Promise<void> {
    const settings = this.#settings;
    // No stack captured per request (a JetStream publish is one): its cost showed in profiles.
    const connection = {
      noAsyncTraces: true,
      ...settings.connection,
      name: `futures-client-${this.client}`,
    };
    if (!settings.servers) {
      // Every local user can reach 127.0.0.1: the server asks for a token that only this program
      // and its workers know (the workers read it from their environment).
      this.#token = new RandomTokens().next() + new RandomTokens().next();
      this.#server = await NatsServer.start({ token: this.#token });
      connection.servers = [this.#server.url];
      (connection as { token?: string }).token = this.#token;
    }
    await settings.modules.load();
    this.#hashes = await moduleHashes(settings.modules.urls);
    const nc = await connectOnce(connection);
    coalesceWrites(nc);
    try {
      const jsm = await jetstreamManager(nc);
      await ensureQueue(jsm, settings.queue, settings.layout, settings.requested);
      // The stream's own max_age, whoever set it (none on a stream made by an older version).
      const maxAge = (await jsm.streams.info(STREAM)).config.max_age;
      this.#dropAfter = maxAge > 0 ? maxAge / 1e6 : Infinity;
      const js = jetstream(nc);
      const kv = await openResults(js, settings.layout, settings.requested);
      const dropped = new LostRequests(nc, [streamLeaderElected(STREAM)]);
      // A payload read that fails with the connection waits for it: the outcome is stored.
      const blobs = new Blobs(js, settings.layout, settings.requested, "client", dropped);
      this.#conn = { nc, js, jsm, kv, blobs, dropped, acks: new PubAcks(nc) };
      this.#connected = true;
      this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
    } catch (error) {
      await nc.close();
      throw error;
    }
    const pushed = resultSubject(this.client, "");
    this.#subs.push(
      nc.subscribe(`${pushed}>`, {
        callback: (_error, msg) => {
          const id = msg.subject.slice(pushed.length);
          this.#pushed.note(id);
          // A callback that throws stops the connection's reader (see below).
          try {
            const reading = this.#onResult(id, msg.data);
            if (reading) this.#chore(reading);
          } catch {
            // Settled already, or an observer's error: nothing more to do with this outcome.
          }
        },
      }),
      // A callback that throws stops the connection's reader: a malformed message (from a peer
      // allowed to publish there) is dropped here, whatever it holds.
      nc.subscribe(startedSubject(this.client), {
        callback: (_error, msg) => {
          // A list of notes; a worker of an earlier version sends one note a message.
          let notes: unknown;
          try {
            notes = deserialize(msg.data);
          } catch {
            return;
          }
          for (const note of Array.isArray(notes) ? notes : [notes]) {
            if (isStartedNote(note)) this.#onStarted(note);
          }
        },
      }),
      nc.subscribe(poisonAdvisory(settings.queue), {
        callback: (_error, msg) => {
          let advisory: { stream_seq?: unknown; deliveries?: unknown };
          try {
            advisory = msg.json();
          } catch {
            return;
          }
          if (typeof advisory?.stream_seq !== "number") return;
          const deliveries = typeof advisory.deliveries === "number" ? advisory.deliveries : 0;
          this.#onPoison({ stream_seq: advisory.stream_seq, deliveries });
        },
      }),
    );
    this.#chore(this.#sweep());
    this.#timer = setInterval(() => {
      this.#reconcile();
      this.#chore(this.#sweep());
    }, settings.reconcileInterval);
    this.#statusWatch = this.#watchStatus(nc).catch(() => {});
    // Closed by the client itself when reconnecting failed for good (refused credentials, or
    // `maxReconnectAttempts` used up): nothing here would ever be published or settled.
    nc.closed().then((error) => {
      const why = error instanceof Error ? error.message : "the client gave up";
      this.#break(
        new BrokenExecutorError(
          `the connection to NATS closed for good as reconnecting failed (${why}): nothing sent or held here can be settled`,
          { cause: error },
        ),
      );
    });
    if (this.#server) {
      this.#watchServer(this.#server);
      // Their first heartbeats say they are up (a heartbeat follows a worker's first pull).
      const waiting = new Set(
        Array.from({ length: settings.embedded.workers }, (_, i) => localWorkerName(i)),
      );
      const beats = nc.subscribe(heartbeatSubject(settings.queue), {
        callback: (_error, msg) => {
          try {
            waiting.delete((msg.json() as Heartbeat).name);
          } catch {
            // Not a heartbeat of ours.
          }
          if (waiting.size > 0) return;
          beats.unsubscribe();
          this.#workersUp.resolve();
        },
      });
      this.#subs.push(beats);
      for (let i = 0; i < settings.embedded.workers; i++) this.#spawnWorker(this.#server, i);
    }
  }

  /**
   * Starts embedded worker `index`, and again whenever it exits (a task that kills its worker);
   * a worker that keeps exiting (it cannot start) breaks the executor rather than leave its
   * futures waiting.
   */
  #spawnWorker(server: NatsServer, index: number): void {
    const { workers: _, restartLimit, ...rest } = this.#settings.embedded;
    const worker = spawnWorker({
      url: server.url,
      queue: this.#settings.queue,
      modules: this.#settings.modules.urls,
      name: localWorkerName(index),
      ackWait: this.#settings.layout.ackWait,
      ...rest,
      // An embedded worker is an implementation detail: no start and stop lines of its own.
      logLess: true,
      env: { FUTURES_NATS_TOKEN: this.#token },
    });
    this.#workers[index] = worker;
    worker.status.then((status) => {
      if (this.#closed || this.#broken) return;
      // A rate, not a lifetime count: an executor that runs for months may lose a worker to a
      // poison task now and then.
      const now = performance.now();
      const exits = this.#workerExits.filter((at) => now - at < restartLimit.within);
      exits.push(now);
      this.#workerExits = exits;
      if (exits.length > restartLimit.max) {
        const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
        const error = new BrokenExecutorError(
          `the embedded worker processes exited ${exits.length} times within ` +
            `${restartLimit.within} ms, more than the restart limit of ${restartLimit.max} ` +
            `(the last with ${how})`,
        );
        this.#workersUp.reject(error);
        this.onBroken(error);
        return;
      }
      this.#spawnWorker(server, index);
    });
  }

  /**
   * Breaks the executor when the embedded server exits before `close()`: its store was temporary,
   * so the tasks sent and their outcomes are gone with it. It is not started again.
   */
  #watchServer(server: NatsServer): void {
    server.status.then((status) => {
      const how = status.signal ? `signal ${status.signal}` : `exit code ${status.code}`;
      this.#break(
        new BrokenExecutorError(
          `the embedded NATS server (PID ${server.pid}) exited (${how}) while the executor ran: ` +
            "the tasks sent to it and their outcomes were in its temporary store",
        ),
      );
    });
  }

  /**
   * The executor cannot go on (its connection closed for good, its embedded server exited): the
   * connection is closed, so that what waits on it fails at once rather than at its timeout, then
   * the executor breaks, which rejects every job sent or held here. Nothing after `close()` breaks.
   */
  #break(error: BrokenExecutorError): void {
    if (this.#closed || this.#broken) return;
    this.#broken = error;
    this.#connected = false;
    const nc = this.#conn?.nc;
    (nc ? nc.close().catch(() => {}) : Promise.resolve()).then(() => this.onBroken(error));
  }

  #chore(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => {}).finally(() => this.#chores.delete(tracked));
    this.#chores.add(tracked);
  }

  #pump(): void {
    // While the connection is down, jobs stay in the queue (bounded by `maxQueued`).
    if (!this.#conn || !this.#connected || this.#closed && this.#queue.length === 0) return;
    while (this.#sent.size < this.#settings.maxPublished && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      this.#queuedById.delete(this.#jobIds.get(job)!);
      // Its pass through its domain's circuit is taken as it leaves (a task queued while the
      // circuit opened is not published).
      if (!job.settled && job.admit()) this.#chore(this.#publish(job, this.#conn));
    }
  }

  async #publish(job: Job, conn: Connection): Promise<void> {
    const id = this.#jobIds.get(job)!;
    const future = job.task.future as Future<unknown>;
    let info = this.#perFuture.get(future);
    if (!info) {
      info = { ids: [], attempts: 0, deliveries: 0, worker: undefined };
      this.#perFuture.set(future, info);
    }
    info.ids.push(id);
    info.attempts++;
    const sent: Sent = {
      job,
      id,
      key: `${this.client}.${id}`,
      seq: undefined,
      started: false,
      startedAt: 0,
      startedOn: undefined,
      done: false,
      deliveries: 0,
      blobs: [],
      info,
      publishedAt: 0,
      sentAt: 0,
    };
    this.#sent.set(id, sent);
    job.placedOn = sent;
    job.task.future.addDoneCallback((settled) => {
      const outcome = outcomeOf(settled);
      this.#abandon(sent, outcome.failed ? outcome.error : undefined);
    });
    const { timeout, deadline } = job.options;
    const envelope: TaskEnvelope = {
      v: PROTOCOL,
      id,
      client: this.client,
      fn: this.#wireFn(job.fn),
      kind: job.kind,
      args: job.args,
      maxAttempts: this.#settings.maxAttempts,
      submittedAt: Date.now(),
    };
    if (timeout !== undefined && timeout !== Infinity) envelope.timeout = timeout;
    if (deadline !== undefined) envelope.deadline = deadline;
    let bytes: Uint8Array;
    let args: Uint8Array | undefined;
    try {
      bytes = encodeBody(envelope);
      // The server refuses a message over its max_payload (1 MiB by default), whatever we set.
      const limit = Math.min(this.#settings.payloadThreshold, this.#maxPayload - 8192);
      if (bytes.length > limit) args = serialize(job.args);
    } catch (error) {
      return this.#settleLocally(sent, unsendable(job.args, error));
    }
    if (args) {
      const name = `${sent.key}.args`;
      let seal: PayloadSeal | undefined;
      const stored = await this.#persist(sent, conn, async () => {
        seal = await conn.blobs.put(name, args);
      });
      if (!stored) return;
      sent.blobs.push(name);
      delete envelope.args;
      envelope.argsBlob = name;
      envelope.argsSeal = seal;
      bytes = encodeBody(envelope);
    }
    const subject = taskSubject(this.#settings.queue, this.client);
    // The message id makes a publish that did arrive before an error count once; the trace
    // context of the submitting code travels in the headers.
    const { traceparent } = job.task;
    const published = await this.#persist(sent, conn, async () => {
      sent.sentAt ||= Date.now();
      sent.seq = (await publishTask(conn, subject, bytes, sent.key, traceparent)).seq;
    });
    if (!published) return;
    sent.publishedAt = Date.now();
    if (sent.done) return void await this.#deleteMessage(sent);
    this.#bySeq.set(sent.seq!, sent);
  }

  /**
   * Runs `step` until it succeeds: a full stream (discard=new) or a lost connection is tried again
   * (after the connection is back), an error another try cannot fix settles the job. `false` when
   * the job settled meanwhile.
   */
  async #persist(sent: Sent, conn: Connection, step: () => Promise<void>): Promise<boolean> {
    for (;;) {
      if (sent.done) return false;
      if (!this.#connected) {
        await this.#back.promise;
        continue;
      }
      try {
        // A publish lost with its connection or its stream's leader is sent again (its message id
        // dedupes it).
        await conn.dropped.race(step());
        return true;
      } catch (error) {
        const permanent = /max_payload|permission|authoriz/i.test(String(error));
        if (permanent || conn.nc.isClosed()) {
          this.#settleLocally(sent, error);
          return false;
        }
        if (this.#connected) await delay(250);
      }
    }
  }

  #wireFn(fn: (...args: unknown[]) => unknown): WireFn {
    const refs = this.#settings.modules;
    const ref = refs.ref(fn);
    if ("module" in ref) {
      const hash = this.#hashes[ref.module];
      const url = refs.urls[ref.module]!;
      return hash === undefined
        ? { module: url, name: ref.name }
        : { module: url, name: ref.name, hash };
    }
    return { source: Function.prototype.toString.call(fn) };
  }

  #forget(sent: Sent): boolean {
    if (sent.done) return false;
    sent.done = true;
    this.#sent.delete(sent.id);
    if (sent.seq !== undefined) this.#bySeq.delete(sent.seq);
    this.#pump();
    return true;
  }

  /** Refused here (arguments that cannot be sent, a publish the server refused): a failure. */
  #settleLocally(sent: Sent, error: unknown): void {
    if (!this.#forget(sent)) return;
    this.#count(false, undefined);
    sent.job.reject(error);
  }

  /** Settled here (timed out, aborted, cancelled) before its outcome came: a failure unless cancelled. */
  #abandon(sent: Sent, reason: unknown): void {
    if (sent.done) return;
    if (reason !== undefined && !(reason instanceof CancelledError)) this.#count(false, undefined);
    this.#cancelRemote(sent);
  }

  /** A delivery count learned from a worker or the server: the redeliveries it adds. */
  #delivered(sent: Sent, deliveries: number): void {
    if (deliveries <= sent.deliveries) return;
    this.#stats.redelivered += Math.max(0, deliveries - Math.max(1, sent.deliveries));
    sent.info.deliveries += deliveries - sent.deliveries;
    sent.deliveries = deliveries;
  }

  /** The job settled here before its outcome came: the queued message goes, a run is aborted. */
  #cancelRemote(sent: Sent): void {
    if (!this.#forget(sent)) return;
    const conn = this.#conn!;
    if (sent.seq !== undefined) this.#chore(this.#deleteMessage(sent));
    for (const name of sent.blobs) this.#chore(conn.blobs.delete(name));
    try {
      conn.nc.publish(cancelSubject(this.client, sent.id));
    } catch {
      // Closed: nothing runs for us any more.
    }
  }

  async #deleteMessage(sent: Sent): Promise<void> {
    // Deleting a message that a worker holds is fine: its later ack finds nothing to redeliver.
    await this.#conn!.jsm.streams.deleteMessage(STREAM, sent.seq!, false).catch(() => {});
  }

  #onStarted(note: StartedNote): void {
    const sent = this.#sent.get(note.id);
    if (!sent || sent.done) return;
    this.#delivered(sent, note.deliveries);
    if (!this.#markStarted(sent, note.worker)) this.#cancelRemote(sent);
  }

  /**
   * Task `sent` is known to have started on `worker` (a start notice, or its outcome: a worker
   * sends a notice only for a task that runs a while). False when its job must not run any more.
   */
  #markStarted(sent: Sent, worker: string): boolean {
    if (sent.started) {
      // Delivered again to another worker (the first died or stalled): observers hear of the move.
      if (worker !== sent.startedOn) {
        sent.startedOn = worker;
        this.observed?.observer?.started(sent.job, worker);
      }
      return true;
    }
    sent.started = true;
    sent.startedAt = performance.now();
    sent.startedOn = worker;
    if (!sent.job.started && !sent.job.start()) return false;
    this.observed?.observer?.started(sent.job, worker);
    return true;
  }

  #onPoison(advisory: { stream_seq: number; deliveries?: number }): void {
    const sent = this.#bySeq.get(advisory.stream_seq);
    if (!sent || sent.done) return;
    this.#delivered(sent, advisory.deliveries ?? 0);
    this.#chore((async () => {
      // Its last delivery may have stored the outcome and died before pushing it: rejected once
      // the bucket was read and holds none. A read that fails is tried again (after the
      // connection is back, when it dropped), five times.
      let unread: unknown;
      for (let tries = 1;; tries++) {
        if (sent.done || this.#closed) return;
        const absent = await this.#absent(sent.id);
        if (absent === false) return;
        if (absent === true) break;
        unread = absent.failed;
        if (tries === 5) break;
        await this.#conn!.dropped.whenUp().catch(() => {});
        await delay(250 * 2 ** (tries - 1));
      }
      if (!this.#forget(sent)) return;
      this.#chore(this.#deleteMessage(sent));
      this.#count(false, undefined);
      sent.job.crashed(
        new WorkerCrashedError(
          "the task reached the queue's delivery limit without an outcome (a poison task)" +
            (unread === undefined ? "" : `; its stored outcome could not be read: ${unread}`),
        ),
      );
    })());
  }

  /** The id of the task behind `future` (its latest attempt), once it is scheduled. */
  taskId(future: Future<unknown>): string | undefined {
    return this.#futureIds.get(future);
  }

  /**
   * The future of task `id` of this client: the one `submit()` returned when it was submitted
   * here, otherwise a new one settled from the stored outcome (a task of an earlier run).
   */
  futureOf(id: string, shutDown = false): Future<unknown> {
    const live = this.#sent.get(id)?.job ?? this.#queuedById.get(id);
    if (live) return live.task.future;
    // No connection will read its outcome: the future would never settle.
    if (shutDown || this.#closed) {
      throw new InvalidStateError(
        `Cannot get the future of task '${id}' after shutdown of DistributedExecutor: only the futures of its own tasks still running are kept`,
      );
    }
    const { future, created } = this.#reattached.futureOf(id);
    if (created) {
      this.#chore(this.ready.then(async () => {
        await this.#readStored(id);
      }));
    }
    return future;
  }

  /**
   * Removes the stored outcome of task `id` and its payloads (an outcome nobody will read); a task
   * of this run still queued is cancelled, and one running is waited for.
   */
  async forget(id: string, shutDown = false): Promise<void> {
    if (shutDown || this.#closed) {
      throw new InvalidStateError(
        `Cannot forget task '${id}' after shutdown of DistributedExecutor: its connection is closed, and the outcome stays stored until its TTL`,
      );
    }
    const future = this.futureOf(id);
    future.cancel();
    // Running on a worker of this run: its outcome is stored as it ends, and removed after.
    if (!future.done() && this.#sent.has(id)) {
      await new Promise<void>((resolve) => future.addDoneCallback(() => resolve()));
    }
    await this.ready;
    const conn = this.#conn!;
    const key = `${this.client}.${id}`;
    // A worker's outcome settled it: the worker pushes a first run's outcome while it stores it.
    // The future of a task that settled before is a new one: the pushes received tell then.
    const pushed = this.#perFuture.get(future)?.worker !== undefined || this.#pushed.has(id);
    const entry = pushed ? await this.#stored(key) : await this.#online(() => conn.kv.get(key));
    if (!entry || entry.operation !== "PUT") return;
    const blobs: string[] = [`${key}.args`];
    const result = payloadOf(entry.value);
    if (result !== undefined) blobs.push(result);
    // The arguments' payload is gone already unless the task was large and is still unread.
    await Promise.allSettled(blobs.map((name) => this.#online(() => conn.blobs.delete(name))));
    await this.#online(() => conn.kv.delete(key));
  }

  /**
   * Sends `request` once the connection is up, and again when the connection drops under it:
   * `forget()` waits out an outage, as a submit does, rather than fail or do nothing. Rejects with
   * any other error, and once the connection is closed (shutdown, or broken).
   */
  async #online<T>(request: () => Promise<T>): Promise<T> {
    const { dropped } = this.#conn!;
    for (;;) {
      await dropped.whenUp().catch((error) => {
        throw this.#broken ?? error;
      });
      const drops = dropped.drops;
      try {
        return await dropped.race(request());
      } catch (error) {
        if (!(error instanceof RequestLostError) && dropped.drops === drops) throw error;
      }
    }
  }

  /**
   * The entry of `key` once it is stored, or null when it is not within about an ack wait (the
   * longest a worker tries to store an outcome before it leaves the message to a redelivery).
   * Rejects when the last read within that time failed: a failed read tells nothing.
   */
  async #stored(key: string): Promise<KvEntry | null> {
    // Read again and again rather than watched: a watch is a consumer, and letting clients create
    // consumers lets one deliver messages to any subject (a forged delivery-limit notice).
    const kv = this.#conn!.kv;
    const until = performance.now() + Math.max(this.#settings.layout.ackWait, 5_000);
    for (let pause = 20;; pause = Math.min(2 * pause, 500)) {
      let entry: KvEntry | null = null;
      let failed: { error: unknown } | undefined;
      try {
        entry = await this.#online(() => kv.get(key));
      } catch (error) {
        // A closed connection reads nothing any more; another failure may pass (an election).
        if (this.#conn!.nc.isClosed()) throw error;
        failed = { error };
      }
      if (entry?.operation === "PUT") return entry;
      if (performance.now() > until) {
        if (failed) throw failed.error;
        return null;
      }
      await delay(pause);
    }
  }

  /**
   * Reads the stored outcome of task `id` of this client and settles it from there: true when
   * there is one, false when the bucket holds none (yet), and the error when the read failed.
   */
  async #readStored(id: string): Promise<boolean | { failed: unknown }> {
    let entry: KvEntry | null;
    try {
      entry = await this.#conn!.kv.get(`${this.client}.${id}`);
    } catch (error) {
      return { failed: error };
    }
    if (entry?.operation !== "PUT") return false;
    await this.#onResult(id, entry.value);
    return true;
  }

  /**
   * Whether task `id` has no stored outcome, before its future is rejected for that: three reads
   * that all find none, 100 and 200 ms apart, since a read may reach a replica of the bucket
   * that has not applied the latest write yet. False when one finds it (and settles the task),
   * the error when a read failed (nothing is known).
   */
  async #absent(id: string): Promise<boolean | { failed: unknown }> {
    for (let read = 1;; read++) {
      const stored = await this.#readStored(id);
      if (stored !== false) return stored === true ? false : stored;
      if (read === 3) return true;
      await delay(100 * read);
    }
  }

  /**
   * An outcome of task `id` (pushed by its worker, or read from the bucket); the first counts. It
   * is taken at once, unless its record is in the object store: then the promise of its reading.
   * (A promise per outcome, with the chore that tracks it, was a visible share of a client's CPU
   * for tiny tasks.)
   */
  #onResult(id: string, bytes: Uint8Array): Promise<void> | undefined {
    const sent = this.#sent.get(id);
    const conn = this.#conn!;
    if (!sent) return void this.#reattached.offer(id, bytes, conn.blobs, (w) => this.#chore(w));
    if (!this.#forget(sent)) return;
    let record: ResultRecord;
    try {
      record = decodeBody<ResultRecord>(bytes);
    } catch (error) {
      this.#unreadable(sent, conn, error);
      return;
    }
    if (record.blob === undefined) {
      this.#dropArgs(sent, conn);
      this.#settle(sent, record);
      return;
    }
    // A large outcome's payload stays (see readOutcome()): a client that reattaches reads it.
    return wholeRecord(record, conn.blobs).then((record) => {
      this.#dropArgs(sent, conn);
      this.#settle(sent, record);
    }, (error) => this.#unreadable(sent, conn, error));
  }

  /** The arguments' payload was for the worker, which has run the task. */
  #dropArgs(sent: Sent, conn: Connection): void {
    for (const name of sent.blobs) this.#chore(conn.blobs.delete(name));
  }

  /** The outcome of task `sent` could not be read: its future fails with why. */
  #unreadable(sent: Sent, conn: Connection, error: unknown): void {
    this.#dropArgs(sent, conn);
    this.#count(false, undefined);
    sent.job.reject(error);
  }

  /** Settles task `sent` (forgotten here already) from its outcome's `record`. */
  #settle(sent: Sent, record: ResultRecord): void {
    // How long it ran there, as its worker measured it: told first, so that observers take
    // its start from it rather than from now (a short task sent no start notice).
    const ms = record.ms;
    if (typeof ms === "number" && ms >= 0 && ms < Infinity) {
      this.observed?.observer?.ran(sent.job, ms, -1);
    }
    // No start notice came for a short task: its outcome says it started. A future cancelled
    // meanwhile stays cancelled.
    if (!this.#markStarted(sent, record.worker)) return;
    this.#delivered(sent, record.deliveries);
    sent.info.worker = record.worker;
    this.#count(record.ok, record.worker);
    if (record.ok) return sent.job.resolve(record.value);
    const error = outcomeError(record);
    // A worker's local pool that lost the process or thread running the task says so with this
    // error (a chunk's comes with the values before it); so would a task that threw one itself,
    // which the outcome does not tell apart.
    const cause = error instanceof ChunkFailure ? error.error : error;
    if (cause instanceof WorkerCrashedError) sent.job.crashed(error as Error);
    else sent.job.reject(error);
  }

  #count(ok: boolean, worker: string | undefined): void {
    if (ok) this.#stats.completed++;
    else this.#stats.failed++;
    if (worker === undefined) return;
    const counts = this.#perWorker[worker] ??= { completed: 0, failed: 0 };
    if (ok) counts.completed++;
    else counts.failed++;
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (this.#closed) continue;
      if (status.type === "disconnect" && this.#connected) {
        this.#connected = false;
        console.warn(
          `DistributedExecutor: lost the connection to NATS (${status.server}); ` +
            "tasks submitted meanwhile are held here and published when it is back",
        );
      }
      if (status.type !== "reconnect") continue;
      this.#reconnectedAt = Date.now();
      if (!this.#connected) {
        this.#connected = true;
        this.#maxPayload = nc.info?.max_payload ?? this.#maxPayload;
        console.warn(`DistributedExecutor: connected to NATS again (${status.server})`);
        const back = this.#back;
        this.#back = Promise.withResolvers<void>();
        back.resolve();
        this.#pump();
      }
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = setTimeout(() => {
        this.#reconcile();
        this.#chore(this.#sweep());
      }, 500);
    }
  }

  /** Removes the ghosts of the queue's consumer (see `_ghosts.ts`) and counts them. */
  async #sweep(): Promise<void> {
    const conn = this.#conn;
    if (!conn || this.#closed || this.#sweeping || this.#sweepOff || !this.#connected) return;
    this.#sweeping = true;
    try {
      // A request lost with the connection fails at once: `close()` waits for a sweep under way.
      const removed = await conn.dropped.race(
        sweepGhosts(conn.jsm, STREAM, consumerName(this.#settings.queue)),
      );
      this.#stats.ghosts += removed;
    } catch (error) {
      // A client whose permissions do not let it read the task stream leaves ghosts to max_age.
      if (/permission/i.test(String(error))) this.#sweepOff = true;
    } finally {
      this.#sweeping = false;
    }
  }

  /**
   * Reads stored outcomes directly, for what a push missed: pushes are lost while the connection
   * is down, and a push can be lost on the way (a slow consumer here, a broken route in a
   * cluster). After a reconnect it reads every task first sent before it, on each tick until they
   * settle; otherwise only those published more than an interval ago that the queue's consumer
   * has delivered (or that started more than an interval ago, when the consumer cannot be read),
   * so that a deep queue costs nothing (a task not delivered has no outcome), and the futures of
   * `futureOf()` still waiting. A task with no stored outcome whose message is gone, or which the
   * consumer delivered its last time (its delivery-limit advisory came while the connection was
   * down), rejects.
   */
  #reconcile(): void {
    if (this.#closed || !this.#conn || this.#reconciling || !this.#connected) return;
    const before = performance.now() - this.#settings.reconcileInterval;
    const publishedBefore = Date.now() - this.#settings.reconcileInterval;
    // Not taken within the result TTL: the stream has dropped it (its max_age).
    const dropped = Date.now() - this.#dropAfter;
    const expired = (sent: Sent) => !sent.started && sent.publishedAt <= dropped;
    // Sent before the connection came back, whenever its acknowledgement came: news of it can
    // have been missed.
    const suspect = (sent: Sent) => sent.sentAt < this.#reconnectedAt;
    const todo: (Sent | string)[] = [...this.#sent.values()].filter((sent) =>
      sent.seq !== undefined &&
      (suspect(sent) || sent.publishedAt <= publishedBefore || expired(sent))
    );
    todo.push(...this.#reattached.waiting());
    if (todo.length === 0) return;
    this.#reconciling = true;
    const consumer = todo.some((item) => typeof item !== "string")
      ? this.#consumerState()
      : Promise.resolve(undefined);
    // Delivered to a worker at least once (the consumer delivers in stream order), or known to
    // have started when the consumer cannot be read.
    const delivered = (sent: Sent, state: ConsumerState | undefined) =>
      state ? sent.seq! <= state.delivered : sent.started && sent.startedAt <= before;
    let lanes = Math.min(16, todo.length);
    const next = async (): Promise<void> => {
      const state = await consumer;
      for (let item = todo.pop(); item; item = todo.pop()) {
        if (typeof item === "string") {
          await this.#readStored(item);
          continue;
        }
        const sent = item;
        if (sent.done) continue;
        if (!suspect(sent) && !expired(sent) && !delivered(sent, state)) continue;
        // Looked at before the outcome is read: a worker stores the outcome before it acks.
        const lost = state && suspect(sent) ? await this.#lost(sent, state) : undefined;
        if (!lost && !expired(sent)) {
          await this.#readStored(sent.id);
          continue;
        }
        // Rejected only once absence is confirmed (a failed read decides nothing: the next tick
        // reads again).
        if (await this.#absent(sent.id) !== true) continue;
        if (lost && this.#forget(sent)) {
          this.#count(false, undefined);
          sent.job.crashed(new WorkerCrashedError(lost));
        } else if (expired(sent) && this.#forget(sent)) {
          this.#count(false, undefined);
          sent.job.reject(
            new TimeoutError(
              `no worker took the task within the task stream's max_age (${this.#dropAfter} ms, the resultTtl): the stream dropped it`,
            ),
          );
        }
      }
      if (--lanes === 0) this.#reconciling = false;
    };
    for (let lane = lanes; lane > 0; lane--) this.#chore(next());
  }

  /** The queue's consumer: what it delivered and holds (undefined when it cannot be read). */
  async #consumerState(): Promise<ConsumerState | undefined> {
    try {
      const info = await this.#conn!.jsm.consumers.info(
        STREAM,
        consumerName(this.#settings.queue),
      );
      return { delivered: info.delivered.stream_seq, held: info.num_ack_pending };
    } catch {
      return undefined;
    }
  }

  /**
   * Why task `sent` can have no outcome any more, or undefined: its message is gone, or the
   * consumer delivered it and holds nothing, so it gave up on it (its last delivery failed).
   */
  async #lost(sent: Sent, state: ConsumerState): Promise<string | undefined> {
    let present: boolean;
    try {
      await this.#conn!.jsm.streams.getMessage(STREAM, { seq: sent.seq! });
      present = true;
    } catch (error) {
      if (!/no message found|not found/i.test(String(error))) return undefined;
      present = false;
    }
    if (!present) {
      return "the task's message left the task stream without an outcome (lost while the connection was down)";
    }
    if (sent.seq! <= state.delivered && state.held === 0) {
      return "the task reached the queue's delivery limit without an outcome (a poison task; the server's notice came while the connection was down)";
    }
    return undefined;
  }
}

interface ConsumerState {
  /** The last stream sequence delivered. */
  delivered: number;
  /** Messages delivered and not acknowledged. */
  held: number;
}

/** Why task arguments `args` cannot be sent, from the encoder's `error`: a DataCloneError. */
function unsendable(args: unknown[], error: unknown): unknown {
  const at = findProxy(args);
  if (at !== undefined) {
    return new DOMException(
      `Cannot send the task's arguments to a DistributedExecutor worker as they hold a proxy() callback (at ${at}): a worker on another machine cannot call back into this program; pass data, or run the task on a WorkerPoolExecutor or a ProcessPoolExecutor`,
      "DataCloneError",
    );
  }
  if (error instanceof DOMException) return error;
  return new DOMException(error instanceof Error ? error.message : String(error), "DataCloneError");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Publishes a task message, first through the shared ack inbox (see _acks.ts); when that gets no
 * answer, again through the JetStream client, whose errors name a refused permission. The message
 * id makes a message that arrived both times count once.
 */
async function publishTask(
  conn: Connection,
  subject: string,
  bytes: Uint8Array,
  id: string,
  traceparent: string | undefined,
): Promise<{ seq: number }> {
  const h = headers();
  h.set("Nats-Msg-Id", id);
  if (traceparent) h.set("traceparent", traceparent);
  try {
    return await conn.acks.publish(subject, bytes, h);
  } catch (error) {
    // The stream refused it (full, say): the caller decides whether to try again.
    if (error instanceof PublishRefused) throw error;
  }
  return await conn.js.publish(subject, bytes, { headers: h });
}

/** The name of embedded worker `index`. */
function localWorkerName(index: number): string {
  return `local-${index + 1}`;
}

/** Random tokens of 11 characters (66 bits) of `[A-Za-z0-9_-]`, drawn in batches. */
export class RandomTokens {
  static readonly #ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  static readonly #LENGTH = 11;
  readonly #bytes = new Uint8Array(RandomTokens.#LENGTH * 512);
  #at = this.#bytes.length;

  next(): string {
    if (this.#at === this.#bytes.length) {
      crypto.getRandomValues(this.#bytes);
      this.#at = 0;
    }
    let token = "";
    for (let i = 0; i < RandomTokens.#LENGTH; i++) {
      token += RandomTokens.#ALPHABET[this.#bytes[this.#at++]! & 63];
    }
    return token;
  }
}

/** Whether `note` has the shape of a start notice (a malformed one is dropped). */
function isStartedNote(note: unknown): note is StartedNote {
  const n = note as Partial<StartedNote> | null;
  return typeof n === "object" && n !== null && typeof n.id === "string" &&
    typeof n.worker === "string" && typeof n.deliveries === "number";
}

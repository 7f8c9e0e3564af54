// The client side of the distributed executor: an Engine (see executors/_core.ts) that publishes
// jobs to the task stream and settles them from the results bucket. Futures, timeouts, deadlines,
// retries and circuit breakers are the shared core's; this file only moves jobs and outcomes.

import { deserialize, serialize } from "node:v8";
import type { NatsConnection, NodeConnectionOptions, Subscription } from "@nats-io/transport-node";
import {
  jetstream,
  type JetStreamClient,
  type JetStreamManager,
  jetstreamManager,
} from "@nats-io/jetstream";
import type { KV, KvEntry } from "@nats-io/kv";
import type { Engine } from "../executors/_core.ts";
import type { Job } from "../executors/_task.ts";
import { ChunkFailure } from "../executors/_map.ts";
import type { FunctionRefs } from "../executors/_fn_ref.ts";
import { Queue } from "../future/_queue.ts";
import { BrokenExecutorError, CancelledError, WorkerCrashedError } from "../future/errors.ts";
import type { Future } from "../future/future.ts";
import { outcomeOf } from "../future/_hooks.ts";
import { decodeError } from "../actors/error_codec.ts";
import {
  cancelSubject,
  ensureQueue,
  type LayoutOptions,
  poisonAdvisory,
  startedSubject,
  STREAM,
  taskSubject,
} from "./_layout.ts";
import { Blobs, openResults } from "./_stores.ts";
import { NatsServer, type Spawned, spawnWorker } from "./_processes.ts";
import type { ResultRecord, StartedNote, TaskEnvelope, WireFn } from "./_protocol.ts";
import { connectOnce } from "./_auth.ts";
import { moduleHashes } from "./_trust.ts";

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
  maxPublished: number;
  maxAttempts: number;
  payloadThreshold: number;
  reconcileInterval: number;
  embedded: {
    workers: number;
    concurrency: number;
    isolation: "process" | "worker";
    allowSource: boolean;
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
   * Tasks that finished with an error: thrown, poison, or timed out and aborted here (`timeout`,
   * `deadline`, an aborted `signal`; a cancel is not a failure).
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
}

/** What {@linkcode DistributedExecutor.taskStats} reports about one future. */
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
  /** Settled here (an outcome arrived, or it was cancelled): later news about it is ignored. */
  done: boolean;
  deliveries: number;
  blobs: string[];
  /** Counts of the future this attempt belongs to. */
  info: DistributedTaskStats;
}

interface Connection {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  kv: KV;
  blobs: Blobs;
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
  readonly client: string;
  /** Set by the executor: breaks it when the engine cannot start. */
  onBroken: (error: BrokenExecutorError) => void = () => {};
  readonly ready: Promise<void>;
  readonly #settings: EngineSettings;
  readonly #queue = new Queue<Job>();
  readonly #sent = new Map<string, Sent>();
  readonly #bySeq = new Map<number, Sent>();
  readonly #chores = new Set<Promise<unknown>>();
  readonly #subs: Subscription[] = [];
  #conn: Connection | undefined;
  #server: NatsServer | undefined;
  #workers: Spawned[] = [];
  #counter = 0;
  #idPrefix = "";
  /** The SHA-256 of each task module's file, which lets a worker with a copy elsewhere run it. */
  #hashes: (string | undefined)[] = [];
  #workerExits = 0;
  #reconciling = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #watch: { stop(): void } | undefined;
  #watching: Promise<void> | undefined;
  #statusWatch: Promise<void> | undefined;
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  #stats = { completed: 0, failed: 0, redelivered: 0 };
  #perWorker: Record<string, { completed: number; failed: number }> = {};
  #perFuture = new WeakMap<Future<unknown>, DistributedTaskStats>();

  constructor(settings: EngineSettings) {
    this.#settings = settings;
    this.client = settings.clientId ?? `c${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    // A fixed client id outlives this process: task ids then start with a random part of their
    // own, or a restarted client would reuse ids whose outcomes (and publish dedupe) are stored.
    if (settings.clientId !== undefined) {
      this.#idPrefix = `${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}-`;
    }
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

  /** PIDs of the processes this executor started (the embedded server and workers). */
  get pids(): number[] {
    const pids = this.#workers.map((w) => w.pid);
    if (this.#server) pids.unshift(this.#server.pid);
    return pids;
  }

  stats(): DistributedStats {
    let inFlight = 0;
    let queued = 0;
    for (const job of this.#queuedJobs()) if (!job.settled) queued++;
    for (const sent of this.#sent.values()) sent.started ? inFlight++ : queued++;
    const workers: DistributedStats["workers"] = {};
    for (const [name, counts] of Object.entries(this.#perWorker)) workers[name] = { ...counts };
    return { queued, inFlight, ...this.#stats, workers };
  }

  /** Counts of one future submitted here, or undefined for one that was never published. */
  taskStats(future: Future<unknown>): DistributedTaskStats | undefined {
    const info = this.#perFuture.get(future);
    return info && { ...info, ids: [...info.ids] };
  }

  *#queuedJobs(): Generator<Job> {
    const all = [...this.#queue.drain()];
    for (const job of all) this.#queue.push(job);
    yield* all;
  }

  validateFunction(fn: unknown): void {
    this.#settings.modules.validate(fn);
  }

  schedule(job: Job): void {
    this.#queue.push(job);
    this.#pump();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.ready.catch(() => {});
    clearInterval(this.#timer);
    clearTimeout(this.#reconnectTimer);
    while (this.#chores.size > 0) await Promise.allSettled([...this.#chores]);
    this.#watch?.stop();
    await this.#watching;
    for (const sub of this.#subs) sub.unsubscribe();
    const conn = this.#conn;
    if (conn) await conn.nc.drain().catch(() => conn.nc.close());
    await this.#statusWatch;
    clearTimeout(this.#reconnectTimer);
    await Promise.all(this.#workers.map((worker) => worker.stop("SIGTERM")));
    await this.#server?.destroy();
  }

  async #start(): Promise<void> {
    const settings = this.#settings;
    const connection = { ...settings.connection, name: `futures-client-${this.client}` };
    if (!settings.servers) {
      this.#server = await NatsServer.start();
      connection.servers = [this.#server.url];
    }
    await settings.modules.load();
    this.#hashes = await moduleHashes(settings.modules.urls);
    const nc = await connectOnce(connection);
    try {
      const jsm = await jetstreamManager(nc);
      await ensureQueue(jsm, settings.queue, settings.layout);
      const js = jetstream(nc);
      const kv = await openResults(js, settings.layout);
      this.#conn = { nc, js, jsm, kv, blobs: new Blobs(js, settings.layout) };
    } catch (error) {
      await nc.close();
      throw error;
    }
    this.#subs.push(
      nc.subscribe(startedSubject(this.client), {
        callback: (_error, msg) => this.#onStarted(deserialize(msg.data) as StartedNote),
      }),
      nc.subscribe(poisonAdvisory(settings.queue), {
        callback: (_error, msg) =>
          this.#onPoison(msg.json<{ stream_seq: number; deliveries?: number }>()),
      }),
    );
    this.#watching = this.#watchResults();
    this.#timer = setInterval(() => this.#reconcile(false), settings.reconcileInterval);
    this.#statusWatch = this.#watchStatus(nc).catch(() => {});
    if (this.#server) {
      for (let i = 0; i < settings.embedded.workers; i++) this.#spawnWorker(this.#server, i);
    }
  }

  /**
   * Starts embedded worker `index`, and again whenever it exits (a task that kills its worker);
   * a worker that keeps exiting (it cannot start) breaks the executor rather than leave its
   * futures waiting.
   */
  #spawnWorker(server: NatsServer, index: number): void {
    const { workers, ...rest } = this.#settings.embedded;
    const worker = spawnWorker({
      url: server.url,
      queue: this.#settings.queue,
      modules: this.#settings.modules.urls,
      name: `local-${index + 1}`,
      ackWait: this.#settings.layout.ackWait,
      ...rest,
      // An embedded worker is an implementation detail: no start and stop lines of its own.
      logLess: true,
    });
    this.#workers[index] = worker;
    worker.status.then((status) => {
      if (this.#closed) return;
      if (++this.#workerExits > 3 * workers) {
        const how = status.signal ? `signal ${status.signal}` : `code ${status.code}`;
        this.onBroken(
          new BrokenExecutorError(
            `the embedded worker processes exited ${this.#workerExits} times (the last with ${how})`,
          ),
        );
        return;
      }
      this.#spawnWorker(server, index);
    });
  }

  #chore(promise: Promise<unknown>): void {
    const tracked = promise.catch(() => {}).finally(() => this.#chores.delete(tracked));
    this.#chores.add(tracked);
  }

  #pump(): void {
    if (!this.#conn || this.#closed && this.#queue.length === 0) return;
    while (this.#sent.size < this.#settings.maxPublished && this.#queue.length > 0) {
      const job = this.#queue.shift()!;
      if (!job.settled) this.#chore(this.#publish(job, this.#conn));
    }
  }

  async #publish(job: Job, conn: Connection): Promise<void> {
    const id = `${this.#idPrefix}${(++this.#counter).toString(36)}`;
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
      done: false,
      deliveries: 0,
      blobs: [],
      info,
    };
    this.#sent.set(id, sent);
    job.placedOn = sent;
    job.task.future.addDoneCallback((settled) => {
      const outcome = outcomeOf(settled);
      this.#abandon(sent, outcome.failed ? outcome.error : undefined);
    });
    const { timeout, deadline } = job.options;
    const envelope: TaskEnvelope = {
      v: 1,
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
    try {
      bytes = serialize(envelope);
      // The server refuses a message over its max_payload (1 MiB by default), whatever we set.
      const limit = Math.min(this.#settings.payloadThreshold, conn.nc.info!.max_payload - 8192);
      if (bytes.length > limit) {
        const name = `${sent.key}.args`;
        await conn.blobs.put(name, serialize(job.args));
        sent.blobs.push(name);
        delete envelope.args;
        envelope.argsBlob = name;
        bytes = serialize(envelope);
      }
    } catch (error) {
      return this.#settleLocally(sent, dataCloneError(error));
    }
    for (;;) {
      if (sent.done) return;
      try {
        const ack = await conn.js.publish(taskSubject(this.#settings.queue), bytes, {
          msgID: sent.key,
        });
        sent.seq = ack.seq;
        break;
      } catch (error) {
        // The stream is full (discard=new) or the server is away: try again; the message id
        // makes a publish that did arrive count once. Errors that another try cannot fix settle.
        const permanent = /max_payload|permission|authoriz/i.test(String(error));
        if (permanent || conn.nc.isClosed()) return this.#settleLocally(sent, error);
        await delay(250);
      }
    }
    if (sent.done) return void await this.#deleteMessage(sent);
    this.#bySeq.set(sent.seq!, sent);
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

  #settleLocally(sent: Sent, error: unknown): void {
    if (this.#forget(sent)) sent.job.reject(error);
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
    if (sent.started) return;
    sent.started = true;
    sent.startedAt = performance.now();
    if (!sent.job.started && !sent.job.start()) this.#cancelRemote(sent);
  }

  #onPoison(advisory: { stream_seq: number; deliveries?: number }): void {
    const sent = this.#bySeq.get(advisory.stream_seq);
    if (!sent || sent.done) return;
    this.#delivered(sent, advisory.deliveries ?? 0);
    if (!this.#forget(sent)) return;
    this.#chore(this.#deleteMessage(sent));
    this.#count(false, undefined);
    sent.job.reject(
      new WorkerCrashedError(
        "the task reached the queue's delivery limit without an outcome (a poison task)",
      ),
    );
  }

  async #onResult(entry: KvEntry): Promise<void> {
    if (entry.operation !== "PUT") return;
    const id = entry.key.slice(this.client.length + 1);
    const sent = this.#sent.get(id);
    if (!sent || !this.#forget(sent)) return;
    const conn = this.#conn!;
    let record: ResultRecord;
    try {
      record = deserialize(entry.value) as ResultRecord;
      if (record.blob !== undefined) {
        sent.blobs.push(record.blob);
        record = deserialize(await conn.blobs.get(record.blob)) as ResultRecord;
      }
    } catch (error) {
      return sent.job.reject(error);
    } finally {
      for (const name of sent.blobs) this.#chore(conn.blobs.delete(name));
    }
    this.#delivered(sent, record.deliveries);
    sent.info.worker = record.worker;
    this.#count(record.ok, record.worker);
    if (record.ok) return sent.job.resolve(record.value);
    const error = decodeError(record.error!);
    sent.job.reject(record.values ? new ChunkFailure(record.values, error) : error);
  }

  #count(ok: boolean, worker: string | undefined): void {
    if (ok) this.#stats.completed++;
    else this.#stats.failed++;
    if (worker === undefined) return;
    const counts = this.#perWorker[worker] ??= { completed: 0, failed: 0 };
    if (ok) counts.completed++;
    else counts.failed++;
  }

  async #watchResults(): Promise<void> {
    const conn = this.#conn!;
    while (!this.#closed) {
      try {
        const iterator = await conn.kv.watch({ key: `${this.client}.>` });
        this.#watch = iterator;
        if (this.#closed) iterator.stop();
        for await (const entry of iterator) this.#chore(this.#onResult(entry));
      } catch {
        // The watch broke (a server restart): open it again; reconcile() covers the gap.
      }
      if (!this.#closed) await delay(250);
    }
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type !== "reconnect" || this.#closed) continue;
      clearTimeout(this.#reconnectTimer);
      this.#reconnectTimer = setTimeout(() => this.#reconcile(true), 500);
    }
  }

  /**
   * Reads stored outcomes directly: a watch can miss entries across a restart. After a reconnect
   * it reads every task sent; on the timer only those started more than an interval ago, so that
   * a deep queue costs nothing (a task not started has no outcome, and a lost start notice means
   * a lost connection, which the reconnect covers).
   */
  #reconcile(all: boolean): void {
    if (this.#closed || !this.#conn || this.#reconciling) return;
    const kv = this.#conn.kv;
    const before = performance.now() - this.#settings.reconcileInterval;
    const todo = [...this.#sent.values()].filter((sent) =>
      sent.seq !== undefined && (all || sent.started && sent.startedAt <= before)
    );
    if (todo.length === 0) return;
    this.#reconciling = true;
    let lanes = Math.min(16, todo.length);
    const next = async (): Promise<void> => {
      for (let sent = todo.pop(); sent; sent = todo.pop()) {
        if (sent.done) continue;
        const entry = await kv.get(sent.key).catch(() => null);
        if (entry) await this.#onResult(entry);
      }
      if (--lanes === 0) this.#reconciling = false;
    };
    for (let lane = lanes; lane > 0; lane--) this.#chore(next());
  }
}

function dataCloneError(error: unknown): unknown {
  if (error instanceof DOMException) return error;
  return new DOMException(error instanceof Error ? error.message : String(error), "DataCloneError");
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

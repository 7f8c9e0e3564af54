// The worker side of the distributed executor: pull as many tasks as it has free lanes (never
// more: a message held without running gets no heartbeat and is delivered again elsewhere), run
// them in a local process or worker pool (so that a timeout really stops them) or in its own
// process (`inline`, trusted modules), store the outcome create-only in the results bucket, push
// it to the client, then acknowledge. The ack needs no confirmation: a lost ack brings a
// redelivery, and a redelivery whose outcome is stored is only pushed again and acknowledged.

import { deserialize, serialize } from "node:v8";
import { headers, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { LocalPool } from "./_local_pool.ts";
import type { TaskOptions } from "../executors/executor.ts";
import { carryTraceparent } from "../executors/_observe.ts";
import { CancelledError, TimeoutError, WorkerCrashedError } from "../future/errors.ts";
import { encodeError } from "../actors/error_codec.ts";
import {
  clientOfSubject,
  consumerName,
  ensureQueue,
  RESULTS,
  resultSubject,
  startedSubject,
  STREAM,
} from "./_layout.ts";
import { workerLayout } from "./_settings.ts";
import { crashAt, readFault, stallAt } from "./_faults.ts";
import { Blobs, openResults } from "./_stores.ts";
import type { ResultRecord, StartedNote, TaskEnvelope, WireFn } from "./_protocol.ts";
import { TrustedModules } from "./_trust.ts";
import { decodeBody, encodeBody } from "./_codec.ts";
import {
  connectionOptions,
  connectPatiently,
  describeConnectError,
  type NatsConnectOptions,
  redact,
} from "./_auth.ts";
import { HEARTBEAT_MS, startHeartbeat } from "./_heartbeat.ts";
import {
  consumerLeaderElected,
  LostRequests,
  RequestLostError,
  streamLeaderElected,
} from "./_lost_requests.ts";
import { coalesceWrites, writeNow } from "./_coalesce.ts";
import { PubAcks } from "./_acks.ts";
import { RecentKeys } from "./_recent.ts";
import { type Delivery, Puller } from "./_puller.ts";

/** What a client id and a task id are made of (a key of the results bucket, a subject token). */
const TOKEN = /^[A-Za-z0-9_-]+$/;

/**
 * Cancels a worker keeps (for a task it is delivered after its cancel) in each of its two
 * generations: any client may send cancels, and a flood of made-up ones grew a worker's memory by
 * 870 MB for 10 minutes.
 */
const CANCELS_KEPT = 50_000;

/**
 * How a worker runs. The layout settings (`ackWait`, `replicas`, `storage`, `resultTtl`,
 * `maxInFlight`, `maxDeliveries`, `streamMaxMessages`) create the JetStream objects when they are
 * missing; given for objects that exist, they must match them, or the worker does not start.
 *
 * @example Needs a NATS server
 * ```ts ignore
 * import { DistributedWorker, type WorkerRunOptions } from "@concurrent/futures/worker";
 *
 * const options: WorkerRunOptions = {
 *   servers: "nats://127.0.0.1:4222",
 *   queue: "images",
 *   modules: [new URL("./tasks.ts", import.meta.url).href],
 *   concurrency: 4,
 *   isolation: "process",
 *   allowSource: false,
 *   name: "resizer-1",
 *   log: (line) => console.error(line),
 * };
 * const worker = await DistributedWorker.start(options);
 * Deno.addSignalListener("SIGTERM", () => worker.stop());
 * ```
 */
export interface WorkerRunOptions {
  /** NATS server URL(s). */
  servers: string | string[];
  /** The queue whose tasks it runs. */
  queue: string;
  /** Task modules, as URLs: it runs their exported functions. */
  modules: string[];
  /** Tasks it runs at once (the size of its local pool). */
  concurrency: number;
  /**
   * `"process"`: each lane a subprocess that a timeout kills; `"worker"`: Web Workers;
   * `"inline"`: in the worker's own process (trusted modules: a timeout rejects the task but
   * cannot stop it).
   */
  isolation: "process" | "worker" | "inline";
  /** Whether it runs functions sent by source (remote code execution). */
  allowSource: boolean;
  /** Its name in logs and in the client's per-worker counts. */
  name: string;
  /** Milliseconds without a sign of life before a held task is delivered again. */
  ackWait?: number;
  /** Replicas of the stream and stores in a NATS cluster. */
  replicas?: number;
  /** Where JetStream keeps tasks and outcomes. */
  storage?: "file" | "memory";
  /** Milliseconds an outcome is kept (and the stream's `max_age`). */
  resultTtl?: number;
  /** Tasks held by workers across the cluster at most (the consumer's `max_ack_pending`). */
  maxInFlight?: number;
  /** Deliveries per task at most (the consumer's `max_deliver`). */
  maxDeliveries?: number;
  /** Messages the task stream holds at most. */
  streamMaxMessages?: number;
  /** No start and stop lines (`--quiet`): local workers that an executor started itself. */
  quiet?: boolean;
  /**
   * Receives one line at start and one at stop, one while it waits for its server, and one when
   * the local pool is rebuilt.
   */
  log?: (line: string) => void;
  /** Credentials, TLS and other connect options. */
  connection?: NatsConnectOptions;
  /**
   * The local pool's restart limit: more crashes than `max` within `within` ms break it, and the
   * worker stops pulling and builds a new pool after a backoff.
   * @default {{ max: 20, within: 60000 }}
   */
  restartLimit?: { max: number; within: number };
  /**
   * Milliseconds before the first rebuild of a broken local pool; it doubles for each rebuild in
   * a row, up to 60 s.
   * @default {1000}
   */
  rebuildDelay?: number;
  /** How often it tells watching clients it is alive, in ms (see _heartbeat.ts). */
  heartbeat?: number;
}

type Fn = (...args: unknown[]) => unknown;

/** Outcomes larger than this go through the object store (or less: see `#blobThreshold`). */
const BLOB_THRESHOLD = 256 * 1024;

/**
 * Bytes kept free under the server's max_payload for what goes around an outcome (headers, the
 * record it is pushed in): the client keeps as much for arguments.
 */
const PAYLOAD_HEADROOM = 8192;

/** How long `stop()` waits for the connection to drain before it closes it. */
const DRAIN_WAIT = 5_000;

/**
 * A running worker; `stop()` drains it: no more pulls, running tasks finish, then it closes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DistributedWorker } from "@concurrent/futures/worker";
 *
 * assert.equal(typeof DistributedWorker.start, "function");
 * ```
 */
export class DistributedWorker {
  /** Its name in logs and in the client's per-worker counts. */
  readonly name: string;
  readonly #options: WorkerRunOptions;
  readonly #nc: NatsConnection;
  readonly #dropped: LostRequests;
  readonly #puller: Puller;
  readonly #kv: KV;
  readonly #js: JetStreamClient;
  readonly #acks: PubAcks;
  readonly #blobs: Blobs;
  readonly #pool: LocalPool;
  readonly #modules: TrustedModules;
  readonly #ackWait: number;
  readonly #cancelSub: Subscription;
  /**
   * Keys of tasks cancelled by their clients within the last 10 minutes at least: one that comes
   * later is dropped. (A map walked for what expired cost 40 µs a cancel at 20k cancels within 10
   * minutes and 109 µs at 40k, growing with their square; this costs about 1 µs up to 1M:
   * `bench/recent_keys_bench.ts`.)
   */
  readonly #cancelled = new RecentKeys(600_000, CANCELS_KEPT);
  readonly #running = new Map<string, AbortController>();
  readonly #sources = new Map<string, Fn>();
  readonly #fault = readFault();
  /** Start notices to send at the end of this turn of the event loop, by task key. */
  readonly #notices = new Map<string, { client: string; note: StartedNote }>();
  /** Messages dropped as no task of ours (see `#envelope`). */
  #refused = 0;
  #noticeTimer: ReturnType<typeof setTimeout> | undefined;
  #draining = false;
  /** Lanes neither running a task nor promised to a pull under way. */
  #free = 0;
  /** Tasks running that came beyond what was pulled (their lanes are not freed when they end). */
  #extra = 0;
  #pullQueued = false;
  /** Whether pulls wait for the local pool's rebuild, or for a moment after a failed pull. */
  #pullsHeld = false;
  /** What the last failed pull said. */
  #pullFailure = "";
  /** Tasks running. */
  readonly #tasks = new Set<Promise<void>>();
  /** Outcomes being stored (then pushed and acknowledged) after their lanes were freed. */
  readonly #storing = new Set<Promise<void>>();
  #stopped: Promise<void> | undefined;
  /** Messages of running tasks, told to the server as in progress every third of the ack wait. */
  readonly #held = new Set<Delivery>();
  #working: ReturnType<typeof setInterval> | undefined;
  #heartbeat: { stop(): void } | undefined;
  /** Settles `closed()`: why the connection closed, or undefined once it was stopped. */
  readonly #closed = Promise.withResolvers<Error | undefined>();
  /** Tasks it finished with a value. */
  completed = 0;
  /** Tasks it finished with an error. */
  failed = 0;

  private constructor(
    options: WorkerRunOptions,
    nc: NatsConnection,
    kv: KV,
    blobs: Blobs,
    modules: TrustedModules,
    ackWait: number,
  ) {
    this.name = options.name;
    this.#options = options;
    this.#nc = nc;
    this.#dropped = new LostRequests(nc, [
      consumerLeaderElected(STREAM, consumerName(options.queue)),
      streamLeaderElected(STREAM),
      streamLeaderElected(`KV_${RESULTS}`),
    ]);
    this.#puller = new Puller(nc, STREAM, consumerName(options.queue), {
      message: (delivery, credited) => this.#delivered(delivery, credited),
      returned: (count) => {
        this.#free += count;
        this.#pull();
      },
      failed: (description) => this.#pullFailed(description),
    });
    // Pulls under way when the connection dropped or a leader was elected may be lost: written
    // off, and the lanes asked for again (held by the client until it is connected again).
    const renewAtNextLoss = () =>
      this.#dropped.onNext(() => {
        if (this.#draining) return;
        this.#renewPulls();
        renewAtNextLoss();
      });
    renewAtNextLoss();
    void this.#renewOnReconnect(nc).catch(() => {});
    void this.#watchClose(nc);
    this.#kv = kv;
    this.#js = jetstream(nc);
    this.#acks = new PubAcks(nc);
    this.#blobs = blobs;
    this.#modules = modules;
    this.#ackWait = ackWait;
    this.#pool = new LocalPool({ ...options, log: options.log ?? ((line) => console.error(line)) });
    this.#cancelSub = nc.subscribe("futs.cancel.>", {
      callback: (_error, msg) => this.#onCancel(msg.subject.slice("futs.cancel.".length)),
    });
  }

  /**
   * Connects, creates the queue if missing, loads the task modules and starts pulling.
   *
   * @param options see {@linkcode WorkerRunOptions}
   * @returns the running worker
   * @throws {Error} when it cannot connect or a task module fails to load
   */
  static async start(options: WorkerRunOptions): Promise<DistributedWorker> {
    const modules = await TrustedModules.load(options.modules);
    const connectOptions = connectionOptions(
      [options.servers].flat(),
      options.connection ?? {},
      "start the worker",
    );
    connectOptions.name = `futures-worker-${options.name}`;
    // No stack captured per request (each store is one): its cost showed in profiles.
    connectOptions.noAsyncTraces ??= true;
    // A worker started before its server waits for it; refused credentials end it at once.
    const nc = await connectPatiently(connectOptions, options.log ?? (() => {}));
    coalesceWrites(nc);
    try {
      const jsm = await jetstreamManager(nc);
      const { layout, requested } = workerLayout(options);
      await ensureQueue(jsm, options.queue, layout, requested, "worker");
      const js = jetstream(nc);
      const consumer = await js.consumers.get(STREAM, consumerName(options.queue));
      const info = await consumer.info(true);
      const ackWait = (info.config.ack_wait ?? 30e9) / 1e6;
      const kv = await openResults(js, layout, requested, "worker");
      const blobs = new Blobs(js, layout, requested, "worker");
      await blobs.open();
      const worker = new DistributedWorker(options, nc, kv, blobs, modules, ackWait);
      worker.#free = options.concurrency;
      worker.#pull();
      worker.#heartbeat = startHeartbeat(
        nc,
        options.queue,
        options.name,
        options.heartbeat ?? HEARTBEAT_MS,
        () => worker.#running.size,
      );
      options.log?.(
        `futures worker ${options.name} started: queue=${options.queue} concurrency=${options.concurrency} isolation=${options.isolation} servers=${
          [options.servers].flat().map(redact).join(",")
        }`,
      );
      return worker;
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  /**
   * Stops pulling, lets the running tasks finish, closes the pool and the connection.
   *
   * @returns a promise that resolves once it is closed
   */
  stop(): Promise<void> {
    this.#draining = true;
    this.#heartbeat?.stop();
    this.#stopped ??= (async () => {
      while (this.#tasks.size + this.#storing.size > 0) {
        await Promise.all([...this.#tasks, ...this.#storing]);
      }
      // What the pulls under way still bring is handed back (see #delivered) until they end.
      await this.#puller.settled();
      this.#puller.close();
      await this.#pool.shutdown();
      this.#acks.close();
      this.#cancelSub.unsubscribe();
      // A server that takes no more (stopped, or its machine gone without a reset) never answers
      // the drain: past a few seconds the connection is closed without it. The outcomes were
      // stored already; at worst an acknowledgement is lost, and its task's stored outcome is
      // pushed again when it is delivered again.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const drained = await Promise.race([
        this.#nc.drain().then(() => true, () => false),
        new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), DRAIN_WAIT)),
      ]);
      clearTimeout(timer);
      if (!drained) await this.#nc.close().catch(() => {});
      this.#options.log?.(
        `futures worker ${this.name} stopped: completed=${this.completed} failed=${this.failed}`,
      );
    })();
    return this.#stopped;
  }

  /**
   * Resolves once the connection is closed: with `undefined` after `stop()`, or with an Error that
   * says why when it closed for good while the worker ran (the server refused its credentials on a
   * reconnect: it restarted with others). Such a worker runs nothing more: it has aborted its
   * running tasks (their messages are delivered again elsewhere), and `stop()` releases the rest.
   * The worker CLI logs the Error's line and exits 1, for its supervisor to start it again.
   *
   * @returns why the connection closed, or undefined
   */
  closed(): Promise<Error | undefined> {
    return this.#closed.promise;
  }

  async #watchClose(nc: NatsConnection): Promise<void> {
    const error = await nc.closed();
    if (this.#draining) return this.#closed.resolve(undefined);
    // Nothing can be pulled, stored or acknowledged on it again: the worker stops as it is.
    this.#draining = true;
    this.#heartbeat?.stop();
    this.#puller.close();
    if (this.#working !== undefined) clearInterval(this.#working);
    this.#working = undefined;
    this.#held.clear();
    this.#acks.close();
    for (const controller of this.#running.values()) {
      controller.abort(new CancelledError("the worker's connection to NATS closed"));
    }
    const servers = [this.#options.servers].flat();
    const why = error === undefined
      ? `Cannot go on as the connection to NATS at ${servers.map(redact).join(", ")} was closed`
      : describeConnectError(servers, error);
    this.#closed.resolve(new Error(why, { cause: error }));
  }

  #onCancel(key: string): void {
    // `<client>.<id>`: anything else names no task (and a long one would only take memory).
    const dot = key.indexOf(".");
    if (
      key.length > 200 || dot < 0 || !TOKEN.test(key.slice(0, dot)) ||
      !TOKEN.test(key.slice(dot + 1))
    ) return;
    this.#cancelled.note(key);
    this.#running.get(key)?.abort(new CancelledError("the task was cancelled by its caller"));
  }

  /** Pulls sent while the connection was down may have gone nowhere: asked for again once back. */
  async #renewOnReconnect(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type !== "reconnect" || this.#draining) continue;
      this.#renewPulls();
    }
  }

  /** Logs why a task's message was left unacknowledged, unless `closed()` tells it once for all. */
  #report(error: unknown): void {
    if (this.#nc.isClosed()) return;
    console.error(`futures worker ${this.name}: ${String(error)}`);
  }

  /** Writes the pulls under way off and asks for their lanes again, on a new inbox. */
  #renewPulls(): void {
    // Closed for good (see #watchClose): a new inbox cannot be subscribed to.
    if (this.#nc.isClosed()) return;
    this.#free += this.#puller.renew();
    this.#pull();
  }

  /**
   * Asks for as many messages as there are free lanes, in one pull; every message that arrives
   * starts at once on a lane promised to it. Lanes freed in the same microtask checkpoint (tasks
   * whose stores were confirmed together) are asked for together.
   */
  #pull(): void {
    if (this.#pullQueued) return;
    this.#pullQueued = true;
    queueMicrotask(() => {
      this.#pullQueued = false;
      this.#pullNow();
    });
  }

  #pullNow(): void {
    if (this.#draining || this.#free === 0 || this.#pullsHeld) return;
    if (this.#pool.rebuilding) {
      // No pulls while the local pool is being rebuilt.
      this.#pullsHeld = true;
      void this.#pool.ready().then(() => {
        this.#pullsHeld = false;
        this.#pull();
      });
      return;
    }
    const want = this.#free;
    this.#free = 0;
    try {
      this.#puller.pull(want);
    } catch {
      // Closed: the worker is ending.
      this.#free += want;
    }
  }

  /** A pull failed without giving its count back (no consumer, no JetStream): pull again soon. */
  #pullFailed(description: string): void {
    if (this.#pullsHeld || this.#draining) return;
    this.#pullsHeld = true;
    // Said once while the same failure repeats (a permission refused comes back every time).
    if (description !== this.#pullFailure) {
      this.#pullFailure = description;
      console.error(`futures worker ${this.name}: a pull failed (${description}); pulling again`);
    }
    void delay(250).then(() => {
      this.#pullsHeld = false;
      this.#renewPulls();
    });
  }

  #delivered(msg: Delivery, credited: boolean): void {
    if (this.#draining) {
      if (credited) this.#free++;
      return msg.nak();
    }
    if (!credited) this.#extra++;
    const task = this.#handle(msg).catch((error) => {
      // Not acknowledged: the message is delivered again after the ack wait.
      this.#report(error);
    }).finally(() => {
      this.#tasks.delete(task);
      if (this.#extra > 0) this.#extra--;
      else this.#free++;
      this.#pull();
    });
    this.#tasks.add(task);
  }

  async #handle(msg: Delivery): Promise<void> {
    const env = this.#envelope(msg);
    if (!env) return msg.term();
    const fnName = "name" in env.fn ? env.fn.name : "";
    crashAt(this.#fault, "crash-after-receive", fnName);
    const key = `${env.client}.${env.id}`;
    const deliveries = msg.deliveries;
    // A redelivery whose outcome is stored already: the worker before stored it and died before
    // acknowledging.
    if (deliveries > 1) {
      const stored = await this.#dropped.race(this.#kv.get(key)).catch(() => null);
      if (stored) {
        if (stored.operation === "PUT") this.#push(env, stored.value);
        return ack(msg);
      }
    }
    if (this.#cancelled.has(key)) return ack(msg);
    if (env.deadline !== undefined && Date.now() >= env.deadline) {
      const error = new TimeoutError(`the task was not done by its deadline (${env.deadline})`);
      return await this.#finish(msg, env, failure(error, this.name, deliveries));
    }
    if (deliveries > env.maxAttempts) {
      const error = new WorkerCrashedError(
        `the task was delivered ${
          deliveries - 1
        } times and no worker finished it; it is not run again (a poison task)`,
      );
      return await this.#finish(msg, env, failure(error, this.name, deliveries));
    }
    crashAt(this.#fault, "crash-before-start", fnName);
    this.#hold(msg);
    const controller = new AbortController();
    this.#running.set(key, controller);
    this.#announce(env, key, deliveries);
    let record: ResultRecord | undefined;
    try {
      // A broken local pool refused it: run it on the new pool (still holding the message).
      const traceparent = msg.headers?.get("traceparent");
      while (
        !(record = await this.#run(env, controller.signal, deliveries, traceparent)) &&
        !this.#draining
      ) {
        await this.#pool.ready();
      }
    } catch (error) {
      this.#release(msg);
      throw error;
    } finally {
      this.#running.delete(key);
    }
    if (this.#cancelled.has(key)) {
      this.#release(msg);
      return ack(msg);
    }
    if (!record) {
      // Stopping before a new pool came: not acknowledged, it is delivered again elsewhere.
      this.#release(msg);
      return;
    }
    // The lane takes its next task while this outcome is stored: up to `concurrency` outcomes are
    // stored at once beyond the running tasks, past that the lane waits for its own store. The
    // message stays in progress until then: a slow store must not let it be delivered again.
    const storing = this.#finish(msg, env, record, fnName).catch((error) => {
      // Not acknowledged: the message is delivered again after the ack wait.
      this.#report(error);
    }).finally(() => {
      this.#release(msg);
      this.#storing.delete(storing);
    });
    this.#storing.add(storing);
    if (this.#storing.size > this.#options.concurrency) await storing;
  }

  /**
   * The task in `msg`, or undefined (logged) when it is none that this worker may run: a body that
   * does not decode, or an envelope whose client is not the one in its subject (a client may
   * publish only on its own subject, so a client that names another in the body is forging its
   * outcomes) or whose ids would make no key. Such a message is never delivered again.
   */
  #envelope(msg: Delivery): TaskEnvelope | undefined {
    const refuse = (why: string) => {
      this.#refused++;
      // One line for the first few: a flood of them must not flood the log.
      if (this.#refused <= 10) {
        console.error(`futures worker ${this.name}: dropped a message on ${msg.subject}: ${why}`);
      }
      return undefined;
    };
    let env: TaskEnvelope;
    try {
      env = decodeBody<TaskEnvelope>(msg.data);
    } catch (error) {
      return refuse(`its body does not decode (${String(error)})`);
    }
    if (typeof env !== "object" || env === null || Array.isArray(env)) {
      return refuse("its body is no task envelope");
    }
    const client = clientOfSubject(msg.subject);
    if (env.client !== client) {
      return refuse(
        `its envelope names client ${JSON.stringify(env.client)}, not ${
          JSON.stringify(client)
        } of its subject`,
      );
    }
    if (!TOKEN.test(client)) return refuse("its subject names no client id");
    if (typeof env.id !== "string" || !TOKEN.test(env.id)) {
      return refuse(`its task id ${JSON.stringify(env.id)} is not made of [A-Za-z0-9_-]`);
    }
    if (typeof env.fn !== "object" || env.fn === null) return refuse("it names no function");
    if (env.argsBlob !== undefined && env.argsBlob !== `${client}.${env.id}.args`) {
      return refuse(
        `its arguments are in a payload of another task (${
          JSON.stringify(String(env.argsBlob)).slice(0, 200)
        })`,
      );
    }
    if (env.kind !== "call" && env.kind !== "chunk") {
      return refuse(
        `its kind ${JSON.stringify(String(env.kind)).slice(0, 40)} is not call or chunk`,
      );
    }
    if (env.argsBlob === undefined && env.args !== undefined) {
      const wrong = wrongArgs(env.args, env.kind, msg.data.length);
      if (wrong) return refuse(wrong);
    }
    if (typeof env.maxAttempts !== "number") return refuse("it has no maxAttempts");
    return env;
  }

  /** One timer for all running tasks (a timer per task showed in profiles of tiny tasks). */
  #hold(msg: Delivery): void {
    this.#held.add(msg);
    this.#working ??= setInterval(() => {
      try {
        for (const held of this.#held) held.working();
      } catch {
        // Closed: the messages are delivered again after their ack wait.
      }
    }, Math.max(100, this.#ackWait / 3));
  }

  #release(msg: Delivery): void {
    this.#held.delete(msg);
    if (this.#held.size > 0 || this.#working === undefined) return;
    clearInterval(this.#working);
    this.#working = undefined;
  }

  /**
   * Tells the task's client that it started, at the end of this turn of the event loop: a task
   * that finished by then sends none (its outcome says it started), and the notices of one turn
   * go to each client in one message.
   */
  #announce(env: TaskEnvelope, key: string, deliveries: number): void {
    this.#notices.set(key, {
      client: env.client,
      note: { id: env.id, worker: this.name, deliveries },
    });
    if (this.#options.isolation === "inline" && env.timeout !== undefined) {
      // The task runs on this event loop: one that never yields would hold the notice back for
      // ever, and the client starts the task's timeout only from it. It goes now.
      if (this.#noticeTimer !== undefined) clearTimeout(this.#noticeTimer);
      this.#sendNotices();
      writeNow(this.#nc);
      return;
    }
    this.#noticeTimer ??= setTimeout(() => this.#sendNotices(), 0);
  }

  #sendNotices(): void {
    this.#noticeTimer = undefined;
    const byClient = new Map<string, StartedNote[]>();
    for (const [key, { client, note }] of this.#notices) {
      if (!this.#running.has(key)) continue;
      const notes = byClient.get(client);
      if (notes) notes.push(note);
      else byClient.set(client, [note]);
    }
    this.#notices.clear();
    for (const [client, notes] of byClient) {
      try {
        this.#nc.publish(startedSubject(client), serialize(notes));
      } catch {
        // Closed: the outcome (or a redelivery) tells the client.
      }
    }
  }

  /** The task's outcome, or `undefined` when a broken local pool refused it (it did not run). */
  async #run(
    env: TaskEnvelope,
    signal: AbortSignal,
    deliveries: number,
    traceparent: string | undefined,
  ): Promise<ResultRecord | undefined> {
    let fn: Fn;
    let args: unknown[];
    try {
      fn = this.#resolve(env.fn);
      if (env.argsBlob === undefined) args = env.args ?? [];
      else {
        const bytes = await this.#blobs.get(env.argsBlob, env.argsSeal);
        args = deserialize(bytes) as unknown[];
        const wrong = wrongArgs(args, env.kind, bytes.length);
        if (wrong) throw new TypeError(`Cannot run task ${env.id} as ${wrong}`);
      }
    } catch (error) {
      return failure(error, this.name, deliveries);
    }
    const options: TaskOptions = { signal };
    if (env.timeout !== undefined) options.timeout = env.timeout;
    if (env.deadline !== undefined) options.deadline = env.deadline;
    const view = this.#pool.executor.with(options);
    // How long it ran, for the client's observers (a short task sends no start notice).
    const start = performance.now();
    const ran = (record: ResultRecord): ResultRecord => {
      record.ms = performance.now() - start;
      return record;
    };
    if (env.kind === "call") {
      try {
        const value = await carryTraceparent(
          traceparent || undefined,
          () => view.submit(fn, ...args),
        );
        return ran({ v: 1, ok: true, value, worker: this.name, deliveries });
      } catch (error) {
        if (this.#pool.refused(error)) return undefined;
        return ran(failure(error, this.name, deliveries));
      }
    }
    const items = args[0] as unknown[];
    const values: unknown[] = [];
    try {
      if (this.#options.isolation === "inline") {
        // One task for the chunk: a future per item costs more than the items themselves.
        await carryTraceparent(traceparent || undefined, () =>
          view.submit(async () => {
            for (const item of items) values.push(await fn(item));
          }));
      } else {
        // map() submits the chunk's one local task at the call (an array, no buffersize), so it
        // takes the chunk's trace context there, as a call does.
        const results = carryTraceparent(
          traceparent || undefined,
          () => view.map(fn, items, { chunksize: items.length }),
        );
        for await (const value of results) values.push(value);
      }
      return ran({ v: 1, ok: true, value: values, worker: this.name, deliveries });
    } catch (error) {
      if (this.#pool.refused(error)) return undefined;
      return ran({ ...failure(error, this.name, deliveries), values });
    }
  }

  #resolve(ref: WireFn): Fn {
    if ("source" in ref) {
      if (!this.#options.allowSource) {
        throw new TypeError(
          "Cannot run a task sent by source as the worker was not started with --allow-source: " +
            "export the function from a task module and list it in 'modules'",
        );
      }
      let fn = this.#sources.get(ref.source);
      if (!fn) {
        fn = (0, eval)(`(${ref.source})`) as Fn;
        this.#sources.set(ref.source, fn);
      }
      return fn;
    }
    return this.#modules.find(ref);
  }

  /**
   * The size past which an outcome goes through the object store: 256 KiB, or less under the
   * max_payload of the server it is connected to now (1 MiB by default, but a server may set
   * less), which refuses a larger message however often it is sent.
   */
  #blobThreshold(): number {
    const maxPayload = this.#nc.info?.max_payload;
    if (maxPayload === undefined) return BLOB_THRESHOLD;
    return Math.min(BLOB_THRESHOLD, maxPayload - PAYLOAD_HEADROOM);
  }

  /** Sends a stored outcome to its client (core NATS: lost if it is away; it reads it then). */
  #push(env: TaskEnvelope, bytes: Uint8Array): void {
    try {
      this.#nc.publish(resultSubject(env.client, env.id), bytes);
    } catch {
      // Closed: the client reads the stored outcome.
    }
  }

  async #finish(
    msg: Delivery,
    env: TaskEnvelope,
    record: ResultRecord,
    fnName = "",
  ): Promise<void> {
    const key = `${env.client}.${env.id}`;
    if (record.ok) this.completed++;
    else this.failed++;
    // A client of protocol version 1 reads V8-serialized outcomes only.
    const json = env.v >= 2;
    let bytes = serializeRecord(record, json);
    if (bytes.length > this.#blobThreshold()) {
      const name = `${key}.result`;
      const seal = await this.#blobs.put(name, bytes);
      bytes = encodeBody(
        { v: 1, ok: record.ok, blob: name, seal, worker: this.name, deliveries: record.deliveries },
        json,
      );
    }
    // A first delivery's outcome is pushed while it is being stored: the client has it one round
    // trip sooner, and the message is still acknowledged only once the outcome is stored. A later
    // delivery may be a duplicate run: it pushes what is stored (the winner's outcome, when its
    // create lost), so that a client receives the outcome that a reattached client would read.
    let early = record.deliveries === 1;
    if (early) {
      this.#push(env, bytes);
      // nats-server relays the push only once it has processed the rest of what it read with it,
      // the store included: when this is the only task here, the push goes out in its own write.
      // With other tasks under way it waits for the turn's one write, as a write of its own per
      // task cost more CPU on every side than the store's processing delays the push.
      if (this.#storing.size === 0 && this.#tasks.size <= 1) writeNow(this.#nc);
    }
    await stallAt(this.#fault, "stall-before-store", fnName, 3 * this.#ackWait);
    const store = () => ({
      kv: this.#kv,
      js: this.#js,
      acks: this.#acks,
      dropped: this.#dropped,
      stopping: () => this.#draining,
    });
    try {
      bytes = await storeOnce(store(), key, bytes, this.#ackWait);
    } catch (error) {
      if (!tooLarge(error)) throw error;
      // Refused for its size (a server of the cluster with a lower max_payload than the one it
      // was measured against): trying again cannot help, and its client would wait for ever. The
      // task fails with an outcome that says so instead, small enough for any server.
      if (record.ok) {
        this.completed--;
        this.failed++;
      }
      const refused = new RangeError(
        `Cannot store the outcome of task ${env.id} as the server refused it for its size (${bytes.length} bytes, over its max_payload of ${
          this.#nc.info?.max_payload ?? "?"
        } bytes)`,
      );
      bytes = await storeOnce(
        store(),
        key,
        encodeBody(failure(refused, this.name, record.deliveries), json),
        this.#ackWait,
      );
      early = false;
    }
    crashAt(this.#fault, "crash-after-store-before-ack", fnName);
    if (!early) this.#push(env, bytes);
    ack(msg);
  }
}

/** Whether the server refused a message for its size (over its max_payload). */
function tooLarge(error: unknown): boolean {
  return /max_payload/i.test(String(error));
}

function failure(error: unknown, worker: string, deliveries: number): ResultRecord {
  return { v: 1, ok: false, error: encodeError(error), worker, deliveries };
}

/**
 * Why a task's arguments (a chunk's items too) cannot be run, or undefined. Decoded bodies are the
 * submitter's: a list whose length is not backed by its bytes is sparse (V8 serialization keeps
 * holes, so 174 bytes gave a list of 2^32 - 1), and spreading or iterating it would take the
 * worker's memory, an out-of-memory error that ends the process (not a task's failure).
 */
function wrongArgs(args: unknown, kind: string, bytes: number): string | undefined {
  if (!Array.isArray(args)) return "its arguments are not a list";
  if (args.length > bytes) return `its arguments are a list of ${args.length} in ${bytes} bytes`;
  if (kind !== "chunk") return undefined;
  const items = args[0];
  if (!Array.isArray(items)) return "its chunk's items are not a list";
  if (items.length > bytes) return `its chunk is a list of ${items.length} in ${bytes} bytes`;
  return undefined;
}

/** Encodes a record; a value that cannot be serialized becomes the task's DataCloneError. */
function serializeRecord(record: ResultRecord, json: boolean): Uint8Array {
  try {
    return encodeBody(record, json);
  } catch (error) {
    const clone = new DOMException(
      error instanceof Error ? error.message : String(error),
      "DataCloneError",
    );
    return encodeBody(failure(clone, record.worker, record.deliveries), json);
  }
}

/** What `storeOnce()` stores through. */
export interface OutcomeStore {
  kv: KV;
  js: JetStreamClient;
  acks: PubAcks;
  dropped: LostRequests;
  /** True once the worker is stopping: a store that keeps failing gives up then. */
  stopping?: () => boolean;
}

/**
 * Stores the outcome unless the key has one already (then this run was a duplicate: the stored
 * outcome is returned) or had one that `forget()` deleted (then nobody will read it: it is not
 * stored again). Every try is a create-only publish on the key's subject: the first through the
 * shared inbox of `acks`, the next through the JetStream client (whose errors name a refused
 * permission).
 *
 * A store that fails for a passing reason (no leader for the bucket, a lost connection) is tried
 * again for as long as it takes, while the worker keeps the task's message in progress: given
 * up, the message would be delivered again, and a long outage would count as deliveries of a
 * poison task. It gives up (and the message is delivered again) when it is refused for good (a
 * permission, a message over the server's max_payload, a connection closed for good), or once
 * the worker is stopping and an ack wait has passed.
 */
export async function storeOnce(
  { kv, js, acks, dropped, stopping = () => true }: OutcomeStore,
  key: string,
  bytes: Uint8Array,
  ackWait: number,
): Promise<Uint8Array> {
  const subject = keySubject(kv, key);
  try {
    // Sent again through the slow path below at once when lost with a node or the connection.
    await dropped.race(acks.publish(subject, bytes, CREATE_ONLY, STORE_WAIT));
    return bytes;
  } catch {
    // Stored already (a duplicate run), refused or unanswered: the slow path below decides.
  }
  const until = Date.now() + Math.max(ackWait, 5_000);
  for (let pause = 250;; pause = Math.min(2 * pause, 2_000)) {
    try {
      // A create that stays unanswered (no leader, or a lost connection) is tried again: if the
      // first one did land, the next finds its outcome. (The bucket's own create() would also
      // reopen a key whose outcome was deleted.)
      await dropped.race(js.publish(subject, bytes, { headers: createOnly() }), STORE_WAIT);
      return bytes;
    } catch (error) {
      const existing = await dropped.race(kv.get(key), STORE_WAIT).catch(() => null);
      if (existing) return existing.operation === "PUT" ? existing.value : bytes;
      // Refused for good: a permission, a message over the server's max_payload, or a
      // connection closed for good (see `DistributedWorker.closed()`).
      if (/permission|authoriz/i.test(String(error)) || tooLarge(error)) throw error;
      if (error instanceof Error && error.name === "ClosedConnectionError") throw error;
      if (Date.now() > until && stopping()) throw error;
      // A lost request has waited already; one refused at once (no leader yet) waits a little.
      if (!(error instanceof RequestLostError)) await delay(pause);
    }
  }
}

/** How long a store of an outcome waits for its answer before it tries again. */
const STORE_WAIT = 1_000;

/** The subject a put of `key` goes to (the bucket's own mapping, prefixes included). */
function keySubject(kv: KV, key: string): string {
  const impl = kv as unknown as {
    encodeKey(key: string): string;
    subjectForKey(key: string, edit: boolean): string;
  };
  return impl.subjectForKey(impl.encodeKey(key), true);
}

/** Headers that make a put succeed only when the key has no value yet. */
function createOnly() {
  const h = headers();
  h.set("Nats-Expected-Last-Subject-Sequence", "0");
  return h;
}

/**
 * The same headers, made once for every store through the shared inbox: a publish only reads them
 * (the JetStream client's publish may add its own, so it gets a new set each time).
 */
const CREATE_ONLY = createOnly();

/**
 * Acknowledges without waiting for the server's confirmation: a lost ack brings the message back,
 * and the stored outcome absorbs it (it is pushed again and acknowledged).
 */
function ack(msg: Delivery): void {
  try {
    msg.ack();
  } catch {
    // Closed: the message comes back to another worker.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

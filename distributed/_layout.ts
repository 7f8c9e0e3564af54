// Names and configuration of the JetStream objects a queue uses, created when missing by
// whichever side (client or worker) comes first.

import {
  AckPolicy,
  DiscardPolicy,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { type RequestedLayout, taskMaxAge, verifyConsumer, verifyTaskStream } from "./_verify.ts";

/** Milliseconds as the nanoseconds JetStream configuration takes. */
export const nanos = (ms: number): number => Math.round(ms * 1_000_000);

export const STREAM = "FUTS_TASKS";
export const RESULTS = "futs_results";
export const BLOBS = "futs_blobs";

/**
 * Where `client` publishes its tasks for `queue`. The client's id is in the subject so that NATS
 * permissions can hold each client to its own (`futs.task.*.<client>`), and a worker takes the
 * client from the subject, never from the message body.
 */
export const taskSubject = (queue: string, client: string): string =>
  `futs.task.${queue}.${client}`;
/** The tasks of every client for `queue`: the queue's consumer's filter. */
export const queueFilter = (queue: string): string => `futs.task.${queue}.*`;
/** The client of a task message, from its subject (see {@linkcode taskSubject}). */
export const clientOfSubject = (subject: string): string =>
  subject.slice(subject.lastIndexOf(".") + 1);
export const consumerName = (queue: string): string => `workers_${queue}`;
export const cancelSubject = (client: string, id: string): string => `futs.cancel.${client}.${id}`;
export const startedSubject = (client: string): string => `futs.started.${client}`;
/** Where a worker pushes a stored outcome to its client: `futs.result.<client>.<id>`. */
export const resultSubject = (client: string, id: string): string => `futs.result.${client}.${id}`;
export const poisonAdvisory = (queue: string): string =>
  `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.${STREAM}.${consumerName(queue)}`;

/** Limits and storage of the JetStream objects. */
export interface LayoutOptions {
  ackWait: number;
  /** Server-side cap on deliveries, a safety net above the per-task `maxAttempts`. */
  maxDeliver: number;
  maxAckPending: number;
  streamMaxMsgs: number;
  storage: "file" | "memory";
  replicas: number;
  resultTtl: number;
}

/**
 * Throws a `RangeError` naming the setting when `ackWait` or `resultTtl` lies outside what the
 * server and the timers take: the server refuses a `max_age` under 100 ms, durations go to it in
 * int64 nanoseconds, and a timer of more than 2^31 - 1 ms fires at once.
 *
 * @param name the setting's name as the caller wrote it ("ackWait" or "--ack-wait")
 */
export function checkDurations(
  what: string,
  values: { ackWait?: number | undefined; resultTtl?: number | undefined },
  name: (key: "ackWait" | "resultTtl") => string,
): void {
  const bounds = { ackWait: [1, MAX_TIMER_MS], resultTtl: [100, MAX_NANOS_MS] } as const;
  for (const key of ["ackWait", "resultTtl"] as const) {
    const value = values[key];
    const [min, max] = bounds[key];
    if (value !== undefined && (value < min || value > max)) {
      throw new RangeError(
        `Cannot ${what} as '${name(key)}' must be from ${min} to ${max} ms: received ${value}`,
      );
    }
  }
}

/** The longest delay a timer honours, in ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The longest duration in ms whose nanoseconds fit the server's int64. */
const MAX_NANOS_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1_000);

export const defaultLayout: LayoutOptions = {
  ackWait: 30_000,
  maxDeliver: 10,
  maxAckPending: 1_000,
  streamMaxMsgs: 1_000_000,
  storage: "file",
  replicas: 1,
  resultTtl: 3_600_000,
};

/**
 * Creates the task stream and the queue's consumer if they do not exist yet, and checks the
 * `requested` settings against those that do (see `_verify.ts`).
 */
export async function ensureQueue(
  jsm: JetStreamManager,
  queue: string,
  layout: LayoutOptions,
  requested: RequestedLayout = {},
  who = "client",
): Promise<void> {
  const storage = layout.storage === "memory" ? StorageType.Memory : StorageType.File;
  const stream = await jsm.streams.info(STREAM).catch(notFound);
  if (stream) verifyTaskStream(STREAM, stream.config, requested, who);
  else {
    try {
      await jsm.streams.add({
        name: STREAM,
        subjects: ["futs.task.>"],
        retention: RetentionPolicy.Workqueue,
        storage,
        num_replicas: layout.replicas,
        // The server wants it no longer than max_age.
        duplicate_window: nanos(Math.min(120_000, layout.resultTtl)),
        max_msgs: layout.streamMaxMsgs,
        // A message nobody took within the result TTL is dropped, and so is one that a server
        // crash left behind after its task was acknowledged (see `_ghosts.ts`).
        max_age: taskMaxAge(layout.resultTtl),
        discard: DiscardPolicy.New,
      });
    } catch (error) {
      // Another client or worker created it first.
      const info = await jsm.streams.info(STREAM).catch(() => {
        throw error;
      });
      verifyTaskStream(STREAM, info.config, requested, who);
    }
  }
  const durable = consumerName(queue);
  const consumer = await jsm.consumers.info(STREAM, durable).catch(notFound);
  if (consumer) verifyConsumer(durable, consumer.config, requested, who, queueFilter(queue));
  else {
    try {
      await jsm.consumers.add(STREAM, {
        durable_name: durable,
        filter_subject: queueFilter(queue),
        ack_policy: AckPolicy.Explicit,
        ack_wait: nanos(layout.ackWait),
        max_deliver: layout.maxDeliver,
        max_ack_pending: layout.maxAckPending,
      });
    } catch (error) {
      const info = await jsm.consumers.info(STREAM, durable).catch(() => {
        throw error;
      });
      verifyConsumer(durable, info.config, requested, who, queueFilter(queue));
    }
  }
}

/** `undefined` for a "not found" error; any other error (no JetStream, a lost connection) throws. */
export function notFound(error: unknown): undefined {
  if (/not found/i.test(String(error))) return undefined;
  throw error;
}

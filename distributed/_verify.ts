// Checks the configuration of JetStream objects that exist already against the settings a client
// or worker asked for. Whoever comes first creates them; everyone after checks: a setting given
// explicitly that differs from what the server holds is an error naming the setting, the value the
// server holds and the one asked for, never a silent fallback.

import type { ConsumerConfig, StreamConfig } from "@nats-io/jetstream";
import { type LayoutOptions, nanos } from "./_layout.ts";
import { LAYOUT_OPTION } from "./_settings.ts";

/** The settings given explicitly (an option or a flag); the rest takes what exists. */
export type RequestedLayout = Partial<LayoutOptions>;

/** One setting as the server holds it: its field in the JetStream config and how to show it. */
interface Check {
  setting: keyof LayoutOptions;
  /** What the requested value becomes in the server's config. */
  wanted: (layout: LayoutOptions) => unknown;
  actual: unknown;
  /** The server's value in the option's unit, for the message. */
  shown: (value: unknown) => unknown;
}

const ms = (value: unknown): unknown => typeof value === "number" ? value / 1e6 : value;
const same = (value: unknown): unknown => value;

/** The stream's `max_age` for a result TTL: tasks not started within it are dropped. */
export const taskMaxAge = (resultTtl: number): number => nanos(resultTtl);

function verify(
  kind: string,
  name: string,
  checks: Check[],
  requested: RequestedLayout,
  who: string,
): void {
  for (const check of checks) {
    const value = requested[check.setting];
    if (value === undefined) continue;
    const full = { [check.setting]: value } as unknown as LayoutOptions;
    const wanted = check.wanted(full);
    if (wanted === check.actual) continue;
    throw new Error(
      `Cannot use the JetStream ${kind} '${name}' as its '${LAYOUT_OPTION[check.setting]}' is ${
        JSON.stringify(check.shown(check.actual))
      } and this ${who} asked for ${
        JSON.stringify(value)
      }: give every client and worker the same settings, or remove the ${kind} (it is created again)`,
    );
  }
}

/**
 * Refuses a JetStream object whose shape is not the one this library creates, whatever was asked
 * for: whoever creates the objects first sets their configuration, and one made by somebody else
 * with more subjects, sources or a push delivery would route messages where they do not belong
 * (tasks into results, results to a stranger). `fields` are [what (with its verb), actual,
 * expected].
 */
function verifyShape(
  kind: string,
  name: string,
  fields: [string, unknown, unknown][],
): void {
  for (const [what, actual, expected] of fields) {
    if (JSON.stringify(actual ?? null) === JSON.stringify(expected ?? null)) continue;
    throw new Error(
      `Cannot use the JetStream ${kind} '${name}' as its ${what} ${
        JSON.stringify(actual ?? null)
      }, not ${
        JSON.stringify(expected ?? null)
      }: it was not created by this library (or by an older version); remove the ${kind} (it is created again)`,
    );
  }
}

/** The fields of a stream that copy or move messages from or to elsewhere. */
function streamLinks(config: StreamConfig): [string, unknown, unknown][] {
  const c = config as StreamConfig & { republish?: unknown; sources?: unknown[] };
  return [
    ["mirror is", c.mirror, null],
    ["sources are", c.sources?.length ? c.sources : null, null],
    ["republish is", c.republish, null],
  ];
}

/** Verifies the task stream's configuration. */
export function verifyTaskStream(
  name: string,
  config: StreamConfig,
  requested: RequestedLayout,
  who: string,
): void {
  verifyShape("stream", name, [
    ["subjects are", config.subjects, ["futs.task.>"]],
    ["retention is", config.retention, "workqueue"],
    ...streamLinks(config),
  ]);
  verify(
    "stream",
    name,
    [
      { setting: "replicas", wanted: (l) => l.replicas, actual: config.num_replicas, shown: same },
      { setting: "storage", wanted: (l) => l.storage, actual: config.storage, shown: same },
      {
        setting: "streamMaxMsgs",
        wanted: (l) => l.streamMaxMsgs,
        actual: config.max_msgs,
        shown: same,
      },
      {
        setting: "resultTtl",
        wanted: (l) => taskMaxAge(l.resultTtl),
        actual: config.max_age,
        shown: ms,
      },
    ],
    requested,
    who,
  );
}

/** Verifies a queue's consumer configuration (`filter`: the subjects of its queue's tasks). */
export function verifyConsumer(
  name: string,
  config: ConsumerConfig,
  requested: RequestedLayout,
  who: string,
  filter: string,
): void {
  verifyShape("consumer", name, [
    ["filter subject is", config.filter_subject, filter],
    ["ack policy is", config.ack_policy, "explicit"],
    // A pull consumer: a push one would deliver the tasks to whoever chose its subject.
    ["deliver subject is", config.deliver_subject, null],
  ]);
  verify(
    "consumer",
    name,
    [
      { setting: "ackWait", wanted: (l) => nanos(l.ackWait), actual: config.ack_wait, shown: ms },
      {
        setting: "maxDeliver",
        wanted: (l) => l.maxDeliver,
        actual: config.max_deliver,
        shown: same,
      },
      {
        setting: "maxAckPending",
        wanted: (l) => l.maxAckPending,
        actual: config.max_ack_pending,
        shown: same,
      },
    ],
    requested,
    who,
  );
}

/** Verifies the stream under the results bucket or the object store. */
export function verifyStoreStream(
  name: string,
  config: StreamConfig,
  requested: RequestedLayout,
  who: string,
): void {
  // The subjects the KV and object store clients give their streams.
  const subjects = name.startsWith("KV_")
    ? [`$KV.${name.slice(3)}.>`]
    : [`$O.${name.slice(4)}.C.>`, `$O.${name.slice(4)}.M.>`];
  verifyShape("stream", name, [
    ["subjects are", config.subjects, subjects],
    ...streamLinks(config),
  ]);
  verify(
    "stream",
    name,
    [
      { setting: "replicas", wanted: (l) => l.replicas, actual: config.num_replicas, shown: same },
      { setting: "storage", wanted: (l) => l.storage, actual: config.storage, shown: same },
      {
        setting: "resultTtl",
        wanted: (l) => nanos(l.resultTtl),
        actual: config.max_age,
        shown: ms,
      },
    ],
    requested,
    who,
  );
}

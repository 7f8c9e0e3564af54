// The results bucket (one create-only key per task) and the object store for large payloads,
// opened by clients and workers alike.

import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { BLOBS, type LayoutOptions, nanos, notFound, RESULTS } from "./_layout.ts";
import { type RequestedLayout, verifyStoreStream } from "./_verify.ts";

/**
 * Checks the stream under a store that exists against the settings asked for; `true` when it
 * exists (open it), `false` when it must be created.
 */
async function existing(
  js: JetStreamClient,
  stream: string,
  requested: RequestedLayout,
  who: string,
): Promise<boolean> {
  const jsm = await js.jetstreamManager();
  const info = await jsm.streams.info(stream).catch(notFound);
  if (info) verifyStoreStream(stream, info.config, requested, who);
  return info !== undefined;
}

/**
 * Opens the results bucket as it is. Reads go by direct get when the bucket allows it: its request
 * subject names the key, which lets NATS permissions limit a client to its own results.
 */
async function openBucket(kvm: Kvm): Promise<KV> {
  const kv = await kvm.open(RESULTS);
  const { streamInfo } = await kv.status();
  return streamInfo.config.allow_direct ? await kvm.open(RESULTS, { allow_direct: true }) : kv;
}

/** Opens the results bucket, creating it when missing (checking it when present). */
export async function openResults(
  js: JetStreamClient,
  layout: LayoutOptions,
  requested: RequestedLayout = {},
  who = "client",
): Promise<KV> {
  const kvm = new Kvm(js);
  if (await existing(js, `KV_${RESULTS}`, requested, who)) return await openBucket(kvm);
  try {
    return await kvm.create(
      RESULTS,
      {
        history: 1,
        ttl: layout.resultTtl,
        storage: layout.storage === "memory" ? "memory" : "file",
        replicas: layout.replicas,
      } as Parameters<Kvm["create"]>[1],
    );
  } catch (error) {
    // Another client or worker created it meanwhile.
    if (!await existing(js, `KV_${RESULTS}`, requested, who)) throw error;
    return await openBucket(kvm);
  }
}

/** Payloads too large for one message, kept in the object store (opened on first use). */
export class Blobs {
  readonly #js: JetStreamClient;
  readonly #layout: LayoutOptions;
  readonly #requested: RequestedLayout;
  readonly #who: string;
  #store: Promise<ObjectStore> | undefined;

  constructor(
    js: JetStreamClient,
    layout: LayoutOptions,
    requested: RequestedLayout = {},
    who = "client",
  ) {
    this.#js = js;
    this.#layout = layout;
    this.#requested = requested;
    this.#who = who;
  }

  #open(): Promise<ObjectStore> {
    this.#store ??= (async () => {
      const objm = new Objm(this.#js);
      const stream = `OBJ_${BLOBS}`;
      if (await existing(this.#js, stream, this.#requested, this.#who)) {
        return await objm.open(BLOBS);
      }
      try {
        return await objm.create(
          BLOBS,
          {
            // The object store takes its ttl in nanoseconds (the KV bucket in milliseconds).
            ttl: nanos(this.#layout.resultTtl),
            storage: this.#layout.storage === "memory" ? "memory" : "file",
            replicas: this.#layout.replicas,
          } as Parameters<Objm["create"]>[1],
        );
      } catch (error) {
        if (!await existing(this.#js, stream, this.#requested, this.#who)) throw error;
        return await objm.open(BLOBS);
      }
    })();
    this.#store.catch(() => this.#store = undefined);
    return this.#store;
  }

  async put(name: string, bytes: Uint8Array): Promise<void> {
    const store = await this.#open();
    await store.putBlob({ name }, bytes);
  }

  async get(name: string): Promise<Uint8Array> {
    const store = await this.#open();
    const bytes = await store.getBlob(name);
    if (!bytes) throw new Error(`Cannot read payload '${name}' as it is not in the object store`);
    return bytes;
  }

  async delete(name: string): Promise<void> {
    const store = await this.#open();
    await store.delete(name);
  }
}

// The results bucket (one create-only key per task) and the object store for large payloads,
// opened by clients and workers alike.

import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { BLOBS, type LayoutOptions, nanos, RESULTS } from "./_layout.ts";

/** Opens the results bucket, creating it when missing. */
export async function openResults(js: JetStreamClient, layout: LayoutOptions): Promise<KV> {
  const kvm = new Kvm(js);
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
  } catch {
    // It exists with other settings (made by another client or a worker), or this user may not
    // create it: use it as it is. Reads go by direct get when the bucket allows it: its request
    // subject names the key, which lets NATS permissions limit a client to its own results.
    const kv = await kvm.open(RESULTS);
    const { streamInfo } = await kv.status();
    return streamInfo.config.allow_direct ? await kvm.open(RESULTS, { allow_direct: true }) : kv;
  }
}

/** Payloads too large for one message, kept in the object store (opened on first use). */
export class Blobs {
  readonly #js: JetStreamClient;
  readonly #layout: LayoutOptions;
  #store: Promise<ObjectStore> | undefined;

  constructor(js: JetStreamClient, layout: LayoutOptions) {
    this.#js = js;
    this.#layout = layout;
  }

  #open(): Promise<ObjectStore> {
    this.#store ??= (async () => {
      const objm = new Objm(this.#js);
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
      } catch {
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

// The results bucket (one create-only key per task) and the object store for large payloads,
// opened by clients and workers alike.

import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
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

/** Reads of a payload before a passing failure is given up on. */
const READS = 3;

/** A payload that is missing, in part or whole, or corrupt: reading it again cannot help. */
class PayloadError extends Error {
  override name = "PayloadError";
}

/** The state of the connection that payload reads go through (see `LostRequests`). */
export interface Link {
  /** Disconnects so far. */
  readonly drops: number;
  /** Whether the connection is up now. */
  readonly up: boolean;
  /** Resolves when the connection is up; rejects once it is closed. */
  whenUp(): Promise<void>;
}

/** Payloads too large for one message, kept in the object store (opened on first use). */
export class Blobs {
  readonly #js: JetStreamClient;
  readonly #link: Link | undefined;
  readonly #layout: LayoutOptions;
  readonly #requested: RequestedLayout;
  readonly #who: string;
  #store: Promise<ObjectStore> | undefined;
  #manager: Promise<JetStreamManager> | undefined;

  constructor(
    js: JetStreamClient,
    layout: LayoutOptions,
    requested: RequestedLayout = {},
    who = "client",
    link?: Link,
  ) {
    this.#js = js;
    this.#link = link;
    this.#layout = layout;
    this.#requested = requested;
    this.#who = who;
  }

  /**
   * Opens the object store now, creating it when missing: workers do it as they start, so that
   * clients need no right to create streams.
   */
  async open(): Promise<void> {
    await this.#open();
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

  /**
   * Stores payload `name`; resolves with its seal, which the message that refers to it carries:
   * the reader checks the payload against it, not against the object store's own record of it,
   * which any peer allowed to write payloads could rewrite.
   */
  async put(name: string, bytes: Uint8Array): Promise<PayloadSeal> {
    const store = await this.#open();
    const info = await store.putBlob({ name }, bytes);
    return { digest: info.digest, size: info.size };
  }

  /**
   * Reads payload `name` chunk by chunk, each a direct get: every step is one request with the
   * connection's timeout, so a read ends (or fails) in bounded time. The object store's own
   * reader streams through an ordered push consumer, which waits for ever when the chunks are
   * purged under it (a payload deleted while it is read). A read that fails for a passing reason
   * (a request that timed out, say) is tried twice more; one that failed with the connection (it
   * dropped meanwhile, or is down), given a `link`, is tried again once the connection is back,
   * however long the outage, and does not count. One of a payload that is missing, in part or
   * whole, or corrupt fails at once.
   */
  async get(name: string, seal?: PayloadSeal): Promise<Uint8Array> {
    const link = this.#link;
    for (let attempt = 1;; attempt++) {
      const drops = link?.drops;
      try {
        return await this.#read(name, seal);
      } catch (error) {
        if (error instanceof PayloadError) throw error;
        if (link && (link.drops !== drops || !link.up)) {
          // Closed meanwhile: the read's own error says what failed.
          await link.whenUp().catch(() => Promise.reject(error));
          attempt--;
          continue;
        }
        if (attempt >= READS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 250 * attempt));
      }
    }
  }

  async #read(name: string, seal: PayloadSeal | undefined): Promise<Uint8Array> {
    const store = await this.#open();
    const info = await store.info(name);
    if (!info || info.deleted) {
      throw new PayloadError(`Cannot read payload '${name}' as it is not in the object store`);
    }
    // Checked before anything is allocated: a rewritten record could claim any size.
    if (seal && (info.size !== seal.size || info.digest !== seal.digest)) {
      throw new PayloadError(
        `Cannot read payload '${name}' as it is not the one stored for this task (${info.size} ` +
          `bytes, ${info.digest}, where ${seal.size} bytes, ${seal.digest} were stored)`,
      );
    }
    // The record is written by the client that stored the payload, and a seal comes from that
    // client too: its size and chunk count are claims, which a forged record makes as large as it
    // likes. Nothing is allocated from them; they only bound what is read.
    const refused = (why: string) => new PayloadError(`Cannot read payload '${name}'${why}`);
    const { size, chunks } = info;
    const chunkSize = info.options?.max_chunk_size;
    const claims = `its record claims ${size} bytes in ${chunks} chunks` +
      (chunkSize === undefined ? "" : ` of at most ${chunkSize} bytes`);
    if (
      !Number.isSafeInteger(size) || size < 0 || !Number.isSafeInteger(chunks) || chunks < 0 ||
      (chunkSize !== undefined && (!Number.isSafeInteger(chunkSize) || chunkSize < 1)) ||
      // A writer publishes no empty chunk, and none larger than its chunk size.
      (size === 0 ? chunks !== 0 : chunks < 1 || chunks > size) ||
      (chunkSize !== undefined && chunks < Math.ceil(size / chunkSize))
    ) {
      throw refused(` as ${claims}, which do not agree`);
    }
    const jsm = await (this.#manager ??= this.#js.jetstreamManager(false));
    const subject = `$O.${BLOBS}.C.${info.nuid}`;
    const parts: Uint8Array[] = [];
    let received = 0;
    let seq = 0;
    for (let chunk = 1; chunk <= chunks; chunk++) {
      const msg = await jsm.direct.getMessage(`OBJ_${BLOBS}`, {
        seq: seq + 1,
        next_by_subj: subject,
      });
      if (!msg) throw refused(`: its chunk ${chunk} of ${chunks} is missing`);
      received += msg.data.length;
      if (received > size || (chunkSize !== undefined && msg.data.length > chunkSize)) {
        throw refused(
          `: its chunk ${chunk} of ${chunks} is larger than its record says (${claims})`,
        );
      }
      parts.push(msg.data);
      seq = msg.seq;
    }
    // The length first: hashing what is short of the claim would be work for nothing.
    if (received !== size) {
      throw refused(` as it is corrupt: ${received} bytes were read where ${claims}`);
    }
    // Sized by the bytes received, now known to be the size claimed.
    const bytes = new Uint8Array(received);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.length;
    }
    const digest = await sha256(bytes);
    if (info.digest !== `SHA-256=${digest}`) {
      throw refused(
        ` as it is corrupt (${received} bytes, digest ${digest} against ${info.digest})`,
      );
    }
    return bytes;
  }

  async delete(name: string): Promise<void> {
    const store = await this.#open();
    await store.delete(name);
  }
}

/** What a payload was when it was stored: its size and digest (`SHA-256=...`). */
export interface PayloadSeal {
  digest: string;
  size: number;
}

/** SHA-256 of `bytes`, base64url with padding: how the object store writes a digest. */
async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  let binary = "";
  for (const byte of digest) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_");
}

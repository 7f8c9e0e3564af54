// The object store of large payloads, read chunk by chunk with direct gets.

import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstream, type JetStreamClient, jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { NatsServer } from "../../distributed/_processes.ts";
import { Blobs, type Link } from "../../distributed/_stores.ts";
import { BLOBS, defaultLayout } from "../../distributed/_layout.ts";

/** A server, a connection and the payload store on it, closed after `test`. */
async function withBlobs(
  test: (blobs: Blobs, nc: Awaited<ReturnType<typeof connect>>) => Promise<void>,
): Promise<void> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  try {
    await test(new Blobs(jetstream(nc), { ...defaultLayout, storage: "memory" }), nc);
  } finally {
    await nc.close();
    await server.destroy();
  }
}

/** A payload of `size` bytes that differ from chunk to chunk. */
function payload(size: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 17)) & 255;
  return bytes;
}

Deno.test("Blobs.get() reads back what put() stored: empty, one chunk, many chunks", async () => {
  await withBlobs(async (blobs) => {
    for (const size of [0, 1000, 128 * 1024, (1 << 20) + 17]) {
      const bytes = payload(size);
      await blobs.put(`p${size}`, bytes);
      assert.deepEqual(await blobs.get(`p${size}`), bytes, `${size} bytes`);
    }
  });
});

Deno.test("Blobs.get() of a payload whose chunks were purged under it rejects, naming the payload, instead of waiting", async () => {
  await withBlobs(async (blobs, nc) => {
    await blobs.put("gone", payload(300 * 1024));
    // What a delete does first: its chunks go, and its entry says so only after.
    const info = await (await new Objm(jetstream(nc)).open(BLOBS)).info("gone");
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(`OBJ_${BLOBS}`, { filter: `$O.${BLOBS}.C.${info!.nuid}` });
    // A guard against a regression that waits for ever: the test fails instead of hanging.
    let guard: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      guard = setTimeout(() => reject(new Error("Blobs.get() did not settle")), 20_000);
    });
    try {
      await assert.rejects(
        Promise.race([blobs.get("gone"), hung]),
        /Cannot read payload 'gone': its chunk 1 of 3 is missing/,
      );
    } finally {
      clearTimeout(guard);
    }
    await assert.rejects(
      blobs.get("never"),
      /Cannot read payload 'never' as it is not in the object store/,
    );
  });
});

/**
 * `js` with direct gets that fail for a passing reason whenever `failing()` says so (as a request
 * that timed out while the connection was re-established).
 */
function flakyDirectGets(js: JetStreamClient, failing: () => boolean): JetStreamClient {
  // Methods are called on the object itself (a proxy has none of its private fields).
  const member = (object: object, key: PropertyKey): unknown => {
    const value = Reflect.get(object, key, object);
    return typeof value === "function" ? value.bind(object) : value;
  };
  return new Proxy(js, {
    get(target, key) {
      if (key !== "jetstreamManager") return member(target, key);
      return async (checkAPI?: boolean) => {
        const jsm = await target.jetstreamManager(checkAPI);
        const direct = {
          getMessage(...args: Parameters<typeof jsm.direct.getMessage>) {
            if (failing()) return Promise.reject(new Error("TIMEOUT"));
            return jsm.direct.getMessage(...args);
          },
        };
        return new Proxy(jsm, {
          get: (object, name) => name === "direct" ? direct : member(object, name),
        });
      };
    },
  });
}

Deno.test("Blobs.get() reads a payload again after a passing failure, and gives up after three reads", async () => {
  await withBlobs(async (blobs, nc) => {
    const bytes = payload(200 * 1024);
    await blobs.put("p", bytes);
    // 200 KiB: two chunks. The first two reads fail at their first chunk.
    let calls = 0;
    const twice = new Blobs(
      flakyDirectGets(jetstream(nc), () => ++calls <= 2),
      { ...defaultLayout, storage: "memory" },
    );
    assert.deepEqual(await twice.get("p"), bytes);
    assert.equal(calls, 4, "two reads failed, the third read both chunks");
    let reads = 0;
    const always = new Blobs(
      flakyDirectGets(jetstream(nc), () => ++reads > 0),
      { ...defaultLayout, storage: "memory" },
    );
    await assert.rejects(always.get("p"), /TIMEOUT/);
    assert.equal(reads, 3);
  });
});

/** A link whose state the test sets: `down()` and `back()`; `waited` resolves at each wait. */
class TestLink implements Link {
  drops = 0;
  up = true;
  #back = Promise.withResolvers<void>();
  #waited = Promise.withResolvers<void>();

  /** Resolves when a reader next waits for the connection. */
  get waited(): Promise<void> {
    return this.#waited.promise;
  }

  whenUp(): Promise<void> {
    if (this.up) return Promise.resolve();
    this.#waited.resolve();
    this.#waited = Promise.withResolvers<void>();
    return this.#back.promise;
  }

  down(): void {
    this.drops++;
    this.up = false;
  }

  back(): void {
    this.up = true;
    this.#back.resolve();
    this.#back = Promise.withResolvers<void>();
  }

  close(): void {
    this.#back.reject(new Error("the connection is closed"));
  }
}

Deno.test("Blobs.get() waits for a dropped connection however long it is down, and a read that failed with it does not count", async () => {
  await withBlobs(async (_blobs, nc) => {
    const bytes = payload(200 * 1024);
    const link = new TestLink();
    let failures = 0;
    // Reads fail while the link is down, and the first two after it is back.
    const blobs = new Blobs(
      flakyDirectGets(jetstream(nc), () => (!link.up || failures < 3) && ++failures > 0),
      { ...defaultLayout, storage: "memory" },
      {},
      "client",
      link,
    );
    await blobs.put("p", bytes);
    link.down();
    const read = blobs.get("p");
    await link.waited;
    assert.equal(failures, 1);
    link.back();
    // Two more failures: three in all, which the read would give up at if the first counted.
    assert.deepEqual(await read, bytes);
    assert.equal(failures, 3);

    // A connection that drops during a read (up again when the read fails) is waited for too.
    let dropDuring = true;
    const dropping = new Blobs(
      flakyDirectGets(jetstream(nc), () => {
        if (!dropDuring) return false;
        dropDuring = false;
        link.drops++;
        return true;
      }),
      { ...defaultLayout, storage: "memory" },
      {},
      "client",
      link,
    );
    assert.deepEqual(await dropping.get("p"), bytes);
    assert.equal(dropDuring, false);

    // Closed while down: the read fails with its own error.
    link.down();
    const closing = new Blobs(
      flakyDirectGets(jetstream(nc), () => true),
      { ...defaultLayout, storage: "memory" },
      {},
      "client",
      link,
    ).get("p");
    await link.waited;
    link.close();
    await assert.rejects(closing, /TIMEOUT/);
  });
});

Deno.test("Blobs.get() with the seal put() gave refuses a payload rewritten since, before it reads a byte", async () => {
  await withBlobs(async (blobs, nc) => {
    const bytes = payload(300 * 1024);
    const seal = await blobs.put("victim", bytes);
    assert.equal(seal.size, bytes.length);
    assert.match(seal.digest, /^SHA-256=/);
    assert.deepEqual(await blobs.get("victim", seal), bytes);
    // Another peer allowed to write payloads replaces it under the same name, with other bytes
    // and a record of them that checks out on its own (and one claiming 3 GB).
    const store = await new Objm(jetstream(nc)).open(BLOBS);
    await store.putBlob({ name: "victim" }, new TextEncoder().encode("TAMPERED"));
    await assert.rejects(blobs.get("victim", seal), /not the one stored for this task/);
    // Without a seal (a peer of an earlier version), the record is all there is to check.
    assert.equal(new TextDecoder().decode(await blobs.get("victim")), "TAMPERED");
  });
});

/**
 * Rewrites the object store's record of payload `name` with `changes`, as a client allowed to
 * write payloads can (it publishes to `$O.<bucket>.M.<name>` itself); resolves with the record.
 */
async function forgeRecord(
  nc: Awaited<ReturnType<typeof connect>>,
  name: string,
  changes: Record<string, unknown>,
): Promise<{ size: number; digest: string }> {
  const key = btoa(name).replaceAll("+", "-").replaceAll("/", "_");
  const subject = `$O.${BLOBS}.M.${key}`;
  const jsm = await jetstreamManager(nc);
  const record = (await jsm.streams.getMessage(`OBJ_${BLOBS}`, { last_by_subj: subject }))!.json<
    { size: number; digest: string }
  >();
  await jetstream(nc).publish(subject, JSON.stringify({ ...record, ...changes }));
  return record;
}

/** Asserts that `read` rejects with a PayloadError whose message matches `pattern`. */
async function assertRefused(read: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(read, (error: unknown) => {
    assert(error instanceof Error);
    assert.equal(error.name, "PayloadError", error.message);
    assert.match(error.message, pattern);
    return true;
  });
}

Deno.test("Blobs.get() allocates nothing from the size a rewritten record claims, and refuses a record whose size, chunks and bytes disagree", async () => {
  await withBlobs(async (blobs, nc) => {
    await blobs.put("small", new TextEncoder().encode("four"));
    const rss = Deno.memoryUsage().rss;
    // The client that stored it rewrites its record, and gives the task a seal that agrees with
    // it: a size no process could allocate, which the reader used to allocate before reading.
    const { digest } = await forgeRecord(nc, "small", { size: 2 ** 50, chunks: 8 * 2 ** 30 });
    await assertRefused(
      blobs.get("small", { size: 2 ** 50, digest }),
      /'small': its chunk 2 of 8589934592 is missing/,
    );
    // 2 GiB in one chunk of at most 128 KiB cannot be: refused before a chunk is read.
    await forgeRecord(nc, "small", { size: 2 ** 31, chunks: 1 });
    await assertRefused(
      blobs.get("small", { size: 2 ** 31, digest }),
      /claims 2147483648 bytes in 1 chunks of at most 131072 bytes, which do not agree/,
    );
    // As many chunks as 2 GiB needs: the read stops at the first one missing.
    await forgeRecord(nc, "small", { size: 2 ** 31, chunks: 2 ** 14 });
    await assertRefused(blobs.get("small"), /its chunk 2 of 16384 is missing/);
    assert(
      Deno.memoryUsage().rss - rss < 100 * 2 ** 20,
      `${Deno.memoryUsage().rss - rss} bytes more resident`,
    );
    // Fewer bytes than the chunk holds, more than it holds, and chunks that cannot be.
    await forgeRecord(nc, "small", { size: 2, chunks: 1 });
    await assertRefused(blobs.get("small"), /chunk 1 of 1 is larger than its record says/);
    await forgeRecord(nc, "small", { size: 5, chunks: 1 });
    await assertRefused(blobs.get("small"), /4 bytes were read where its record claims 5 bytes/);
    for (const [size, chunks] of [[4, 0], [4, 5], [0, 1], [-4, 1], [4.5, 1], ["4", 1]]) {
      await forgeRecord(nc, "small", { size, chunks });
      await assertRefused(blobs.get("small"), /which do not agree/);
    }
    // The record put() wrote reads back.
    await forgeRecord(nc, "small", { size: 4, chunks: 1 });
    assert.equal(new TextDecoder().decode(await blobs.get("small", { size: 4, digest })), "four");
  });
});

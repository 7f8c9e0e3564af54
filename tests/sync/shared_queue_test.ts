import assert from "node:assert/strict";
import { InvalidStateError, QueueClosedError, SharedQueue, TimeoutError } from "../../mod.ts";
import { consume, getWithTimeout, produce } from "../fixtures/sync_tasks.ts";
import { syncPool, until } from "./_helpers.ts";

Deno.test("SharedQueue.get() returns values in put order, as structured copies", async () => {
  const queue = new SharedQueue();
  const values = [
    1,
    "two",
    { three: [3n, new Date(3)] },
    new Map([[4, new Set([4])]]),
    new Uint8Array([5]),
    undefined,
    null,
  ];
  for (const value of values) await queue.put(value);
  assert.equal(queue.size, values.length);
  for (const value of values) assert.deepEqual(await queue.get(), value);
  assert.equal(queue.size, 0);
  assert.equal(queue.bytes, 0);
});

Deno.test("SharedQueue with encoding json carries JSON values", async () => {
  const queue = new SharedQueue({ encoding: "json", maxBytes: 64 });
  await queue.put({ a: [1, "x"] });
  await queue.put(undefined);
  assert.deepEqual(await queue.get(), { a: [1, "x"] });
  assert.equal(await queue.get(), undefined);
  await assert.rejects(queue.put(() => 1), TypeError);
  assert.throws(() => new SharedQueue({ encoding: "xml" as "json" }), /'encoding'/);
});

Deno.test("SharedQueue.put() on a full queue waits, or times out, by items and by bytes", async () => {
  const byItems = new SharedQueue<number>({ maxItems: 2 });
  await byItems.put(1);
  await byItems.put(2);
  await assert.rejects(byItems.put(3, { timeout: 0 }), TimeoutError);
  await assert.rejects(byItems.put(3, { timeout: 5 }), TimeoutError);
  const waiting = byItems.put(3);
  assert.equal(await byItems.get(), 1);
  await waiting;
  assert.deepEqual([await byItems.get(), await byItems.get()], [2, 3]);

  const byBytes = new SharedQueue<string>({ maxBytes: 32, encoding: "json" });
  await byBytes.put("x".repeat(20)); // 22 bytes of JSON + 4 of length
  await assert.rejects(byBytes.put("y", { timeout: 0 }), TimeoutError);
  await assert.rejects(byBytes.put("z".repeat(40)), RangeError);
  assert.equal(await byBytes.get(), "x".repeat(20));
  await byBytes.put("y");
  assert.equal(await byBytes.get(), "y");
});

Deno.test("SharedQueue wraps around its ring without losing bytes", async () => {
  const queue = new SharedQueue<string>({ maxBytes: 61, encoding: "json" });
  for (let i = 0; i < 200; i++) {
    const value = String(i).repeat(1 + (i % 7));
    await queue.put(value);
    if (i % 3 === 0) await queue.put(value);
    assert.equal(await queue.get(), value);
    if (i % 3 === 0) assert.equal(await queue.get(), value);
  }
  assert.equal(queue.size, 0);
});

Deno.test("SharedQueue.get() on an empty queue times out", async () => {
  const queue = new SharedQueue();
  await assert.rejects(queue.get({ timeout: 0 }), TimeoutError);
  await assert.rejects(queue.get({ timeout: 5 }), TimeoutError);
  assert.throws(() => queue.getSync(), InvalidStateError);
  assert.throws(() => queue.putSync(1), InvalidStateError);
});

Deno.test("SharedQueue.close() drains then ends gets; puts throw, waiting ones too", async () => {
  const queue = new SharedQueue<number>({ maxItems: 1 });
  await queue.put(1);
  const blocked = queue.put(2);
  const emptyQueue = new SharedQueue();
  const waitingGet = emptyQueue.get();
  queue.close();
  emptyQueue.close();
  await assert.rejects(blocked, QueueClosedError);
  await assert.rejects(waitingGet, QueueClosedError);
  await assert.rejects(queue.put(3), QueueClosedError);
  assert.equal(await queue.get(), 1);
  await assert.rejects(queue.get(), QueueClosedError);
  const rest = [];
  for await (const item of queue) rest.push(item);
  assert.deepEqual(rest, []);
  assert.equal(queue.closed, true);
});

Deno.test("SharedQueue.from() revives a structured-cloned queue", async () => {
  const queue = new SharedQueue<number>({ maxItems: 3, encoding: "json" });
  const copy = SharedQueue.from<number>(structuredClone(queue));
  await copy.put(7);
  assert.equal(await queue.get(), 7);
  assert.throws(() => SharedQueue.from({ buffer: new SharedArrayBuffer(64) }), TypeError);
  assert.throws(() => new SharedQueue({ maxItems: 0 }), RangeError);
  assert.throws(() => new SharedQueue({ maxBytes: 1.5 }), RangeError);
});

Deno.test("SharedQueue carries items between pools, blocking and async, many producers and consumers", async () => {
  await using producers = syncPool(2);
  await using consumers = syncPool(2);
  for (const blocking of [true, false]) {
    const queue = new SharedQueue<number>({ maxItems: 16, encoding: "json" });
    const gets = [
      consumers.submit(consume, queue, blocking),
      consumers.submit(consume, queue, blocking),
    ];
    await Promise.all([
      producers.submit(produce, queue, 0, 1000, blocking),
      producers.submit(produce, queue, 1000, 2000, blocking),
    ]);
    queue.close();
    const got = (await Promise.all(gets)) as number[][];
    const all = got.flat().sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: 2000 }, (_, i) => i));
    for (const part of got) {
      // Each producer's items arrive in the order it put them.
      for (const range of [[0, 1000], [1000, 2000]]) {
        const mine = part.filter((n) => n >= range[0]! && n < range[1]!);
        assert.deepEqual(mine, [...mine].sort((a, b) => a - b));
      }
    }
  }
});

Deno.test("SharedQueue.putSync() blocks a worker on a full queue until the main thread gets", async () => {
  await using pool = syncPool(1);
  const queue = new SharedQueue<number>({ maxItems: 2 });
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const producing = pool.submit(produce, queue, 0, 5, true, cells);
  await until(() => queue.size === 2 && Atomics.load(cells, 0) === 2, "the queue is full");
  assert.equal(Atomics.load(cells, 0), 2, "the producer waits");
  const got = [];
  for (let i = 0; i < 5; i++) got.push(await queue.get());
  await producing;
  assert.deepEqual(got, [0, 1, 2, 3, 4]);
  assert.equal(await pool.submit(getWithTimeout, queue, 5), "TimeoutError");
  queue.close();
  assert.equal(await pool.submit(getWithTimeout, queue, 5000), "QueueClosedError");
});

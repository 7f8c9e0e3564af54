import assert from "node:assert/strict";
import { SharedQueue, WorkerCrashedError } from "../../mod.ts";
import { dieInsideQueue } from "../fixtures/sync_tasks.ts";
import { syncPool } from "./_helpers.ts";

async function dieInside(
  queue: SharedQueue,
  step: "locked" | "committing",
  value?: unknown,
): Promise<void> {
  await using pool = syncPool(1);
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const dying = pool.submit(dieInsideQueue, queue, step, cells, value);
  assert.ok((await dying.exception()) instanceof WorkerCrashedError);
  assert.equal(Atomics.load(cells, 0), 1, "the worker ended inside the critical section");
}

Deno.test("SharedQueue.get() goes on after a putter died holding the queue, before its change", async () => {
  const queue = new SharedQueue();
  await dieInside(queue, "locked", "lost");
  await queue.put("next", { timeout: 10_000 });
  assert.equal(await queue.get({ timeout: 10_000 }), "next");
  assert.equal(queue.size, 0);
});

Deno.test("SharedQueue.get() goes on after a putter died in the middle of its change", async () => {
  const queue = new SharedQueue();
  await queue.put("first");
  await dieInside(queue, "committing", "second");
  assert.equal(await queue.get({ timeout: 10_000 }), "first");
  assert.equal(await queue.get({ timeout: 10_000 }), "second", "the journalled put is applied");
  assert.equal(queue.size, 0);
  assert.equal(queue.bytes, 0);
});

Deno.test("SharedQueue.put() goes on after a getter died in the middle of its change", async () => {
  const queue = new SharedQueue({ maxItems: 2 });
  await queue.put("taken");
  await queue.put("kept");
  await dieInside(queue, "committing");
  await queue.put("third", { timeout: 10_000 });
  assert.deepEqual([await queue.get(), await queue.get()], ["kept", "third"]);
  assert.equal(queue.size, 0);
});

Deno.test("SharedQueue.recover() takes the queue back for blocking callers", async () => {
  const queue = new SharedQueue();
  await dieInside(queue, "locked", 1);
  // Deno lets go of a dead worker's Web Locks a moment after the pool sees it end.
  for (let i = 0; !(await queue.recover()); i++) {
    assert.ok(i < 1000, "the queue is taken back");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(await queue.recover(), false);
  await queue.put(2, { timeout: 0 });
  assert.equal(await queue.get({ timeout: 0 }), 2);
});

Deno.test("SharedQueue.getSync() keeps its timeout while a dead thread holds the queue", async () => {
  const { getWithTimeout } = await import("../fixtures/sync_tasks.ts");
  const queue = new SharedQueue();
  await dieInside(queue, "locked", 1);
  await using pool = syncPool(1);
  // It blocked on the queue's own mutex with no deadline: for ever, until someone's recover().
  const got = pool.with({ timeout: 10_000 }).submit(getWithTimeout, queue, 100);
  assert.equal(await got, "TimeoutError");
});

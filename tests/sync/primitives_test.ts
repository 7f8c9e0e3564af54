import assert from "node:assert/strict";
import {
  Barrier,
  BrokenBarrierError,
  Condition,
  Event,
  InvalidStateError,
  Lock,
  Semaphore,
  TimeoutError,
} from "../../mod.ts";
import {
  barrierRounds,
  barrierWait,
  holdPermit,
  waitCondition,
  waitEvent,
} from "../fixtures/sync_tasks.ts";
import { syncPool, until } from "./_helpers.ts";

Deno.test("Semaphore.acquire() lets `permits` holders in, then queues in FIFO order", async () => {
  const semaphore = new Semaphore(2);
  const a = await semaphore.acquire();
  const b = await semaphore.acquire();
  assert.equal(semaphore.value, 0);
  const order: number[] = [];
  const waiters = [1, 2, 3].map((id) =>
    semaphore.acquire().then((permit) => {
      order.push(id);
      return permit;
    })
  );
  assert.equal(semaphore.waiting, 3);
  await assert.rejects(semaphore.acquire({ timeout: 5 }), TimeoutError);
  a.release();
  a.release(); // a permit is given back once
  const first = await waiters[0]!;
  assert.deepEqual(order, [1]);
  b.release();
  await waiters[1];
  first.release();
  (await waiters[2]!).release();
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(semaphore.value, 1);
  assert.throws(() => new Semaphore(-1), RangeError);
  assert.throws(() => semaphore.acquireSync(), InvalidStateError);
});

Deno.test("Semaphore.acquireSync() keeps at most `permits` workers inside", async () => {
  await using pool = syncPool(4);
  const semaphore = new Semaphore(2);
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const tasks = [0, 1, 2, 3].map(() => pool.submit(holdPermit, semaphore, go, cells));
  await until(() => Atomics.load(cells, 0) === 2 && semaphore.value === 0, "two hold permits");
  await until(() => semaphore.waiting === 2, "the other two wait");
  go.set();
  await Promise.all(tasks);
  assert.equal(Atomics.load(cells, 1), 2, "never more than two inside");
  assert.equal(semaphore.value, 2);
});

Deno.test("Event.wait() resolves on set() across workers, and reports a timeout as false", async () => {
  await using pool = syncPool(2);
  const event = new Event();
  assert.equal(await event.wait({ timeout: 0 }), false);
  assert.equal(await pool.submit(waitEvent, event, 10), false);
  const waiters = [pool.submit(waitEvent, event), pool.submit(waitEvent, event)];
  const local = event.wait();
  event.set();
  assert.deepEqual(await Promise.all([...waiters, local]), [true, true, true]);
  event.clear();
  assert.equal(event.isSet(), false);
  assert.throws(() => event.waitSync(), InvalidStateError);
});

Deno.test("Barrier.waitSync() holds every worker until all arrive, round after round", async () => {
  await using pool = syncPool(3);
  const barrier = new Barrier(3);
  const rounds = 20;
  const arrived = new Int32Array(new SharedArrayBuffer(4 * rounds));
  const results = await Promise.all(
    [0, 1, 2].map(() => pool.submit(barrierRounds, barrier, rounds, arrived)),
  );
  for (const { early } of results) assert.equal(early, 0);
  for (let round = 0; round < rounds; round++) {
    assert.deepEqual(results.map((r) => r.indexes[round]).sort(), [0, 1, 2]);
  }
  assert.equal(barrier.waiting, 0);
});

Deno.test("Barrier.wait() mixes the main thread and workers; a timeout breaks it for all", async () => {
  await using pool = syncPool(2);
  const barrier = new Barrier(3);
  const workers = [pool.submit(barrierWait, barrier), pool.submit(barrierWait, barrier)];
  await until(() => barrier.waiting === 2, "two workers wait");
  const index = await barrier.wait();
  assert.deepEqual([...(await Promise.all(workers)), index].sort(), [0, 1, 2]);

  const waiter = pool.submit(barrierWait, barrier);
  await until(() => barrier.waiting === 1, "a worker waits");
  const error = await barrier.wait({ timeout: 5 }).catch((e) => e);
  assert.ok(error instanceof BrokenBarrierError);
  assert.ok(error.cause instanceof TimeoutError);
  assert.equal(await waiter, "BrokenBarrierError");
  assert.equal(barrier.broken, true);
  await assert.rejects(barrier.wait(), BrokenBarrierError);
});

Deno.test("Condition.notify() wakes one waiter, the longest waiting; notifyAll() the rest", async () => {
  await using pool = syncPool(3);
  const condition = new Condition();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const log = new Int32Array(new SharedArrayBuffer(4 * 4));
  const tasks = [];
  for (const id of [1, 2, 3]) {
    tasks.push(pool.submit(waitCondition, condition, cells, log, id));
    await until(() => Atomics.load(cells, 0) === id, `waiter ${id} counted itself`);
  }
  {
    // Holding the lock here means the last waiter has released it, so all three wait.
    await using _held = await condition.acquire();
    assert.equal(condition.notify(), 1);
  }
  await until(() => Atomics.load(log, 0) === 1, "one waiter woke");
  assert.equal(log[1], 1);
  {
    await using _held = await condition.acquire();
    assert.equal(condition.notifyAll(), 2);
  }
  assert.deepEqual(await Promise.all(tasks), [true, true, true]);
  assert.deepEqual([...log.subarray(1, 4)].slice(1).sort(), [2, 3]);
});

Deno.test("Condition.wait() times out; notify() then skips the waiter that gave up", async () => {
  const condition = new Condition(new Lock());
  const held = await condition.acquire();
  assert.equal(await condition.wait(held, { timeout: 5 }), false);
  assert.equal(held.held, true, "the lock is held again after the wait");
  assert.equal(condition.notify(), 0, "nobody waits: the timed-out waiter is skipped");
  const woken = (async () => {
    await using again = await condition.acquire();
    return await condition.wait(again);
  })();
  held.release();
  await until(() => !condition.lock.locked(), "the waiter waits");
  {
    await using _held = await condition.acquire();
    assert.equal(condition.notify(), 1);
  }
  assert.equal(await woken, true);
  assert.throws(() => condition.notify(), InvalidStateError);
  await assert.rejects(condition.wait(held), InvalidStateError);
});

Deno.test("Condition.waitFor() returns once the predicate holds", async () => {
  const condition = new Condition();
  let items = 0;
  const consumer = (async () => {
    await using held = await condition.acquire();
    assert.equal(await condition.waitFor(held, () => items >= 2), true);
    return items;
  })();
  for (let i = 0; i < 2; i++) {
    await using _held = await condition.acquire();
    items++;
    condition.notifyAll();
  }
  assert.equal(await consumer, 2);
  const held = await condition.acquire();
  assert.equal(await condition.waitFor(held, () => false, { timeout: 5 }), false);
  held.release();
  const copy = Condition.from(structuredClone(condition));
  assert.equal(copy.lock.buffer.byteLength, condition.lock.buffer.byteLength);
});

Deno.test("Barrier.waitSync() and Condition.waitSync() refuse to block the main thread", async () => {
  const barrier = new Barrier(2);
  assert.throws(() => barrier.waitSync(), InvalidStateError);
  assert.equal(barrier.waiting, 0, "the refused call did not count as an arrival");
  const condition = new Condition();
  const held = await condition.acquire();
  assert.throws(() => condition.waitSync(held), /main thread/);
  assert.equal(held.held, true);
  held.release();
  assert.throws(() => condition.acquireSync(), InvalidStateError);
});

Deno.test("Event.set() wakes the waiters even when clear() follows at once, as in Python", async () => {
  const event = new Event();
  // Registered before set(): the wait sleeps from its first step.
  const waiting = event.wait({ timeout: 10_000 });
  event.set();
  event.clear();
  // It looked at the flag only, found it cleared, and slept to its timeout (false).
  assert.equal(await waiting, true);
  assert.equal(await event.wait({ timeout: 0 }), false);
});

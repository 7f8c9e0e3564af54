import assert from "node:assert/strict";
import { InvalidStateError, Lock, TimeoutError, WorkerCrashedError } from "../../mod.ts";
import { countUnderLock, holdLockAndExit, logUnderLock, tryLock } from "../fixtures/sync_tasks.ts";
import { syncPool, until } from "./_helpers.ts";

Deno.test("Lock.acquire() excludes: the second waits until the first is released", async () => {
  const lock = new Lock();
  const first = await lock.acquire();
  assert.equal(lock.locked(), true);
  let second = false;
  const waiting = lock.acquire().then((held) => {
    second = true;
    return held;
  });
  await until(() => lock.waiting === 1, "the second caller waits");
  assert.equal(second, false);
  first.release();
  const held = await waiting;
  assert.equal(second, true);
  assert.equal(held.held, true);
  held.release();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock.acquire() serves waiters in FIFO order on the main thread", async () => {
  const lock = new Lock();
  const first = await lock.acquire();
  const order: number[] = [];
  const waiters = [1, 2, 3, 4].map((id) =>
    lock.acquire().then((held) => {
      order.push(id);
      held.release();
    })
  );
  first.release();
  await Promise.all(waiters);
  assert.deepEqual(order, [1, 2, 3, 4]);
});

Deno.test("Lock.acquire() releases with using and await using, also when the body throws", async () => {
  const lock = new Lock();
  {
    using _held = await lock.acquire();
    assert.equal(lock.locked(), true);
  }
  assert.equal(lock.locked(), false);
  await assert.rejects(async () => {
    await using _held = await lock.acquire();
    throw new Error("boom");
  }, /boom/);
  assert.equal(lock.locked(), false);
  assert.equal(await lock.run(() => 7), 7);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock.acquire() rejects with TimeoutError and gives up its place in line", async () => {
  const lock = new Lock();
  const first = await lock.acquire();
  await assert.rejects(lock.acquire({ timeout: 0 }), TimeoutError);
  const late = lock.acquire({ timeout: 20 });
  const after = lock.acquire();
  await assert.rejects(late, TimeoutError);
  first.release();
  // The timed-out ticket is skipped: the next waiter gets the lock.
  (await after).release();
  assert.equal(lock.locked(), false);
  assert.equal(lock.waiting, 0);
  await assert.rejects(lock.acquire({ timeout: -1 }), RangeError);
});

Deno.test("Lock.tryAcquire() takes a free lock only", () => {
  const lock = new Lock();
  const held = lock.tryAcquire();
  assert.ok(held);
  assert.equal(lock.tryAcquire(), undefined);
  held.release();
  assert.throws(() => held.release(), InvalidStateError);
});

Deno.test("Lock.acquireSync() refuses to block the main thread", () => {
  const lock = new Lock();
  assert.throws(() => lock.acquireSync(), (error: unknown) => {
    assert.ok(error instanceof InvalidStateError);
    assert.match(error.message, /main thread.*await lock\.acquire\(\)/);
    return true;
  });
  assert.equal(lock.locked(), false);
});

Deno.test("Lock.from() revives a structured-cloned lock and refuses other values", () => {
  const lock = new Lock();
  assert.equal(Lock.from(lock), lock);
  const copy = Lock.from(structuredClone(lock));
  const held = copy.tryAcquire();
  assert.equal(lock.locked(), true);
  held?.release();
  assert.equal(Lock.from(lock.buffer).locked(), false);
  assert.throws(() => Lock.from({}), TypeError);
  assert.throws(() => Lock.from(new SharedArrayBuffer(4096)), /Cannot revive a Lock/);
});

Deno.test("Lock.forceRelease() hands the lock on; the old holder's release() then throws", async () => {
  const lock = new Lock();
  const stale = await lock.acquire();
  const next = lock.acquire();
  assert.equal(lock.forceRelease(), true);
  const held = await next;
  assert.equal(stale.held, false);
  assert.throws(() => stale.release(), /forceRelease/);
  assert.equal(held.held, true, "a stale release() must not release the new holder");
  held.release();
  assert.equal(lock.forceRelease(), false);
});

Deno.test("Lock keeps a counter exact across 4 workers, blocking and async forms", async () => {
  await using pool = syncPool(4);
  for (const blocking of [true, false]) {
    const lock = new Lock();
    const cells = new Int32Array(new SharedArrayBuffer(4));
    const tasks = [0, 1, 2, 3].map(() => pool.submit(countUnderLock, lock, cells, 2000, blocking));
    await Promise.all(tasks);
    assert.equal(cells[0], 8000);
    assert.equal(lock.locked(), false);
  }
});

Deno.test("Lock.acquireSync() serves waiting workers in FIFO order", async () => {
  await using pool = syncPool(4);
  const lock = new Lock();
  const log = new Int32Array(new SharedArrayBuffer(4 * 8));
  const first = await lock.acquire();
  const tasks = [];
  for (const id of [1, 2, 3, 4]) {
    tasks.push(pool.submit(logUnderLock, lock, log, id));
    await until(() => lock.waiting === id, `worker ${id} waits`);
  }
  first.release();
  await Promise.all(tasks);
  assert.deepEqual([...log.subarray(1, 5)], [1, 2, 3, 4]);
});

Deno.test("Lock.acquireSync() times out in a worker while the main thread holds the lock", async () => {
  await using pool = syncPool(1);
  const lock = new Lock();
  const held = await lock.acquire();
  assert.equal(await pool.submit(tryLock, lock, 20), "TimeoutError");
  held.release();
  assert.equal(await pool.submit(tryLock, lock, 5000), "acquired");
});

Deno.test("Lock held by a worker that dies: waiters time out until forceRelease() hands it on", async () => {
  await using pool = syncPool(2);
  const lock = new Lock();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const dying = pool.submit(holdLockAndExit, lock, cells);
  const error = await dying.exception();
  assert.ok(error instanceof WorkerCrashedError);
  assert.equal(Atomics.load(cells, 0), 1, "the worker held the lock when it died");
  assert.equal(lock.locked(), true, "nothing can tell that the holder is gone");
  // A worker waiting in line, and the main thread with a timeout.
  const waiter = pool.submit(tryLock, lock, 10_000);
  await until(() => lock.waiting === 1, "a worker waits for the dead holder's lock");
  await assert.rejects(lock.acquire({ timeout: 10 }), TimeoutError);
  assert.equal(lock.forceRelease(), true);
  assert.equal(await waiter, "acquired");
  (await lock.acquire({ timeout: 5000 })).release();
});

Deno.test("a caller that times out again and again never fills the line of a Lock, Semaphore or Condition", async () => {
  const { Condition, Semaphore, TimeoutError } = await import("../../mod.ts");
  const lock = new Lock();
  const held = await lock.acquire();
  const semaphore = new Semaphore(1);
  const permit = await semaphore.acquire();
  // Past 1024 tries each threw RangeError ("1024 callers are waiting already"): a try that timed
  // out kept its place until a release.
  for (let i = 0; i < 2_000; i++) {
    await assert.rejects(lock.acquire({ timeout: 0 }), TimeoutError);
    await assert.rejects(semaphore.acquire({ timeout: 0 }), TimeoutError);
  }
  assert.equal(lock.waiting, 0);
  assert.equal(semaphore.waiting, 0);
  held.release();
  permit.release();
  assert.equal(lock.locked(), false);
  assert.equal(semaphore.value, 1);
  // The usual polling loop on a condition that nobody notifies.
  const condition = new Condition();
  const guard = await condition.acquire();
  for (let i = 0; i < 2_000; i++) assert.equal(await condition.wait(guard, { timeout: 0 }), false);
  guard.release();
});

Deno.test("Lock.waiting counts the callers that still wait, not those that gave up", async () => {
  const lock = new Lock();
  const held = await lock.acquire();
  const first = lock.acquire();
  const gaveUp = lock.acquire({ timeout: 1 });
  const last = lock.acquire();
  await assert.rejects(gaveUp);
  // Between two live waiters, its ticket stays in line until a release passes over it.
  assert.equal(lock.waiting, 2);
  held.release();
  (await first).release();
  (await last).release();
  assert.equal(lock.locked(), false);
});

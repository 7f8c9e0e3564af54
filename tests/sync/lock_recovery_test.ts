import assert from "node:assert/strict";
import { Event, Lock, TimeoutError, WorkerCrashedError } from "../../mod.ts";
import {
  holdLockAndExit,
  holdLockForever,
  holdLockUntil,
  tryLock,
  tryLockAsync,
} from "../fixtures/sync_tasks.ts";
import { syncPool, until } from "./_helpers.ts";

/**
 * Stops a running task as its timeout would. A `timeout` option starts its timer as the task is
 * sent, and on a loaded machine it may fire before the worker started the task, which then never
 * runs; these tests stop a task seen running instead. A signal aborted with a TimeoutError takes
 * the pool's path for a timeout: the same abort of the job, with the same reason.
 */
function stopAtTimeout(controller: AbortController): void {
  controller.abort(new TimeoutError("stopped by the test, as at a task timeout"));
}

Deno.test("Lock.acquire() takes the lock back from a worker that died holding it", async () => {
  await using pool = syncPool(1);
  const lock = new Lock();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  assert.ok(
    (await pool.submit(holdLockAndExit, lock, cells).exception()) instanceof WorkerCrashedError,
  );
  assert.equal(lock.locked(), true);
  const held = await lock.acquire({ timeout: 10_000 });
  assert.equal(held.abandoned, true, "the new holder is told");
  held.release();
  const next = await lock.acquire();
  assert.equal(next.abandoned, false);
  next.release();
});

Deno.test("Lock.acquire() takes the lock back from a worker the pool stopped at a task timeout", async () => {
  await using pool = syncPool(1);
  const lock = new Lock();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const controller = new AbortController();
  const stuck = pool.with({ signal: controller.signal }).submit(holdLockForever, lock, cells);
  await until(() => Atomics.load(cells, 0) === 1, "the task holds the lock");
  stopAtTimeout(controller);
  assert.ok((await stuck.exception()) instanceof TimeoutError);
  const held = await lock.acquire({ timeout: 10_000 });
  assert.equal(held.abandoned, true);
  held.release();
});

Deno.test("Lock.recover() leaves a live holder alone, in a worker or on the main thread", async () => {
  await using pool = syncPool(2);
  const lock = new Lock();
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const holding = pool.submit(holdLockUntil, lock, go, cells);
  await until(() => Atomics.load(cells, 0) === 1, "a worker holds the lock");
  assert.equal(await lock.recover(), false);
  // Long enough for a few liveness checks: the holder is alive, so the lock stays with it.
  await assert.rejects(lock.acquire({ timeout: 350 }), TimeoutError);
  go.set();
  await holding;
  const mine = await lock.acquire();
  assert.equal(mine.abandoned, false);
  assert.equal(await lock.recover(), false);
  assert.equal(await pool.submit(tryLockAsync, lock, 350), "TimeoutError");
  mine.release();
  assert.equal(await pool.submit(tryLockAsync, lock, 5000), "acquired");
});

Deno.test("Lock.recover() lets a blocking waiter in once the holder's worker has died", async () => {
  await using pool = syncPool(2);
  const lock = new Lock();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  assert.ok(
    (await pool.submit(holdLockAndExit, lock, cells).exception()) instanceof WorkerCrashedError,
  );
  const waiter = pool.submit(tryLock, lock, 10_000);
  await until(() => lock.waiting === 1, "a worker blocks on the lock");
  assert.equal(await lock.recover(), true);
  assert.equal(await waiter, "acquired");
  assert.equal(await lock.recover(), false, "nothing to take back any more");
});

Deno.test("a task stopped at its timeout while blocked in acquireSync() never takes the lock after", async () => {
  const { countUnderLockOnce } = await import("../fixtures/sync_tasks.ts");
  const lock = new Lock();
  const held = await lock.acquire();
  await using pool = syncPool(1);
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const stopped = pool.with({ signal: controller.signal }).submit(countUnderLockOnce, lock, cells);
  await until(() => lock.waiting === 1, "the task waits for the lock");
  stopAtTimeout(controller);
  assert.ok((await stopped.exception()) instanceof TimeoutError);
  assert.equal(Atomics.load(cells, 0), 1, "it was waiting for the lock");
  // Its thread sleeps in Atomics.wait(), which nothing interrupts: on the release it woke, took
  // the lock and ran the critical section of a task already reported stopped.
  held.release();
  (await lock.acquire({ timeout: 10_000 })).release();
  assert.equal(Atomics.load(cells, 1), 0);
});

Deno.test("a worker ended while blocked in acquireSync() never takes the lock after", async () => {
  const { countUnderLockLater } = await import("../fixtures/sync_tasks.ts");
  const lock = new Lock();
  const held = await lock.acquire();
  await using pool = syncPool(1);
  const cells = new Int32Array(new SharedArrayBuffer(8));
  const controller = new AbortController();
  const stopped = pool.with({ signal: controller.signal }).submit(countUnderLockLater, lock, cells);
  await until(() => lock.waiting === 1, "the task waits for the lock");
  stopAtTimeout(controller);
  assert.ok((await stopped.exception()) instanceof TimeoutError);
  // Past the pool's grace for a stopped task, the worker, which answers no ping, is ended.
  assert.equal(pool.stats().workers.retiring, 1);
  await until(() => pool.stats().workers.retiring === 0, "the worker is ended");
  // Deno's terminate() does not stop a thread asleep in Atomics.wait(): it woke on the release
  // and ran the critical section.
  held.release();
  (await lock.acquire({ timeout: 10_000 })).release();
  assert.equal(Atomics.load(cells, 0), 1, "it was waiting for the lock");
  assert.equal(Atomics.load(cells, 1), 0);
});

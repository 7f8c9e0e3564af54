import assert from "node:assert/strict";
import { Condition, Event, Lock, Semaphore, WorkerCrashedError } from "../../mod.ts";
import {
  tryLock,
  waitConditionThenExit,
  waitLockThenExit,
  waitPermitThenExit,
} from "../fixtures/sync_tasks.ts";
import { syncPool, until, untilAsync } from "./_helpers.ts";

/** Has a worker of `pool` wait for a permit of `semaphore`, then die while it waits. */
async function waiterDies(pool: ReturnType<typeof syncPool>, semaphore: Semaphore): Promise<void> {
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const dying = pool.submit(waitPermitThenExit, semaphore, cells, go);
  await until(() => semaphore.waiting === 1, "a worker waits for a permit");
  go.set();
  await dying.exception();
}

Deno.test("Lock.acquire() gets past a waiter whose worker died while it waited", async () => {
  await using pool = syncPool(1);
  const lock = new Lock();
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const held = await lock.acquire();
  const dying = pool.submit(waitLockThenExit, lock, cells, go);
  await until(() => lock.waiting === 1, "a worker waits for the lock");
  go.set();
  assert.ok((await dying.exception()) instanceof WorkerCrashedError);
  held.release();
  const next = await lock.acquire({ timeout: 10_000 });
  assert.equal(next.abandoned, false, "the dead waiter never held it");
  next.release();
  assert.equal(lock.waiting, 0);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock.recover() gives up the place of a waiter whose worker the pool stopped", async () => {
  await using pool = syncPool(1);
  const lock = new Lock();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const held = await lock.acquire();
  const stop = new AbortController();
  const stopped = pool.with({ signal: stop.signal }).submit(waitLockThenExit, lock, cells);
  await until(() => lock.waiting === 1, "a worker waits for the lock");
  stop.abort();
  await stopped.exception();
  // The pool ends the stopped task's worker (after a grace period); from then on its place in
  // line can be given up.
  await untilAsync(() => lock.recover(), "the stopped worker's place is given up");
  held.release();
  (await lock.acquire({ timeout: 10_000 })).release();
  assert.equal(lock.waiting, 0);
  assert.equal(lock.locked(), false);
});

Deno.test("Lock.recover() gives up a dead waiter's place for blocking waiters behind it", async () => {
  await using pool = syncPool(2);
  const lock = new Lock();
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const held = await lock.acquire();
  const dying = pool.submit(waitLockThenExit, lock, cells, go);
  await until(() => lock.waiting === 1, "a worker waits for the lock");
  const blocked = pool.submit(tryLock, lock, 10_000);
  await until(() => lock.waiting === 2, "a second worker blocks behind it");
  go.set();
  await dying.exception();
  await untilAsync(() => lock.recover(), "the dead waiter's place is given up");
  assert.equal(await lock.recover(), false, "nothing left to recover");
  held.release();
  assert.equal(await blocked, "acquired");
  assert.equal(lock.waiting, 0);
  assert.equal(lock.locked(), false);
});

Deno.test("Semaphore.acquire() gets past a waiter whose worker died while it waited", async () => {
  await using pool = syncPool(1);
  const semaphore = new Semaphore(1);
  const permit = await semaphore.acquire();
  await waiterDies(pool, semaphore);
  permit.release();
  (await semaphore.acquire({ timeout: 10_000 })).release();
  assert.equal(semaphore.waiting, 0);
  assert.equal(semaphore.value, 1);
  assert.equal(await semaphore.recover(), 0);
});

Deno.test("Semaphore.recover() gives up the place of a waiter whose worker died", async () => {
  await using pool = syncPool(1);
  const semaphore = new Semaphore(0);
  await waiterDies(pool, semaphore);
  await untilAsync(async () => (await semaphore.recover()) === 1, "its place is given up");
  assert.equal(await semaphore.recover(), 0, "nothing left to recover");
  semaphore.release();
  assert.equal(semaphore.waiting, 0);
  assert.equal(semaphore.value, 1, "the permit passed over the dead waiter");
});

Deno.test("Semaphore.recover() gives back a dead waiter's permit after a release() beyond those taken", async () => {
  // A Semaphore(1) used as a signal: the extra release() moves the line past the dead waiter's
  // admitted ticket, and the permit it never took must still come back.
  await using pool = syncPool(1);
  const semaphore = new Semaphore(1);
  const permit = await semaphore.acquire();
  await waiterDies(pool, semaphore);
  permit.release();
  semaphore.release();
  await untilAsync(async () => (await semaphore.recover()) === 1, "its place is given up");
  assert.equal(semaphore.value, 2, "the permit it was admitted to came back");
});

Deno.test("Condition.wait() of a worker that died taking the lock back does not strand the lock", async () => {
  await using pool = syncPool(1);
  const condition = new Condition();
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const dying = pool.submit(waitConditionThenExit, condition, cells, go);
  await until(() => Atomics.load(cells, 0) === 1, "a worker waits on the condition");
  {
    await using _held = await condition.acquire();
    assert.equal(condition.notify(), 1);
    await until(() => condition.lock.waiting === 1, "the woken worker waits for the lock");
    go.set();
    await dying.exception();
  }
  (await condition.acquire({ timeout: 10_000 })).release();
  assert.equal(condition.lock.waiting, 0);
  assert.equal(condition.lock.locked(), false);
});

import assert from "node:assert/strict";
import { Condition, Event, InvalidStateError, Lock } from "../../mod.ts";
import {
  holdLockUntil,
  waitConditionAsync,
  waitConditionThenExit,
} from "../fixtures/sync_tasks.ts";
import { syncPool, until, untilAsync } from "./_helpers.ts";

Deno.test("Condition.notify() skips a waiter whose worker died and wakes the live one behind it", async () => {
  await using pool = syncPool(2);
  const condition = new Condition();
  const go = new Event();
  const dead = new Int32Array(new SharedArrayBuffer(4));
  const live = new Int32Array(new SharedArrayBuffer(4));
  const marker = new Lock();
  const dying = pool.submit(waitConditionThenExit, condition, dead, go, marker);
  await until(() => Atomics.load(dead, 0) === 1, "the first worker waits on the condition");
  const waiter = pool.submit(waitConditionAsync, condition, live, 10_000);
  await until(() => Atomics.load(live, 0) === 1, "the second worker waits behind it");
  go.set();
  await dying.exception();
  // Deno lets go of a dead worker's Web Locks a moment after the pool sees it end; the marker
  // lock it held tells when that has happened.
  await untilAsync(() => marker.recover(), "the first worker is gone");
  await using held = await condition.acquire();
  const woken = condition.notify(1);
  held.release();
  assert.equal(woken, 1);
  assert.equal(await waiter, true, "the live waiter was notified");
});

Deno.test("Condition.notify() throws InvalidStateError on a thread that does not hold the lock", async () => {
  await using pool = syncPool(1);
  const condition = new Condition();
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const holding = pool.submit(holdLockUntil, condition.lock, go, cells);
  await until(() => Atomics.load(cells, 0) === 1, "a worker holds the condition's lock");
  try {
    assert.throws(() => condition.notify(), InvalidStateError);
    assert.throws(() => condition.notifyAll(), InvalidStateError);
  } finally {
    go.set();
    await holding;
  }
  assert.throws(() => condition.notify(), InvalidStateError, "nobody holds it");
  const held = await condition.acquire();
  assert.equal(condition.notify(), 0);
  held.release();
});

import assert from "node:assert/strict";
import {
  Barrier,
  Condition,
  Event,
  Lock,
  Semaphore,
  SharedQueue,
  TimeoutError,
} from "../../mod.ts";

/**
 * How many `Atomics.waitAsync()` registrations are pending on a primitive's memory: `notify()`
 * wakes them all and says how many it woke (every loop around a wait checks its condition again,
 * so the wake-up does no harm).
 */
function pendingWaits(buffer: SharedArrayBuffer): number {
  const i32 = new Int32Array(buffer, 0, buffer.byteLength >> 2);
  let n = 0;
  for (let i = 0; i < i32.length; i++) n += Atomics.notify(i32, i);
  return n;
}

Deno.test("Lock.acquire() leaves no Atomics.waitAsync registration behind once it times out", async () => {
  const lock = new Lock();
  const held = await lock.acquire();
  // Longer than a few of the waiter's 100 ms checks for a dead holder: each one waited anew.
  await assert.rejects(lock.acquire({ timeout: 350 }), TimeoutError);
  assert.equal(pendingWaits(lock.buffer), 0);
  held.release();
});

Deno.test("Semaphore.acquire() leaves no Atomics.waitAsync registration behind once it times out", async () => {
  const semaphore = new Semaphore(0);
  await assert.rejects(semaphore.acquire({ timeout: 250 }), TimeoutError);
  assert.equal(pendingWaits(semaphore.buffer), 0);
});

Deno.test("Event.wait(), Barrier.wait() and Condition.wait() leave no registration behind on timeout", async () => {
  const event = new Event();
  for (let i = 0; i < 3; i++) assert.equal(await event.wait({ timeout: 1 }), false);
  assert.equal(pendingWaits(event.buffer), 0);
  const barrier = new Barrier(2);
  await assert.rejects(barrier.wait({ timeout: 1 }));
  assert.equal(pendingWaits(barrier.buffer), 0);
  const condition = new Condition();
  const held = await condition.acquire();
  assert.equal(await condition.wait(held, { timeout: 1 }), false);
  held.release();
  assert.equal(pendingWaits(condition.buffer), 0);
  assert.equal(pendingWaits(condition.lock.buffer), 0);
});

Deno.test("SharedQueue.get() and put() leave no registration behind on timeout", async () => {
  const queue = new SharedQueue({ maxItems: 1 });
  await assert.rejects(queue.get({ timeout: 1 }), TimeoutError);
  await queue.put(1);
  await assert.rejects(queue.put(2, { timeout: 1 }), TimeoutError);
  assert.equal(pendingWaits(queue.buffer), 0);
});

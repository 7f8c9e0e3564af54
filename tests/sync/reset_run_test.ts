import assert from "node:assert/strict";
import { Barrier, BrokenBarrierError, Semaphore, TimeoutError } from "../../mod.ts";

Deno.test("Semaphore.run() holds a permit while fn runs and gives it back however fn ends", async () => {
  const slots = new Semaphore(1);
  const gate = Promise.withResolvers<void>();
  const first = slots.run(() => gate.promise.then(() => "first"));
  assert.equal(slots.value, 0);
  await assert.rejects(slots.run(() => "never", { timeout: 0 }), TimeoutError);
  gate.resolve();
  assert.equal(await first, "first");
  assert.equal(slots.value, 1);
  await assert.rejects(
    slots.run(() => {
      throw new Error("boom");
    }),
    /boom/,
  );
  assert.equal(slots.value, 1, "a throwing fn gives its permit back");
});

Deno.test("Barrier.reset() makes its waiters throw BrokenBarrierError and leaves it whole", async () => {
  const barrier = new Barrier(3);
  const waiters = [barrier.wait(), barrier.wait()];
  assert.equal(barrier.waiting, 2);
  barrier.reset();
  for (const waiter of waiters) await assert.rejects(waiter, BrokenBarrierError);
  assert.equal(barrier.broken, false);
  assert.equal(barrier.waiting, 0);
  const round = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
  assert.deepEqual(round.sort(), [0, 1, 2]);
});

Deno.test("Barrier.reset() mends a broken barrier, and a caller arriving during it waits for the next round", async () => {
  const barrier = new Barrier(2);
  barrier.abort();
  assert.equal(barrier.broken, true);
  barrier.reset();
  assert.equal(barrier.broken, false);
  const waiter = barrier.wait();
  barrier.reset();
  // The reset is not over until `waiter` has left: this caller waits for the fresh round.
  const newcomer = barrier.wait();
  await assert.rejects(waiter, BrokenBarrierError);
  const partner = barrier.wait();
  assert.deepEqual([await newcomer, await partner].sort(), [0, 1]);
});

import assert from "node:assert/strict";
import { Event, InvalidStateError, Lock } from "../../mod.ts";
import { holdLockUntil } from "../fixtures/sync_tasks.ts";
import { syncPool, until } from "./_helpers.ts";

Deno.test("Lock.release() releases this thread's hold, as Python's lock.release() does", async () => {
  const lock = new Lock();
  const guard = await lock.acquire();
  const next = lock.acquire();
  lock.release();
  assert.equal(guard.held, false);
  const held = await next;
  assert.equal(held.held, true);
  assert.throws(() => guard.release(), /lock\.release\(\)/);
  guard[Symbol.dispose](); // the hold is over: `using` does nothing more
  assert.equal(held.held, true, "the old guard leaves the new hold alone");
  lock.release();
  assert.equal(lock.locked(), false);
  assert.throws(() => lock.release(), InvalidStateError);
  held[Symbol.dispose]();
  assert.equal(lock.locked(), false);
});

Deno.test("Lock.release() refuses a hold of another worker", async () => {
  await using pool = syncPool(1);
  const lock = new Lock();
  const go = new Event();
  const cells = new Int32Array(new SharedArrayBuffer(4));
  const holding = pool.submit(holdLockUntil, lock, go, cells);
  await until(() => Atomics.load(cells, 0) === 1, "a worker holds the lock");
  try {
    assert.throws(() => lock.release(), /this thread does not hold/);
    assert.equal(lock.locked(), true);
  } finally {
    go.set();
    await holding;
  }
  assert.equal(lock.locked(), false);
});

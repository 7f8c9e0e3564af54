import assert from "node:assert/strict";
import { Lock, SharedQueue, spawn } from "../../mod.ts";
import type SyncCounter from "../fixtures/actors/sync_counter.ts";
import { countUnderLock } from "../fixtures/sync_tasks.ts";
import { syncPool } from "./_helpers.ts";

const ACTOR = new URL("../fixtures/actors/sync_counter.ts", import.meta.url);

Deno.test("Lock.from() and SharedQueue.from() revive primitives given to an actor", async () => {
  const lock = new Lock();
  const queue = new SharedQueue<number>({ maxItems: 4 });
  await using actor = await spawn<SyncCounter>(ACTOR, { args: [lock, queue] });
  await using pool = syncPool(1);
  const cells = new Int32Array(new SharedArrayBuffer(4));
  // The actor and a pool worker count under the same lock.
  await Promise.all([
    actor.count(cells, 3000),
    pool.submit(countUnderLock, lock, cells, 3000, true),
  ]);
  assert.equal(cells[0], 6000);
  const drained = actor.drain();
  for (let n = 1; n <= 10; n++) await queue.put(n);
  queue.close();
  assert.equal(await drained, 55);
});

// A task stopped while its synchronous code runs on reaches a lock or a semaphore after the stop:
// it must not take it, blocked or not (a lock free at once was taken).
import assert from "node:assert/strict";
import { Barrier, Event, Lock, Semaphore, SharedQueue, WorkerPoolExecutor } from "../../mod.ts";

const TASKS = new URL("../fixtures/late_lock_tasks.ts", import.meta.url);

/** Waits, without blocking the event loop, until `cells[index]` is no longer 0. */
async function marked(cells: Int32Array, index: number): Promise<number> {
  while (Atomics.load(cells, index) === 0) {
    const waiting = Atomics.waitAsync(cells, index, 0, 30_000);
    if (waiting.async) await waiting.value;
  }
  return Atomics.load(cells, index);
}

for (const kind of ["Lock", "Semaphore", "SharedQueue"] as const) {
  Deno.test(`a task stopped before it reaches a free ${kind} does not take it`, async () => {
    await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
    const { takeAfterStop } = await import("../fixtures/late_lock_tasks.ts");
    const cells = new Int32Array(new SharedArrayBuffer(16));
    const controller = new AbortController();
    const place = kind === "Lock"
      ? new Lock()
      : kind === "Semaphore"
      ? new Semaphore(1)
      : new SharedQueue<string>();
    if (place instanceof SharedQueue) await place.put("the item");
    const stopped = pool.with({ signal: controller.signal }).submit(
      takeAfterStop,
      kind,
      place,
      cells,
    );
    await marked(cells, 0);
    controller.abort(new Error("stopped by the test"));
    await assert.rejects(stopped, /stopped by the test/);
    // Its thread goes on to the lock, free, after the stop.
    Atomics.store(cells, 2, 1);
    Atomics.notify(cells, 2);
    // 2: its acquireSync() threw InvalidStateError (1: it took the lock after its stop).
    assert.equal(await marked(cells, 3), 2);
    assert.equal(Atomics.load(cells, 1), 0);
    // The place it did not take is free for the next.
    if (place instanceof SharedQueue) {
      assert.equal(await place.get({ timeout: 0 }), "the item", "the item was taken");
      return;
    }
    const taken = place.tryAcquire();
    assert(taken, kind === "Lock" ? "the lock stayed taken" : "the permit was kept");
    taken.release();
  });
}

for (const kind of ["Event", "Barrier"] as const) {
  Deno.test(
    `a task stopped while it waits at ${
      kind === "Event" ? "an Event" : "a Barrier"
    } does not go on when the wait ends`,
    async () => {
      await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
      const { waitThenGoOn } = await import("../fixtures/late_lock_tasks.ts");
      const cells = new Int32Array(new SharedArrayBuffer(16));
      const controller = new AbortController();
      const place = kind === "Event" ? new Event() : new Barrier(2);
      const stopped = pool.with({ signal: controller.signal }).submit(
        waitThenGoOn,
        kind,
        place,
        cells,
      );
      await marked(cells, 0);
      // At a barrier, it is stopped once it has arrived (a task stopped before does not arrive).
      while (place instanceof Barrier && place.waiting === 0) {
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      controller.abort(new Error("stopped by the test"));
      await assert.rejects(stopped, /stopped by the test/);
      // The wait ends: the event is set, or the other party arrives (the stopped one counted).
      if (place instanceof Event) place.set();
      else assert.equal(await place.wait({ timeout: 30_000 }), 1);
      // 2: its wait threw InvalidStateError (1: the task went on past it).
      assert.equal(await marked(cells, 3), 2);
    },
  );
}

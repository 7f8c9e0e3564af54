// Work that must not grow with the number of tasks or waiters sharing one signal or one future:
// checked by counting what the library does (listeners it adds, lists it searches), not by timing.

import assert from "node:assert/strict";
import { AsyncPoolExecutor, CancelledError, Future } from "../../mod.ts";
import { removeDoneCallback } from "../../future/_hooks.ts";
import { subscribeAbort, unsubscribeAbort } from "../../future/_abort_registry.ts";
import { captureReportedErrors } from "./_helpers.ts";

const N = 1000;

/** The "abort" listeners added to one signal, counted as they come and go. */
interface ListenerSpy {
  /** Calls to addEventListener("abort", ...). */
  readonly added: number;
  /**
   * The listeners added and not removed: those the signal holds, until it aborts (then each
   * `once` listener leaves without a call to removeEventListener).
   */
  readonly active: number;
  /** The most `active` has been. */
  readonly peak: number;
}

/** Counts the abort listeners of this one signal, by shadowing its two methods. */
function spyListeners(signal: AbortSignal): ListenerSpy {
  const active = new Set<unknown>();
  const spy = { added: 0, active: 0, peak: 0 };
  const update = () => {
    spy.active = active.size;
    spy.peak = Math.max(spy.peak, active.size);
  };
  const add = signal.addEventListener;
  const remove = signal.removeEventListener;
  signal.addEventListener = function (
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ) {
    if (type === "abort") {
      spy.added++;
      active.add(listener);
      update();
    }
    return add.call(this, type, listener, options);
  };
  signal.removeEventListener = function (
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ) {
    if (type === "abort") {
      active.delete(listener);
      update();
    }
    return remove.call(this, type, listener, options);
  };
  return spy;
}

/**
 * A pool of one worker held by a first task until `unblock()`, or until disposed (an assertion
 * that fails must not leave the pool waiting for a task nobody ends).
 */
function blockedPool(): AsyncDisposable & {
  pool: AsyncPoolExecutor;
  unblock(): Promise<unknown>;
} {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const { promise, resolve } = Promise.withResolvers<void>();
  const first = pool.submit(() => promise);
  const unblock = () => (resolve(), first);
  return {
    pool,
    unblock,
    async [Symbol.asyncDispose]() {
      await unblock();
      await pool.shutdown();
    },
  };
}

// --- one listener per signal ---

Deno.test("N tasks sharing one signal add one abort listener, removed once they settle", async () => {
  await using blocked = blockedPool();
  const controller = new AbortController();
  const spy = spyListeners(controller.signal);
  const view = blocked.pool.with({ signal: controller.signal });
  const futures = Array.from({ length: N }, (_, i) => view.submit((x: number) => x * 2, i));
  assert.equal(spy.added, 1);
  assert.equal(spy.active, 1);
  await blocked.unblock();
  assert.deepEqual(await Promise.all(futures), futures.map((_, i) => i * 2));
  assert.equal(spy.added, 1);
  assert.equal(spy.active, 0, "the signal keeps no listener once every task has settled");
});

Deno.test("aborting a signal shared by N queued tasks rejects them all with its reason, in order", async () => {
  await using blocked = blockedPool();
  const controller = new AbortController();
  const view = blocked.pool.with({ signal: controller.signal });
  let ran = 0;
  const futures = Array.from({ length: N }, () => view.submit(() => ran++));
  const order: number[] = [];
  futures.forEach((future, i) => future.addDoneCallback(() => order.push(i)));
  const reason = new Error("stop");
  controller.abort(reason);
  // Settled during abort(), each as its own listener would have, in the order submitted.
  assert.deepEqual(order, futures.map((_, i) => i));
  for (const future of futures) assert.equal(await future.exception(), reason);
  assert.equal(blocked.pool.stats().queued, 0);
  await blocked.unblock();
  assert.equal(ran, 0);
});

Deno.test("a signal shared by tasks that settled and tasks still queued stops only the queued", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const view = pool.with({ signal: controller.signal });
  const done = Array.from({ length: 10 }, (_, i) => view.submit(() => i));
  await Promise.all(done);
  const { promise: blocker, resolve: unblock } = Promise.withResolvers<void>();
  using _ = { [Symbol.dispose]: unblock };
  const first = pool.submit(() => blocker);
  const queued = Array.from({ length: 10 }, (_, i) => view.submit(() => i));
  controller.abort(new Error("stop"));
  for (const [i, future] of done.entries()) assert.equal(await future, i);
  for (const future of queued) assert.equal((await future.exception() as Error).message, "stop");
  unblock();
  await first;
});

Deno.test("map() with a signal gives its N tasks one abort listener, not one each", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 4 });
  const controller = new AbortController();
  const spy = spyListeners(controller.signal);
  const items = Array.from({ length: N }, (_, i) => i);
  const results: number[] = [];
  for await (const value of pool.map((x: number) => x + 1, items, { signal: controller.signal })) {
    results.push(value);
  }
  assert.deepEqual(results, items.map((x) => x + 1));
  // The tasks' and waiters' listener, and the map's own while it waits for an item.
  assert.ok(spy.peak <= 2, `peak ${spy.peak} listeners`);
  assert.equal(spy.active, 0);
});

Deno.test("an already-aborted signal rejects the task at submit and adds no listener", async () => {
  await using pool = new AsyncPoolExecutor();
  const controller = new AbortController();
  const reason = new Error("already");
  controller.abort(reason);
  const spy = spyListeners(controller.signal);
  const futures = Array.from(
    { length: 10 },
    () => pool.with({ signal: controller.signal }).submit(() => 1),
  );
  for (const future of futures) assert.equal(await future.exception(), reason);
  const waiting = new Future<number>().result({ signal: controller.signal });
  await assert.rejects(waiting, (error) => error === reason);
  assert.equal(spy.added, 0);
});

Deno.test("N result({ signal }) waits sharing one signal add one listener, removed once the futures settle", async () => {
  const controller = new AbortController();
  const spy = spyListeners(controller.signal);
  const futures = Array.from({ length: N }, () => new Future<number>());
  const waits = futures.map((future) => future.result({ signal: controller.signal }));
  assert.equal(spy.added, 1);
  futures.forEach((future, i) => future.setResult(i));
  assert.deepEqual(await Promise.all(waits), futures.map((_, i) => i));
  assert.equal(spy.active, 0, "the signal keeps no listener once every wait has ended");
  assert.equal(spy.added, 1);
});

Deno.test("aborting a signal shared by N waits rejects them all, in the order they began", async () => {
  const controller = new AbortController();
  const futures = Array.from({ length: N }, () => new Future<number>());
  const order: number[] = [];
  const reason = new Error("stop");
  // Each rejection queues its reaction as it happens: the reactions run in rejection order.
  const observed = futures.map((future, i) =>
    future.result({ signal: controller.signal }).then(undefined, (error) => {
      assert.equal(error, reason);
      order.push(i);
    })
  );
  controller.abort(reason);
  await Promise.all(observed);
  assert.deepEqual(order, futures.map((_, i) => i));
  for (const future of futures) assert.equal(future.state, "pending");
});

Deno.test("tasks and waits sharing one signal share its one listener", async () => {
  await using blocked = blockedPool();
  const controller = new AbortController();
  const { signal } = controller;
  const spy = spyListeners(signal);
  const view = blocked.pool.with({ signal });
  const pending = new Future<number>();
  const tasks = Array.from({ length: 10 }, (_, i) => view.submit(() => i));
  const waits = tasks.map((task) => pending.result({ signal }).catch(() => task));
  assert.equal(spy.added, 1);
  pending.setResult(-1);
  assert.deepEqual(await Promise.all(waits), tasks.map(() => -1));
  await blocked.unblock();
  await Promise.all(tasks);
  assert.equal(spy.active, 0);
});

Deno.test("aborting a signal shared by tasks and waits stops them all", async () => {
  await using blocked = blockedPool();
  const controller = new AbortController();
  const { signal } = controller;
  const view = blocked.pool.with({ signal });
  const pending = new Future<number>();
  const tasks: Future<number>[] = [];
  const waits: Promise<number>[] = [];
  for (let i = 0; i < 10; i++) {
    tasks.push(view.submit(() => i));
    waits.push(pending.result({ signal }));
    waits.push(tasks[i]!.result({ signal }));
  }
  const reason = new Error("stop");
  controller.abort(reason);
  for (const task of tasks) assert.equal(await task.exception(), reason);
  for (const wait of waits) await assert.rejects(wait, (error) => error === reason);
});

Deno.test("a wait that ends leaves the other waits on the signal subscribed", async () => {
  const controller = new AbortController();
  const futures = [new Future<number>(), new Future<number>(), new Future<number>()];
  const waits = futures.map((future) => future.result({ signal: controller.signal }));
  futures[1]!.setResult(1);
  assert.equal(await waits[1], 1);
  const reason = new Error("stop");
  controller.abort(reason);
  await assert.rejects(waits[0]!, (error) => error === reason);
  await assert.rejects(waits[2]!, (error) => error === reason);
  // The wait gave up; the futures themselves are untouched.
  assert.equal(futures[0]!.state, "pending");
});

// --- the registry itself ---

Deno.test("subscribeAbort(): a handler that throws is reported and the later ones still run", async () => {
  using reported = captureReportedErrors();
  const controller = new AbortController();
  const calls: string[] = [];
  const boom = new Error("boom");
  subscribeAbort(controller.signal, () => calls.push("a"));
  subscribeAbort(controller.signal, () => {
    calls.push("b");
    throw boom;
  });
  subscribeAbort(controller.signal, { signalAborted: () => calls.push("c") });
  controller.abort();
  assert.deepEqual(calls, ["a", "b", "c"]);
  await Promise.resolve();
  assert.deepEqual(reported.errors, [boom]);
});

Deno.test("subscribeAbort(): a handler unsubscribed by an earlier one's effect is not called", () => {
  const controller = new AbortController();
  const calls: string[] = [];
  const second = () => calls.push("second");
  subscribeAbort(controller.signal, () => {
    calls.push("first");
    unsubscribeAbort(controller.signal, second);
  });
  subscribeAbort(controller.signal, second);
  subscribeAbort(controller.signal, () => calls.push("third"));
  controller.abort();
  assert.deepEqual(calls, ["first", "third"]);
});

Deno.test("subscribeAbort(): the same handler twice is called once, as with addEventListener", () => {
  const controller = new AbortController();
  const spy = spyListeners(controller.signal);
  let calls = 0;
  const handler = () => calls++;
  subscribeAbort(controller.signal, handler);
  subscribeAbort(controller.signal, handler);
  unsubscribeAbort(controller.signal, () => {});
  assert.equal(spy.active, 1);
  controller.abort();
  assert.equal(calls, 1);
});

Deno.test("subscribeAbort(): the last to unsubscribe removes the listener; a new one adds it again", () => {
  const controller = new AbortController();
  const spy = spyListeners(controller.signal);
  const handlers = Array.from({ length: 3 }, () => () => {});
  for (const handler of handlers) subscribeAbort(controller.signal, handler);
  for (const handler of handlers) unsubscribeAbort(controller.signal, handler);
  assert.equal(spy.active, 0);
  let called = false;
  subscribeAbort(controller.signal, () => called = true);
  assert.equal(spy.active, 1);
  assert.equal(spy.added, 2);
  controller.abort();
  assert.ok(called);
});

Deno.test("subscribeAbort(): works on a signal that takes no new property", () => {
  const controller = new AbortController();
  // Deno keeps a signal's listeners in a property made by the first addEventListener().
  controller.signal.addEventListener("abort", () => {});
  Object.preventExtensions(controller.signal);
  const calls: number[] = [];
  const handlers = [0, 1, 2].map((i) => () => calls.push(i));
  for (const handler of handlers) subscribeAbort(controller.signal, handler);
  unsubscribeAbort(controller.signal, handlers[1]!);
  controller.abort();
  assert.deepEqual(calls, [0, 2]);
});

// --- removing one of many callbacks ---

/**
 * Counts the calls to `indexOf` and `splice` on arrays of more than `above` elements while `fn`
 * runs (synchronously): a search of a future's list of callbacks.
 */
function countSearches(above: number, fn: () => void): number {
  const { indexOf, splice } = Array.prototype;
  let searches = 0;
  Array.prototype.indexOf = function (this: unknown[], ...args: Parameters<typeof indexOf>) {
    if (this.length > above) searches++;
    return indexOf.apply(this, args);
  };
  Array.prototype.splice = function (this: unknown[], ...args: unknown[]) {
    if (this.length > above) searches++;
    return (splice as (...args: unknown[]) => unknown[]).apply(this, args);
  } as typeof splice;
  try {
    fn();
  } finally {
    Array.prototype.indexOf = indexOf;
    Array.prototype.splice = splice;
  }
  return searches;
}

Deno.test("N waits on one future that give up remove their callbacks without searching the list", async () => {
  const future = new Future<number>();
  const controllers = Array.from({ length: N }, () => new AbortController());
  const waits = controllers.map((controller) =>
    future.result({ signal: controller.signal }).then((value) => value, (error) => error)
  );
  const searches = countSearches(100, () => {
    // In an order that leaves holes everywhere before the list is compacted.
    for (let i = 0; i < N; i += 2) controllers[i]!.abort();
    for (let i = N - 1; i > 0; i -= 2) if (i !== 501) controllers[i]!.abort();
  });
  for (const [i, wait] of waits.entries()) {
    if (i !== 501) assert.ok(await wait instanceof DOMException);
  }
  future.setResult(7);
  assert.equal(await waits[501], 7);
  assert.equal(searches, 0);
});

Deno.test("N dependents of one future, cancelled, remove their callbacks without searching the list", async () => {
  await using pool = new AsyncPoolExecutor();
  const input = new Future<number>();
  const dependents = Array.from({ length: N }, () => pool.submit((x: number) => x + 1, input));
  const searches = countSearches(100, () => {
    for (const [i, dependent] of dependents.entries()) if (i % 10 !== 0) dependent.cancel();
  });
  input.setResult(1);
  for (const [i, dependent] of dependents.entries()) {
    if (i % 10 === 0) assert.equal(await dependent, 2);
    else await assert.rejects(dependent.result(), CancelledError);
  }
  assert.equal(searches, 0);
});

Deno.test("callbacks still run in the order added after many are removed from a long list", () => {
  for (const length of [3, 8, 9, 50, 1000]) {
    const future = new Future<number>();
    const ran: number[] = [];
    const callbacks = Array.from({ length }, (_, i) => () => ran.push(i));
    for (const callback of callbacks) future.addDoneCallback(callback);
    const removed = new Set<number>();
    for (let i = 0; i < length; i++) {
      if (i % 3 !== 1) {
        removeDoneCallback(future, callbacks[i]!);
        removed.add(i);
      }
    }
    // Added after the removals (and after any compaction): they run last.
    future.addDoneCallback(() => ran.push(-1));
    removeDoneCallback(future, callbacks[1]!);
    removed.add(1);
    future.setResult(0);
    const expected = [...callbacks.keys()].filter((i) => !removed.has(i));
    assert.deepEqual(ran, [...expected, -1], `length ${length}`);
  }
});

Deno.test("a callback added twice runs twice, and removing it once leaves the other", () => {
  for (const others of [0, 1, 20]) {
    const future = new Future<number>();
    const ran: string[] = [];
    const twice = () => ran.push("twice");
    future.addDoneCallback(twice);
    for (let i = 0; i < others; i++) future.addDoneCallback(() => ran.push(`other ${i}`));
    future.addDoneCallback(twice);
    future.addDoneCallback(() => ran.push("last"));
    removeDoneCallback(future, twice);
    future.setResult(1);
    const between = Array.from({ length: others }, (_, i) => `other ${i}`);
    assert.deepEqual(ran, [...between, "twice", "last"], `${others} others`);
  }
  const future = new Future<number>();
  let calls = 0;
  const callback = () => calls++;
  future.addDoneCallback(callback);
  future.addDoneCallback(callback);
  future.setResult(1);
  assert.equal(calls, 2);
});

Deno.test("removing a callback never added, or from a done future, changes nothing", () => {
  for (const length of [0, 1, 5, 40]) {
    const future = new Future<number>();
    let calls = 0;
    for (let i = 0; i < length; i++) future.addDoneCallback(() => calls++);
    removeDoneCallback(future, () => {});
    future.setResult(1);
    removeDoneCallback(future, () => {});
    assert.equal(calls, length);
  }
});

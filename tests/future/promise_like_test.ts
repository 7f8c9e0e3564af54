import assert from "node:assert/strict";
import { asCompleted, type Completed, Future } from "../../future/mod.ts";
import { ticks } from "./_helpers.ts";

Deno.test("Future is assignable to Promise<T> and has catch, finally and Symbol.toStringTag", async () => {
  const future = new Future<number>();
  // Type level: compiled by `deno check` / `deno test`.
  const promise: Promise<number> = future;
  const many: Promise<number>[] = [future, Promise.resolve(1)];
  future.setResult(41);
  assert.equal(await promise.then((v) => v + 1), 42);
  assert.deepEqual(await Promise.all(many), [41, 1]);
  assert.equal(Object.prototype.toString.call(future), "[object Future]");
  let finallyRan = false;
  assert.equal(await future.finally(() => finallyRan = true), 41);
  assert(finallyRan);
  const failed = new Future<number>();
  failed.setException(new RangeError("bad"));
  const caught: number | string = await failed.catch((e) => (e as Error).message);
  assert.equal(caught, "bad");
  await assert.rejects(failed.finally(() => {}), RangeError);
});

Deno.test("Future.catch() handles the error: no unhandled rejection", async () => {
  const events: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    events.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    const control = new Error("control");
    void Promise.reject(control);
    await ticks(3);
    assert.deepEqual(events, [control], "the listener sees an unhandled rejection");
    events.length = 0;
    const future = new Future<number>();
    const handled = future.catch(() => 0);
    future.setException(new Error("handled"));
    assert.equal(await handled, 0);
    const unread = new Future<number>();
    unread.setException(new Error("nobody reads it"));
    assert.equal(String(unread), "[object Future]");
    await ticks(5);
    assert.deepEqual(events, []);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
});

Deno.test("asCompleted() with wrap yields { future } records that for-await types as futures", async () => {
  const a = new Future<number>();
  const b = new Future<number>();
  b.setResult(2);
  queueMicrotask(() => a.setResult(1));
  const values: number[] = [];
  for await (const { future } of asCompleted([a, b], { wrap: true })) {
    // `future` is typed Future<number>: `.result()` type-checks (the natural Python port).
    const f: Future<number> = future;
    values.push(await f.result());
  }
  assert.deepEqual(values, [2, 1]);
  const item: Completed<number> | undefined = (await asCompleted([b], { wrap: true }).next()).value;
  assert.equal(item?.future, b);
});

Deno.test("asCompleted() without wrap yields the futures themselves, also to for-await", async () => {
  const a = new Future<number>();
  a.setResult(1);
  for await (const f of asCompleted([a])) {
    // TypeScript types `f` as the awaited value (number); at run time it is the future.
    assert.equal(f as unknown, a);
    assert.equal(await f, 1);
  }
});

// Deno takes a promise that rejected with no handler out of a list with a search once a handler
// comes: made already rejected, the promises of many failed futures collected before they are
// handled (`Promise.allSettled(futures.map((f) => f.result()))`) cost quadratic time.
Deno.test("Future.result() of a failed future rejects a microtask later, so its handler comes first", async () => {
  const error = new RangeError("failed");
  const future = new Future<number>();
  future.setException(error);
  const result = future.result();
  assert.match(Deno.inspect(result), /<pending>/);
  await assert.rejects(result, (e) => e === error);
  const many = Array.from({ length: 3 }, () => {
    const failed = new Future<number>();
    failed.setException(error);
    return failed.result();
  });
  for (const promise of many) assert.match(Deno.inspect(promise), /<pending>/);
  const settled = await Promise.allSettled(many);
  assert.deepEqual(settled.map((s) => s.status), ["rejected", "rejected", "rejected"]);
});

Deno.test("Future.result() of a failed future that nobody handles is still an unhandled rejection", async () => {
  const error = new Error("nobody handles it");
  const { promise: seen, resolve } = Promise.withResolvers<unknown>();
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    resolve(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    const future = new Future<number>();
    future.setException(error);
    void future.result();
    assert.equal(await seen, error);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
});

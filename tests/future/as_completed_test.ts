import assert from "node:assert/strict";
import { asCompleted, Future, TimeoutError } from "../../future/mod.ts";
import { futureIn, sleep, tick, track } from "./_helpers.ts";

/**
 * Collects what `asCompleted` yields until it ends or throws; the error, if any, is returned.
 * It calls `next()` itself: TypeScript types a `for await` variable over futures as their value
 * type (`Awaited<Future<T>>`), although at run time it is the future.
 */
async function drain<T>(
  iterator: AsyncIterator<Future<T>>,
  onYield?: (future: Future<T>) => void,
): Promise<{ yielded: Future<T>[]; error: unknown }> {
  const yielded: Future<T>[] = [];
  try {
    for (let step = await iterator.next(); !step.done; step = await iterator.next()) {
      yielded.push(step.value);
      onYield?.(step.value);
    }
  } catch (error) {
    return { yielded, error };
  }
  return { yielded, error: undefined };
}

Deno.test("asCompleted() yields already-done futures first, then in completion order", async () => {
  const ok = futureIn("succeeded");
  const failed = futureIn("failed");
  const cancelled = futureIn("cancelled");
  const a = futureIn("running");
  const b = futureIn("pending");
  const c = futureIn("running");
  setTimeout(() => {
    c.setResult(3);
    a.setException(new Error("a"));
    b.cancel();
  }, 0);
  const { yielded, error } = await drain(asCompleted([a, ok, b, failed, c, cancelled]));
  assert.equal(error, undefined);
  assert.deepEqual(new Set(yielded.slice(0, 3)), new Set([ok, failed, cancelled]));
  assert.deepEqual(yielded.slice(3), [c, a, b]);
});

Deno.test("asCompleted() yields each future as it completes", async () => {
  const futures = [futureIn("running"), futureIn("running"), futureIn("running")];
  const order = [2, 0, 1];
  let step = 0;
  const complete = () => {
    const next = order[step++];
    if (next !== undefined) queueMicrotask(() => futures[next]!.setResult(next));
  };
  complete();
  const { yielded } = await drain(asCompleted(futures), (future) => {
    assert.equal(futures.filter((f) => f.done()).length, step, "nothing runs ahead");
    assert.equal(future, futures[order[step - 1]!]);
    complete();
  });
  assert.deepEqual(yielded, order.map((i) => futures[i]));
});

Deno.test("asCompleted() yields the Future objects, not their values, failed ones included", async () => {
  const error = new Error("failed");
  const failed = futureIn("failed", error);
  const ok = futureIn("succeeded");
  const failsLater = futureIn("running");
  queueMicrotask(() => failsLater.setException(error));
  const input = new Set([failed, ok, failsLater]);
  const { yielded, error: thrown } = await drain(asCompleted(input));
  assert.equal(thrown, undefined);
  assert.equal(yielded.length, 3);
  for (const future of yielded) {
    assert.ok(future instanceof Future);
    assert.ok(input.has(future));
  }
  assert.equal(await failsLater.exception(), error);

  const iterator = asCompleted([ok]);
  const first = await iterator.next();
  assert.equal(first.done, false);
  assert.equal(first.value, ok);
});

Deno.test("asCompleted() yields duplicates once", async () => {
  const ok = futureIn("succeeded");
  const later = futureIn("running");
  queueMicrotask(() => later.setResult(1));
  const { yielded } = await drain(asCompleted([ok, later, ok, later, later]));
  assert.deepEqual(yielded, [ok, later]);
});

Deno.test("asCompleted() with no futures ends at once", async () => {
  for (const options of [undefined, { timeout: 0 }, { timeout: 60_000 }]) {
    const iterator = asCompleted([], options);
    assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  }
});

Deno.test("asCompleted() in for await gives the futures themselves", async () => {
  const error = new Error("failed");
  const failed = futureIn("failed", error);
  const seen: unknown[] = [];
  for await (const future of asCompleted([failed])) seen.push(future);
  assert.deepEqual(seen, [failed]);
  assert.ok(seen[0] instanceof Future);
});

Deno.test("asCompleted() is its own async iterator", () => {
  const iterator = asCompleted([futureIn("succeeded")]);
  assert.equal(iterator[Symbol.asyncIterator](), iterator);
});

Deno.test("asCompleted() throws TimeoutError 'N (of M) futures unfinished' at timeout 0", async () => {
  const cancelled = futureIn("cancelled");
  const ok = futureIn("succeeded");
  const pending = futureIn("pending");
  const running = futureIn("running");
  const { yielded, error } = await drain(
    asCompleted([cancelled, pending, running, ok], { timeout: 0 }),
  );
  assert.deepEqual(new Set(yielded), new Set([cancelled, ok]));
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.message, "2 (of 4) futures unfinished");
});

Deno.test("asCompleted() throws TimeoutError past a timeout, after yielding what completed", async () => {
  const ok = futureIn("succeeded");
  const soon = futureIn("running");
  const never = futureIn("running");
  const { yielded, error } = await drain(
    asCompleted([ok, soon, never, never, soon], { timeout: 20 }),
    (future) => {
      if (future === ok) queueMicrotask(() => soon.setResult(1));
    },
  );
  assert.deepEqual(yielded, [ok, soon]);
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.message, "1 (of 3) futures unfinished");
});

Deno.test("asCompleted() counts the timeout from the first next(), not from the call", async () => {
  const p = futureIn("running");
  const iterator = asCompleted([p], { timeout: 30 });
  await sleep(60);
  const first = iterator.next();
  queueMicrotask(() => p.setResult(1));
  assert.deepEqual(await first, { done: false, value: p });
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("asCompleted() never cancels anything", async () => {
  const pending = futureIn("pending");
  const running = futureIn("running");
  const { error } = await drain(asCompleted([pending, running], { timeout: 5 }));
  assert.ok(error instanceof TimeoutError);
  assert.equal(error.message, "2 (of 2) futures unfinished");
  assert.equal(pending.state, "pending");
  assert.equal(running.state, "running");
  assert.equal(pending.setRunningOrNotifyCancel(), true);
  pending.setResult(1);
  running.setResult(2);
  assert.equal(await pending, 1);

  const again = futureIn("pending");
  const iterator = asCompleted([again]);
  const waiting = iterator.next();
  await iterator.return!();
  await waiting;
  assert.equal(again.state, "pending");
});

Deno.test("asCompleted() ends after a TimeoutError", async () => {
  const p = futureIn("running");
  const iterator = asCompleted([p], { timeout: 0 });
  await assert.rejects(iterator.next(), TimeoutError);
  p.setResult(1);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("asCompleted() stops on break and leaves no timer", async () => {
  const ok = futureIn("succeeded");
  const p = futureIn("running");
  const yielded: unknown[] = [];
  for await (const future of asCompleted([ok, p], { timeout: 60_000 })) {
    yielded.push(future);
    break;
  }
  assert.deepEqual(yielded, [ok]);

  const q = futureIn("running");
  const r = futureIn("running");
  const seen: unknown[] = [];
  queueMicrotask(() => q.setResult(1));
  for await (const future of asCompleted([q, r], { timeout: 60_000 })) {
    seen.push(future);
    break;
  }
  assert.deepEqual(seen, [q]);
  assert.equal(r.state, "running");
});

Deno.test("asCompleted() return() ends a waiting next() and leaves no timer", async () => {
  const p = futureIn("running");
  const iterator = asCompleted([p], { timeout: 60_000 });
  const waiting = track(iterator.next());
  await tick();
  assert.equal(waiting.settled(), false);
  assert.deepEqual(await iterator.return!(), { done: true, value: undefined });
  assert.deepEqual(await waiting.promise, { done: true, value: undefined });
  p.setResult(1);
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
  assert.equal(p.state, "finished");
});

Deno.test("asCompleted() return() drops futures not yet yielded", async () => {
  const a = futureIn("succeeded");
  const b = futureIn("succeeded");
  const iterator = asCompleted([a, b]);
  assert.deepEqual(await iterator.next(), { done: false, value: a });
  await iterator.return!();
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("asCompleted() answers next() calls made before the previous one settled", async () => {
  const a = futureIn("running");
  const b = futureIn("running");
  const iterator = asCompleted([a, b]);
  const calls = Promise.all([iterator.next(), iterator.next(), iterator.next()]);
  setTimeout(() => {
    a.setResult(1);
    b.setResult(2);
  }, 0);
  assert.deepEqual(await calls, [
    { done: false, value: a },
    { done: false, value: b },
    { done: true, value: undefined },
  ]);
});

Deno.test("asCompleted() keeps waiting with a timeout longer than a timer can hold", async () => {
  const p = futureIn("running");
  const iterator = asCompleted([p], { timeout: 2 ** 31 });
  const waiting = track(iterator.next());
  await sleep(20);
  assert.equal(waiting.settled(), false);
  p.setResult(1);
  assert.deepEqual(await waiting.promise, { done: false, value: p });
  assert.deepEqual(await iterator.next(), { done: true, value: undefined });
});

Deno.test("asCompleted() throws RangeError for a negative timeout", () => {
  assert.throws(
    () => asCompleted([futureIn("running")], { timeout: -1 }),
    (e) => e instanceof RangeError && e.message.includes("'timeout'") && e.message.includes("-1"),
  );
});

Deno.test("asCompleted() yields 200k done futures in completion order", async () => {
  const n = 200_000;
  const futures = Array.from({ length: n }, () => new Future<number>());
  const iterator = asCompleted(futures);
  const first = iterator.next();
  for (let i = n - 1; i >= 0; i--) futures[i]!.setResult(i);
  let expected = n - 1;
  for (let step = await first; !step.done; step = await iterator.next()) {
    if (step.value !== futures[expected]) assert.fail(`got a future out of order at ${expected}`);
    expected--;
  }
  assert.equal(expected, -1);
});

import assert from "node:assert/strict";
import {
  ALL_COMPLETED,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type Future,
  wait,
} from "../../future/mod.ts";
import { futureIn, type Kind, namesOf, sleep, tick, track } from "./_helpers.ts";

const RETURN_WHENS = [FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED] as const;

/** Futures in the given states, and a map from each to its name. */
function named(kinds: Record<string, Kind>) {
  const futures: Record<string, Future<number>> = {};
  const names = new Map<Future<number>, string>();
  for (const [name, kind] of Object.entries(kinds)) {
    const future = futureIn(kind);
    futures[name] = future;
    names.set(future, name);
  }
  const split = (result: { done: Set<Future<number>>; notDone: Set<Future<number>> }) => ({
    done: namesOf(result.done, names),
    notDone: namesOf(result.notDone, names),
  });
  return { f: futures, all: [...names.keys()], split };
}

Deno.test("wait() with ALL_COMPLETED returns at once when all are already done", async () => {
  const { all, split } = named({ ok: "succeeded", failed: "failed", cancelled: "cancelled" });
  const result = await wait(all, { returnWhen: ALL_COMPLETED });
  assert.deepEqual(split(result), { done: ["cancelled", "failed", "ok"], notDone: [] });
});

Deno.test("wait() defaults to ALL_COMPLETED and waits for futures completed later", async () => {
  const { f, all, split } = named({ ok: "succeeded", a: "running", b: "pending" });
  const waiting = track(wait(all));
  f.a!.setException(new Error("a failed"));
  await tick();
  assert.equal(waiting.settled(), false);
  setTimeout(() => f.b!.setResult(2), 0);
  assert.deepEqual(split(await waiting.promise), { done: ["a", "b", "ok"], notDone: [] });
});

Deno.test("wait() with FIRST_COMPLETED returns when one future completes", async () => {
  const { f, all, split } = named({ a: "running", b: "running", c: "pending" });
  const waiting = wait(all, { returnWhen: FIRST_COMPLETED, timeout: 60_000 });
  queueMicrotask(() => f.b!.setResult(1));
  assert.deepEqual(split(await waiting), { done: ["b"], notDone: ["a", "c"] });
});

Deno.test("wait() with FIRST_COMPLETED returns at once when some are already done", async () => {
  const { all, split } = named({ cancelled: "cancelled", ok: "succeeded", p: "running" });
  const result = await wait(all, { returnWhen: FIRST_COMPLETED });
  assert.deepEqual(split(result), { done: ["cancelled", "ok"], notDone: ["p"] });
});

Deno.test("wait() counts a cancelled future as done at once", async () => {
  for (const returnWhen of RETURN_WHENS) {
    const { all, split } = named({ cancelled: "cancelled" });
    assert.deepEqual(split(await wait(all, { returnWhen })), {
      done: ["cancelled"],
      notDone: [],
    });
  }
  const { all, split } = named({ cancelled: "cancelled", p: "pending" });
  assert.deepEqual(split(await wait(all, { returnWhen: FIRST_COMPLETED })), {
    done: ["cancelled"],
    notDone: ["p"],
  });
});

Deno.test("wait() counts a future cancelled later as done", async () => {
  const { f, all, split } = named({ p: "pending", q: "pending" });
  const first = wait(all, { returnWhen: FIRST_COMPLETED });
  const every = wait(all);
  setTimeout(() => {
    f.p!.cancel();
    f.q!.cancel();
  }, 0);
  assert.deepEqual(split(await first), { done: ["p"], notDone: ["q"] });
  assert.deepEqual(split(await every), { done: ["p", "q"], notDone: [] });
});

Deno.test("wait() with FIRST_EXCEPTION returns at the first future that fails", async () => {
  const { f, all, split } = named({ a: "running", b: "running", c: "running" });
  const waiting = track(wait(all, { returnWhen: FIRST_EXCEPTION, timeout: 60_000 }));
  f.a!.setResult(1);
  await tick();
  assert.equal(waiting.settled(), false, "a success does not end FIRST_EXCEPTION");
  setTimeout(() => f.b!.setException(new Error("b failed")), 0);
  assert.deepEqual(split(await waiting.promise), { done: ["a", "b"], notDone: ["c"] });
  assert.equal(f.c!.state, "running");
});

Deno.test("wait() with FIRST_EXCEPTION returns at once when one has already failed", async () => {
  const { all, split } = named({ failed: "failed", p: "running" });
  const result = await wait(all, { returnWhen: FIRST_EXCEPTION });
  assert.deepEqual(split(result), { done: ["failed"], notDone: ["p"] });
});

Deno.test("wait() with FIRST_EXCEPTION does not count a cancelled future as an exception", async () => {
  const { f, all, split } = named({
    ok: "succeeded",
    cancelled: "cancelled",
    later: "pending",
    failing: "running",
    rest: "running",
  });
  const waiting = track(wait(all, { returnWhen: FIRST_EXCEPTION }));
  await tick();
  assert.equal(waiting.settled(), false, "an already-cancelled future is not an exception");
  f.later!.cancel();
  await tick();
  assert.equal(waiting.settled(), false, "a future cancelled later is not an exception");
  queueMicrotask(() => f.failing!.setException(new Error("failed")));
  assert.deepEqual(split(await waiting.promise), {
    done: ["cancelled", "failing", "later", "ok"],
    notDone: ["rest"],
  });
});

Deno.test("wait() with FIRST_EXCEPTION returns when all are done without an error", async () => {
  const { f, all, split } = named({ ok: "succeeded", cancelled: "cancelled", p: "running" });
  const waiting = wait(all, { returnWhen: FIRST_EXCEPTION, timeout: 60_000 });
  setTimeout(() => f.p!.setResult(3), 0);
  assert.deepEqual(split(await waiting), { done: ["cancelled", "ok", "p"], notDone: [] });
});

Deno.test("wait() with a timeout returns what is done and never rejects", async () => {
  for (const returnWhen of RETURN_WHENS) {
    const names: Record<string, Kind> = returnWhen === FIRST_EXCEPTION
      ? { ok: "succeeded", cancelled: "cancelled", p: "running" }
      : { p: "running", q: "pending" };
    const { f, all, split } = named(names);
    const result = await wait(all, { returnWhen, timeout: 10 });
    const expected = returnWhen === FIRST_EXCEPTION
      ? { done: ["cancelled", "ok"], notDone: ["p"] }
      : { done: [], notDone: ["p", "q"] };
    assert.deepEqual(split(result), expected, returnWhen);
    assert.equal(f.p!.state, "running", "the future is untouched");
  }
  const { f, all, split } = named({
    ok: "succeeded",
    failed: "failed",
    cancelled: "cancelled",
    p: "running",
  });
  const result = await wait(all, { timeout: 10 });
  assert.deepEqual(split(result), { done: ["cancelled", "failed", "ok"], notDone: ["p"] });
  f.p!.setResult(1);
});

Deno.test("wait() with timeout 0 returns at once", async () => {
  for (const returnWhen of RETURN_WHENS) {
    const { f, all, split } = named({ ok: "succeeded", p: "running", q: "pending" });
    const result = await wait(all, { returnWhen, timeout: 0 });
    assert.deepEqual(split(result), { done: ["ok"], notDone: ["p", "q"] }, returnWhen);
    assert.equal(f.q!.state, "pending");
  }
});

Deno.test("wait() does not change the returned sets afterwards", async () => {
  const { f, all } = named({ a: "running", b: "running" });
  const waiting = wait(all, { returnWhen: FIRST_COMPLETED });
  queueMicrotask(() => f.a!.setResult(1));
  const { done, notDone } = await waiting;
  f.b!.setResult(2);
  assert.deepEqual([...done], [f.a]);
  assert.deepEqual([...notDone], [f.b]);

  const timedOut = await wait([f.b!, futureIn("running")], { timeout: 1 });
  assert.equal(timedOut.done.size, 1);
  assert.equal(timedOut.notDone.size, 1);
});

Deno.test("wait() counts duplicates once", async () => {
  const ok = futureIn("succeeded");
  const done = await wait([ok, ok, ok]);
  assert.deepEqual([...done.done], [ok]);
  assert.equal(done.notDone.size, 0);

  const p = futureIn("running");
  const waiting = wait([p, p, ok, p, ok]);
  setTimeout(() => p.setResult(1), 0);
  const result = await waiting;
  assert.equal(result.done.size, 2);
  assert.ok(result.done.has(p) && result.done.has(ok));
  assert.equal(result.notDone.size, 0);

  const q = futureIn("running");
  const timedOut = await wait([q, q], { timeout: 0 });
  assert.deepEqual([...timedOut.notDone], [q]);
});

Deno.test("wait() accepts any iterable", async () => {
  const { f, split } = named({ a: "succeeded", b: "failed" });
  function* futures() {
    yield f.a!;
    yield f.b!;
  }
  assert.deepEqual(split(await wait(futures())), { done: ["a", "b"], notDone: [] });
  assert.deepEqual(split(await wait(new Set([f.a!]))), { done: ["a"], notDone: [] });
});

Deno.test("wait() with no futures returns empty sets at once", async () => {
  for (const returnWhen of RETURN_WHENS) {
    for (const timeout of [undefined, 0, 60_000]) {
      const { done, notDone } = await wait(
        [],
        timeout === undefined ? { returnWhen } : {
          returnWhen,
          timeout,
        },
      );
      assert.equal(done.size, 0);
      assert.equal(notDone.size, 0);
    }
  }
});

Deno.test("wait() throws TypeError naming an unknown returnWhen", () => {
  for (const returnWhen of ["SOMETIMES", "first_completed", 1]) {
    assert.throws(
      () => wait([futureIn("succeeded")], { returnWhen: returnWhen as typeof ALL_COMPLETED }),
      (e) =>
        e instanceof TypeError && e.message.includes("'returnWhen'") &&
        e.message.includes(String(returnWhen)),
    );
  }
});

Deno.test("wait() throws RangeError for a negative timeout", () => {
  assert.throws(
    () => wait([futureIn("running")], { timeout: -5 }),
    (e) => e instanceof RangeError && e.message.includes("'timeout'") && e.message.includes("-5"),
  );
  assert.throws(() => wait([], { timeout: Number.NaN }), RangeError);
});

Deno.test("wait() leaves no timer behind when futures complete before the timeout", async () => {
  for (const returnWhen of RETURN_WHENS) {
    const p = futureIn("running");
    const waiting = wait([p], { returnWhen, timeout: 60_000 });
    queueMicrotask(() => p.setException(new Error("done")));
    const { done } = await waiting;
    assert.deepEqual([...done], [p]);
  }
  const ok = futureIn("succeeded");
  await wait([ok, futureIn("running")], { returnWhen: FIRST_COMPLETED, timeout: 60_000 });
  const failed = futureIn("failed");
  await wait([failed, futureIn("running")], { returnWhen: FIRST_EXCEPTION, timeout: 60_000 });
});

Deno.test("wait() keeps waiting with a timeout longer than a timer can hold", async () => {
  const p = futureIn("running");
  const waiting = track(wait([p], { timeout: 2 ** 31 }));
  await sleep(20);
  assert.equal(waiting.settled(), false);
  p.setResult(1);
  const { done } = await waiting.promise;
  assert.deepEqual([...done], [p]);
});

Deno.test("wait() resolves many futures completed in one batch", async () => {
  const futures = Array.from({ length: 100 }, () => futureIn("running"));
  const waiting = wait(futures);
  setTimeout(() => futures.forEach((f, i) => f.setResult(i)), 0);
  const { done, notDone } = await waiting;
  assert.equal(done.size, 100);
  assert.equal(notDone.size, 0);
});

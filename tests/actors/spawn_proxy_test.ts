import assert from "node:assert/strict";
import { proxy, spawn, WorkerCrashedError } from "../../mod.ts";
import type Counter from "../fixtures/actors/counter.ts";
import type Reporter from "../fixtures/actors/reporter.ts";

const REPORTER = new URL("../fixtures/actors/reporter.ts", import.meta.url);

Deno.test("spawn() actors' methods call back a proxy() argument on the caller's side", async () => {
  await using reporter = await spawn<Reporter>(REPORTER);
  const seen: number[] = [];
  const report = proxy((total: number) => {
    seen.push(total);
    return total * 10;
  });
  assert.equal(await reporter.add(2, report), 20);
  assert.equal(await reporter.add(3, report), 50);
  assert.deepEqual(seen, [2, 5]);
});

const COUNTER = new URL("../fixtures/actors/counter.ts", import.meta.url);

/** An argument whose search for proxies throws: structured clone would throw the same. */
function unreadable(): { value: number } {
  return {
    get value(): number {
      throw new Error("getter throws");
    },
  };
}

Deno.test("spawn() a call whose argument cannot be searched for proxies rejects alone", async () => {
  proxy(() => {});
  const counter = await spawn<Counter>(COUNTER);
  await assert.rejects(counter.note(unreadable() as never), new Error("getter throws"));
  // Nested deeper than the search can recurse (refused before it, as too deep for a worker).
  let list: { next: unknown } | null = null;
  for (let i = 0; i < 100_000; i++) list = { next: list };
  await assert.rejects(
    counter.note(list as never),
    (error: unknown) => error instanceof DOMException && error.name === "DataCloneError",
  );
  assert.equal(await counter.increment(), 1);
  // A call that never reached the worker was still counted as in flight: stop() waited forever.
  await counter.stop();
});

Deno.test("spawn() a restarted actor's first batch fails only the call it cannot search for proxies", async () => {
  proxy(() => {});
  await using counter = await spawn<Counter>(COUNTER, {
    args: [100],
    onCrash: "restart",
    restartBackoff: { initial: 1, max: 1 },
  });
  await assert.rejects(counter.crash(9), WorkerCrashedError);
  // Queued during the restart, they go in one batch once the new worker is ready: the search
  // threw there, out of its message handler, and the program ended.
  const calls = [
    counter.increment(),
    counter.note(unreadable() as never),
    counter.increment(),
  ];
  const settled = await Promise.allSettled(calls);
  assert.deepEqual(settled, [
    { status: "fulfilled", value: 101 },
    { status: "rejected", reason: new Error("getter throws") },
    { status: "fulfilled", value: 102 },
  ]);
});

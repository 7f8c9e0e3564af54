// Options written as in Python, or with a wrong type, are refused at the call with what to write.

import assert from "node:assert/strict";
import { asCompleted, AsyncPoolExecutor, Future, setDefaultExecutor, wait } from "../../mod.ts";

function typeError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof TypeError && pattern.test(error.message);
}

Deno.test("Future.result() refuses a bare number: did you mean { timeout: 50 }?", async () => {
  const future = new Future<number>();
  // @ts-expect-error: Python's positional timeout
  await assert.rejects(future.result(50), typeError(/did you mean \{ timeout: 50 \}\?/));
  // @ts-expect-error: Python's positional timeout
  await assert.rejects(future.exception(50), typeError(/did you mean \{ timeout: 50 \}\?/));
});

Deno.test("A value written as Python's positional argument gets a hint only where one is right", async () => {
  const future = new Future<number>();
  await assert.rejects(
    // @ts-expect-error: a string is no timeout, and { timeout: "50" } would be refused too
    future.result("50"),
    (error: unknown) => error instanceof TypeError && !/did you mean/.test(error.message),
  );
  const { Lock } = await import("../../mod.ts");
  const lock = new Lock();
  // Python's acquire(blocking=False) does not wait: { timeout: 0 } here.
  await assert.rejects(
    // @ts-expect-error: Python's positional blocking flag
    lock.acquire(false),
    typeError(/did you mean \{ timeout: 0 \}\?/),
  );
});

Deno.test("Future.result() refuses an unknown key with the closest known one", async () => {
  const future = new Future<number>();
  await assert.rejects(
    // @ts-expect-error: misspelt
    future.result({ timout: 5 }),
    typeError(/'timout' is not an option \(did you mean 'timeout'\?\)/),
  );
});

Deno.test("Future.result() shows a timeout of the wrong type quoted, as a TypeError", async () => {
  const future = new Future<number>();
  await assert.rejects(
    // @ts-expect-error: a string
    future.result({ timeout: "100" }),
    typeError(/'timeout' must be a non-negative number of milliseconds: received "100"$/),
  );
});

Deno.test("wait() refuses a bare number: did you mean { timeout: 50 }?", () => {
  // @ts-expect-error: Python's positional timeout
  assert.throws(() => wait([], 50), typeError(/did you mean \{ timeout: 50 \}\?/));
  assert.throws(
    // @ts-expect-error: Python's keyword
    () => wait([], { return_when: "ALL_COMPLETED" }),
    typeError(/'return_when' is not an option \(did you mean 'returnWhen'\?\)/),
  );
  assert.throws(
    // @ts-expect-error: not a constant
    () => wait([], { returnWhen: "FIRST" }),
    typeError(/received "FIRST"/),
  );
});

Deno.test("asCompleted() refuses a bare number: did you mean { timeout: 50 }?", () => {
  // @ts-expect-error: Python's positional timeout
  assert.throws(() => asCompleted([], 50), typeError(/did you mean \{ timeout: 50 \}\?/));
  assert.throws(
    // @ts-expect-error: misspelt
    () => asCompleted([], { timeOut: 5 }),
    typeError(/did you mean 'timeout'/),
  );
});

Deno.test("Future.result() refuses a signal that is not an AbortSignal, and the future settles later unharmed", async () => {
  const future = new Future<number>();
  await assert.rejects(
    future.result({ signal: {} as AbortSignal, timeout: 10 }),
    typeError(/'signal' must be an AbortSignal/),
  );
  // The refused wait had left a callback that threw when the future settled (an uncaught error).
  future.setResult(2);
  assert.equal(await future.result(), 2);
});

Deno.test("the shared-state primitives refuse a Python-style timeout and misspelt keys", async () => {
  const { Barrier, Condition, Event, Lock, Semaphore, SharedQueue } = await import("../../mod.ts");
  const lock = new Lock();
  const held = await lock.acquire();
  const condition = new Condition();
  const guard = await condition.acquire();
  const semaphore = new Semaphore(0);
  const queue = new SharedQueue();
  // Each of these waited for ever.
  const waits: [string, (options: never) => Promise<unknown>][] = [
    ["Event.wait", (o) => new Event().wait(o)],
    ["Lock.acquire", (o) => lock.acquire(o)],
    ["Semaphore.acquire", (o) => semaphore.acquire(o)],
    ["Condition.wait", (o) => condition.wait(guard, o)],
    ["Barrier.wait", (o) => new Barrier(2).wait(o)],
    ["SharedQueue.get", (o) => queue.get(o)],
  ];
  for (const [name, call] of waits) {
    await assert.rejects(call(50 as never), typeError(/did you mean \{ timeout: 50 \}\?/), name);
    await assert.rejects(
      call({ timout: 50 } as never),
      typeError(/'timout' is not an option \(did you mean 'timeout'\?\)/),
      name,
    );
  }
  assert.throws(() => new SharedQueue(5 as never), typeError(/did you mean \{ maxItems: 5 \}\?/));
  guard.release();
  held.release();
});

Deno.test("SharedQueue.from() refuses a damaged buffer with a TypeError that says so", async () => {
  const { SharedQueue } = await import("../../mod.ts");
  const queue = new SharedQueue({ maxBytes: 64 });
  // Its header without the items that follow it.
  const cut = new SharedArrayBuffer(queue.buffer.byteLength - 64);
  new Uint8Array(cut).set(new Uint8Array(queue.buffer, 0, cut.byteLength));
  assert.throws(() => SharedQueue.from(cut), typeError(/buffer is damaged/));
});

Deno.test("wait() and asCompleted() refuse what is not an iterable of futures, naming it", async () => {
  const { AsyncPoolExecutor } = await import("../../mod.ts");
  // wait(undefined) and asCompleted(null) returned nothing at once; a promise failed deep inside.
  assert.throws(
    () => wait(undefined as never),
    typeError(/'futures' must be an iterable of futures: received undefined/),
  );
  assert.throws(
    () => wait([Promise.resolve(1)] as never),
    typeError(/'futures' must hold only futures: item 0 is a Promise/),
  );
  assert.throws(() => asCompleted(null as never), typeError(/'futures' must be an iterable/));
  assert.throws(
    () => asCompleted([], { wrap: "no" as never }),
    typeError(/'wrap' must be a boolean/),
  );
  // Infinity, the documented default of maxQueued, may be given.
  await using pool = new AsyncPoolExecutor({ maxQueued: Infinity });
  const done = pool.submit(() => 1);
  assert.deepEqual((await wait(new Set([done]))).done, new Set([done]));
});

Deno.test("a value refused as a function, an executor or an iterable is shown in the message, and what refused it named", async () => {
  await using pool = new AsyncPoolExecutor();
  const refused = (call: () => unknown, message: string) =>
    assert.throws(call, (error) => error instanceof TypeError && error.message === message);
  // The messages gave the value's type ("received number"), String() of it ("[object Object]",
  // or a throw for an object without a prototype), or named submit() for map().
  refused(
    () => pool.submit(5 as never),
    "Cannot submit a task as 'fn' must be a function: received 5",
  );
  refused(
    () => new Future().addDoneCallback(5 as never),
    "Cannot add done callback as 'fn' must be a function: received 5",
  );
  refused(
    () => setDefaultExecutor({} as never),
    "Cannot set the default executor as 'executor' must be an Executor: received an object",
  );
  refused(() => pool.map(5 as never, [1]), "Cannot map as 'fn' must be a function: received 5");
  refused(
    () => pool.map((x: number) => x, Object.create(null)),
    "Cannot map as 'items' must be an iterable or an async iterable: received an object",
  );
});

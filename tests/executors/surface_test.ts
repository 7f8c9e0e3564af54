// Edges of the executors' surface: user code that misbehaves in odd ways, nested views, nested
// submits and the checks that catch options written as in Python.

import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  BrokenExecutorError,
  CircuitBreakers,
  TimeoutError as LibraryTimeoutError,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { decodeError, encodeError } from "../../actors/error_codec.ts";

Deno.test("AsyncPoolExecutor.submit() rejects when the task's thenable throws in then()", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const broken = {
    then() {
      throw new Error("then() broke");
    },
  };
  const future = pool.submit(() => broken);
  await assert.rejects(future.result(), /then\(\) broke/);
  // The slot came back: the next task runs.
  assert.equal(await pool.submit(() => 2), 2);
  assert.equal(pool.stats().running, 0);
});

Deno.test("AsyncPoolExecutor.submit() rejects when reading the result's then throws", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const broken = {
    get then() {
      throw new Error("no then");
    },
  };
  await assert.rejects(pool.submit(() => broken).result(), /no then/);
  assert.equal(await pool.submit(() => 3), 3);
});

Deno.test("decodeError() revives only the library's own TimeoutError as the library's", () => {
  class TimeoutError extends Error {
    constructor(message: string) {
      super(message);
      this.name = "TimeoutError";
    }
  }
  const user = decodeError(encodeError(new TimeoutError("mine"))) as Error;
  assert(!(user instanceof LibraryTimeoutError));
  assert.equal(user.name, "TimeoutError");
  assert.equal(user.message, "mine");
  const own = decodeError(encodeError(new LibraryTimeoutError("ours")));
  assert(own instanceof LibraryTimeoutError);
});

Deno.test("WorkerPoolExecutor.submit() does not retry a user class named TimeoutError", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const future = pool.with({ retry: { maxAttempts: 3, backoff: { initial: 0 } } }).submit(() => {
    class TimeoutError extends Error {
      constructor(message: string) {
        super(message);
        this.name = "TimeoutError";
      }
    }
    throw new TimeoutError("a user's timeout");
  });
  const error = await future.exception() as Error;
  assert(!(error instanceof LibraryTimeoutError));
  assert.equal(error.name, "TimeoutError");
  assert.equal(pool.stats().attempts.failed, 1);
});

Deno.test("CircuitBreakers({ maxDomains }) bounds the open circuits too", () => {
  let now = 0;
  const breakers = new CircuitBreakers({
    threshold: 1,
    halfOpenAfter: 60_000,
    maxDomains: 10,
    now: () => now,
  });
  for (let i = 0; i < 5000; i++) {
    now++;
    breakers.enter(`host-${i}.example`).failure(new Error("down"));
  }
  const stats = breakers.stats();
  assert.equal(stats.size, 10);
  // The ones kept are the last opened: the first opened were forgotten first.
  assert.equal(breakers.state("host-4999.example"), "open");
  assert(!stats.has("host-0.example"));
});

Deno.test("CircuitBreakers({ maxDomains }) forgets an idle closed circuit before an open one", () => {
  const breakers = new CircuitBreakers({ threshold: 1, halfOpenAfter: 60_000, maxDomains: 2 });
  breakers.enter("open.example").failure(new Error("down"));
  breakers.enter("closed.example").success();
  breakers.enter("new.example").success();
  assert.deepEqual([...breakers.stats().keys()].sort(), ["new.example", "open.example"]);
});

Deno.test("CircuitBreakers({ maxDomains }) keeps a circuit with a call in flight", () => {
  const breakers = new CircuitBreakers({ threshold: 1, halfOpenAfter: 60_000, maxDomains: 1 });
  const permit = breakers.enter("busy.example");
  breakers.enter("other.example").success();
  assert(breakers.stats().has("busy.example"));
  permit.success();
});

Deno.test("Executor.with() on a view keeps the outer signal: aborting it stops the task", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const view = pool.with({ signal: controller.signal }).with({ timeout: 60_000 });
  const started = Promise.withResolvers<void>();
  const future = view.submit(() => {
    started.resolve();
    return new Promise(() => {});
  });
  await started.promise;
  controller.abort(new Error("outer abort"));
  await assert.rejects(future.result(), /outer abort/);
});

Deno.test("Executor.with() on a view combines both signals and keeps the shorter timeout", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const outer = new AbortController();
  const inner = new AbortController();
  const view = pool.with({ signal: outer.signal }).with({ signal: inner.signal });
  const first = view.submit(() => new Promise(() => {}));
  outer.abort(new Error("outer abort"));
  await assert.rejects(first.result(), /outer abort/);
  const second = pool.with({ signal: new AbortController().signal }).with({
    signal: inner.signal,
  }).submit(() => new Promise(() => {}));
  inner.abort(new Error("inner abort"));
  await assert.rejects(second.result(), /inner abort/);
  // A timeout of 0 from the outer view holds against a longer inner one.
  const quick = pool.with({ timeout: 0 }).with({ timeout: Infinity });
  await assert.rejects(quick.submit(() => new Promise(() => {})).result(), LibraryTimeoutError);
});

Deno.test("Executor.with() on a view: the parent's shutdown cancels the child's futures", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const release = Promise.withResolvers<void>();
  const busy = pool.submit(() => release.promise);
  const parent = pool.with({ timeout: 60_000 });
  const child = parent.with({ retry: { maxAttempts: 2 } });
  const queued = child.submit(() => 1);
  const closing = parent.shutdown({ cancelFutures: true });
  assert(queued.cancelled());
  assert.throws(() => child.submit(() => 2), /after its shutdown/);
  release.resolve();
  await closing;
  await busy;
});

function typeError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof TypeError && pattern.test(error.message);
}

Deno.test("Executor.map() refuses an unknown option with the closest known one", async () => {
  await using pool = new AsyncPoolExecutor();
  assert.throws(
    // @ts-expect-error: misspelt
    () => pool.map((x: number) => x, [1], { chunkSize: 10 }),
    typeError(/'chunkSize' is not an option \(did you mean 'chunksize'\?\)/),
  );
  assert.throws(
    // @ts-expect-error: a bare number
    () => pool.map((x: number) => x, [1], 50),
    typeError(/did you mean \{ timeout: 50 \}\?/),
  );
});

Deno.test("Executor.map() refuses a second iterable (Python's map(f, xs, ys))", async () => {
  await using pool = new AsyncPoolExecutor();
  assert.throws(
    // @ts-expect-error: Python's several iterables
    () => pool.map((x: number, y: number) => x + y, [1, 2], [3, 4]),
    typeError(/map\(\) takes one iterable of items; to map over several, zip them/),
  );
});

Deno.test("Executor.map() refuses buffersize of the wrong type with a TypeError", async () => {
  await using pool = new AsyncPoolExecutor();
  assert.throws(
    // @ts-expect-error: a string
    () => pool.map((x: number) => x, [1], { buffersize: "foo" }),
    typeError(/'buffersize' must be a positive integer: received "foo"/),
  );
  assert.throws(() => pool.map((x: number) => x, [1], { buffersize: 0 }), RangeError);
});

Deno.test("Executor.shutdown() refuses Python's shutdown(False) and snake_case keys", async () => {
  const pool = new AsyncPoolExecutor();
  const view = pool.with({});
  for (const target of [pool, view]) {
    assert.throws(
      // @ts-expect-error: Python's positional wait
      () => target.shutdown(false),
      typeError(/did you mean \{ wait: false \}\?/),
    );
    assert.throws(
      // @ts-expect-error: Python's keyword
      () => target.shutdown({ cancel_futures: true }),
      typeError(/'cancel_futures' is not an option \(did you mean 'cancelFutures'\?\)/),
    );
    assert.throws(
      // @ts-expect-error: a string
      () => target.shutdown({ wait: "no" }),
      typeError(/'wait' must be a boolean: received "no"/),
    );
  }
  // Nothing was shut down by the refused calls.
  assert.equal(await pool.submit(() => 1), 1);
  await pool.shutdown();
});

Deno.test("AsyncPoolExecutor() refuses maxWorkers of the wrong type with a TypeError", () => {
  assert.throws(
    // @ts-expect-error: a string
    () => new AsyncPoolExecutor({ maxWorkers: "4" }),
    typeError(/'maxWorkers' must be a positive integer: received "4"/),
  );
});

Deno.test("AsyncPoolExecutor.submit() in an unload listener throws InvalidStateError", async () => {
  const script = new URL("../fixtures/scripts/submit_on_unload.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  assert.match(
    decoder.decode(stdout),
    /^refused InvalidStateError: Cannot submit a task on AsyncPoolExecutor as the program is exiting/,
  );
});

Deno.test("AsyncPoolExecutor({ initializer }) runs once per slot, before the slot's first task", async () => {
  const calls: string[] = [];
  const ready = Promise.withResolvers<void>();
  await using pool = new AsyncPoolExecutor({
    maxWorkers: 2,
    initializer: async (tag: string) => {
      calls.push(`init ${tag}`);
      await ready.promise;
    },
    initargs: ["x"],
  });
  const release = Promise.withResolvers<void>();
  const tasks = [1, 2, 3, 4].map((i) =>
    pool.submit(async () => {
      calls.push(`task ${i}`);
      await release.promise;
    })
  );
  await Promise.resolve();
  assert.deepEqual(calls, ["init x", "init x"], "two slots start, no task runs before its init");
  ready.resolve();
  release.resolve();
  await Promise.all(tasks);
  assert.equal(calls.filter((c) => c.startsWith("init")).length, 2);
  assert.equal(calls.filter((c) => c.startsWith("task")).length, 4);
});

Deno.test("AsyncPoolExecutor({ initializer }) starts only the slots the work needs", async () => {
  let inits = 0;
  await using pool = new AsyncPoolExecutor({ maxWorkers: 8, initializer: () => inits++ });
  for (let i = 0; i < 5; i++) await pool.submit(() => i);
  assert.equal(inits, 1);
});

Deno.test("AsyncPoolExecutor({ initializer }) that throws breaks the pool", async () => {
  const pool = new AsyncPoolExecutor({
    maxWorkers: 1,
    initializer: () => {
      throw new Error("no connection");
    },
  });
  const future = pool.submit(() => 1);
  const error = await future.exception();
  assert(error instanceof BrokenExecutorError, String(error));
  assert.match(error.message, /initializer .* threw: no connection/);
  assert.throws(() => pool.submit(() => 2), BrokenExecutorError);
  await pool.shutdown();
});

Deno.test("AsyncPoolExecutor({ initializer }) that rejects breaks the pool", async () => {
  const pool = new AsyncPoolExecutor({
    initializer: () => Promise.reject(new Error("later")),
  });
  assert(await pool.submit(() => 1).exception() instanceof BrokenExecutorError);
  await pool.shutdown();
});

Deno.test("AsyncPoolExecutor() refuses an initializer that is not a function", () => {
  assert.throws(
    // @ts-expect-error: not a function
    () => new AsyncPoolExecutor({ initializer: "setup" }),
    typeError(/'initializer' must be a function: received "setup"/),
  );
  assert.throws(
    // @ts-expect-error: not an array
    () => new AsyncPoolExecutor({ initargs: 1 }),
    typeError(/'initargs' must be an array: received 1/),
  );
});

Deno.test("WorkerPoolExecutor() gives the workers of two unnamed pools different names", async () => {
  await using first = new WorkerPoolExecutor({ maxWorkers: 1 });
  await using second = new WorkerPoolExecutor({ maxWorkers: 1 });
  const nameOf = () => (globalThis as unknown as { name: string }).name;
  const [a, b] = await Promise.all([first.submit(nameOf), second.submit(nameOf)]);
  assert.match(a, /^WorkerPoolExecutor-\d+ worker 1$/);
  assert.match(b, /^WorkerPoolExecutor-\d+ worker 1$/);
  assert.notEqual(a, b);
});

Deno.test("WorkerPoolExecutor takes maxTasksPerWorker: Infinity, its documented default, and refuses 0", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, maxTasksPerWorker: Infinity });
  assert.equal(await pool.submit((a: number) => a + 1, 1), 2);
  assert.throws(
    () => new WorkerPoolExecutor({ maxTasksPerWorker: 0 }),
    (error: unknown) => error instanceof RangeError && /'maxTasksPerWorker'/.test(error.message),
  );
});

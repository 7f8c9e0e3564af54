import assert from "node:assert/strict";
import { defaultRetryOn, retryDelay, sleep, validateRetryOptions } from "../../executors/retry.ts";
import { AsyncPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import { CircuitOpenError, TimeoutError, WorkerCrashedError } from "../../future/errors.ts";

Deno.test("retryDelay() grows by the multiplier and stops at the cap", () => {
  const backoff = {
    initial: 100,
    max: 1_000,
    multiplier: 3,
    jitter: "none" as const,
  };
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((attempt) => retryDelay(attempt, backoff)),
    [100, 300, 900, 1_000, 1_000],
  );
  assert.equal(retryDelay(5_000, backoff), 1_000);
});

Deno.test("retryDelay() defaults to 100 ms doubling up to 10 s with full jitter", () => {
  const top = () => 1 - Number.EPSILON;
  assert.ok(Math.abs(retryDelay(1, undefined, top) - 100) < 1e-9);
  assert.ok(Math.abs(retryDelay(3, {}, top) - 400) < 1e-9);
  assert.ok(Math.abs(retryDelay(20, {}, top) - 10_000) < 1e-9);
  assert.equal(retryDelay(3, {}, () => 0), 0);
  assert.equal(retryDelay(3, {}, () => 0.5), 200);
});

Deno.test("retryDelay() with full jitter stays within [0, capped delay)", () => {
  for (let attempt = 1; attempt <= 12; attempt++) {
    const cap = Math.min(2_000, 50 * 2 ** (attempt - 1));
    for (let i = 0; i < 50; i++) {
      const delay = retryDelay(attempt, { initial: 50, max: 2_000 });
      assert.ok(delay >= 0 && delay < cap, `${delay} for attempt ${attempt}`);
    }
  }
});

Deno.test("retryDelay() is 0 with an initial delay of 0, even past overflow", () => {
  const backoff = { initial: 0, multiplier: 10, jitter: "none" as const };
  assert.equal(retryDelay(1_000, backoff), 0);
});

Deno.test("defaultRetryOn() retries only WorkerCrashedError and TimeoutError", () => {
  assert.equal(defaultRetryOn(new WorkerCrashedError()), true);
  assert.equal(defaultRetryOn(new TimeoutError()), true);
  assert.equal(defaultRetryOn(new Error("task threw")), false);
  assert.equal(defaultRetryOn(new CircuitOpenError("a", 1)), false);
  assert.equal(defaultRetryOn("a string"), false);
});

Deno.test("validateRetryOptions() returns a copy of valid options", () => {
  const retryOn = () => true;
  const input = {
    maxAttempts: 3,
    backoff: { initial: 0, max: 50, multiplier: 1, jitter: "none" as const },
    retryOn,
  };
  const options = validateRetryOptions(input);
  assert.deepEqual(options, input);
  input.backoff.max = 1;
  assert.equal(options.backoff?.max, 50);
  assert.deepEqual(validateRetryOptions({ maxAttempts: 1 }), {
    maxAttempts: 1,
  });
});

Deno.test("validateRetryOptions() names the option and the value it rejects", () => {
  const cases: [unknown, ErrorConstructor, string][] = [
    [null, TypeError, "'retry' must be an object: received null"],
    [
      {},
      TypeError,
      "'retry.maxAttempts' must be a positive integer: received undefined",
    ],
    [
      { maxAttempts: 0 },
      RangeError,
      "'retry.maxAttempts' must be a positive integer: received 0",
    ],
    [
      { maxAttempts: 1.5 },
      RangeError,
      "'retry.maxAttempts' must be a positive integer: received 1.5",
    ],
    [
      { maxAttempts: "3" },
      TypeError,
      `'retry.maxAttempts' must be a positive integer: received "3"`,
    ],
    [
      { maxAttempts: 2, retryOn: true },
      TypeError,
      "'retry.retryOn' must be a function: received true",
    ],
    [
      { maxAttempts: 2, backoff: 5 },
      TypeError,
      "'retry.backoff' must be an object: received 5",
    ],
    [
      { maxAttempts: 2, backoff: { initial: -1 } },
      RangeError,
      "'retry.backoff.initial' must be a non-negative finite number: received -1",
    ],
    [
      { maxAttempts: 2, backoff: { max: Infinity } },
      RangeError,
      "'retry.backoff.max' must be a non-negative finite number: received Infinity",
    ],
    [
      { maxAttempts: 2, backoff: { multiplier: 0.5 } },
      RangeError,
      "'retry.backoff.multiplier' must be a finite number of at least 1: received 0.5",
    ],
    [
      { maxAttempts: 2, backoff: { jitter: "half" } },
      TypeError,
      `'retry.backoff.jitter' must be "full", "none" or a finite number >= 0: received "half"`,
    ],
  ];
  for (const [value, type, message] of cases) {
    assert.throws(() => validateRetryOptions(value), (error: Error) => {
      assert.ok(error instanceof type, `${error.name} for ${message}`);
      assert.equal(error.message, `Cannot retry as ${message}`);
      return true;
    });
  }
});

Deno.test("sleep() rejects with the signal's reason and leaves no timer", async () => {
  const controller = new AbortController();
  const reason = new Error("stop");
  const waiting = sleep(60_000, controller.signal);
  controller.abort(reason);
  await assert.rejects(waiting, (error) => error === reason);
  // The ops sanitizer fails this test if the 60 s timer were still pending.
});

Deno.test("sleep() rejects at once when the signal has already aborted", async () => {
  const reason = new TimeoutError();
  await assert.rejects(
    sleep(60_000, AbortSignal.abort(reason)),
    (error) => error === reason,
  );
});

Deno.test("sleep() resolves after the delay and removes its abort listener", async () => {
  const controller = new AbortController();
  let listeners = 0;
  const add = controller.signal.addEventListener.bind(controller.signal);
  const remove = controller.signal.removeEventListener.bind(controller.signal);
  controller.signal.addEventListener = (...args: Parameters<typeof add>) => {
    listeners++;
    add(...args);
  };
  controller.signal.removeEventListener = (
    ...args: Parameters<typeof remove>
  ) => {
    listeners--;
    remove(...args);
  };
  const start = performance.now();
  await sleep(2, controller.signal);
  assert.ok(performance.now() - start >= 1);
  assert.equal(listeners, 0);
});

Deno.test("stats() counts futures and attempts apart", async () => {
  await using pool = new AsyncPoolExecutor();
  let calls = 0;
  const retried = pool.with({
    retry: { maxAttempts: 3, backoff: { initial: 1, max: 1 }, retryOn: () => true },
  });
  // Fails twice, then succeeds: one future, three attempts.
  assert.equal(
    await retried.submit(() => {
      if (++calls < 3) throw new Error(`attempt ${calls}`);
      return "ok";
    }),
    "ok",
  );
  // Always fails: one failed future, three failed attempts.
  await retried.submit(() => {
    throw new Error("never");
  }).exception();
  const stats = pool.stats();
  assert.deepEqual(stats.futures, { completed: 1, failed: 1, cancelled: 0 });
  assert.deepEqual(stats.attempts, { completed: 1, failed: 5 });
  assert.equal(stats.completed, 1, "the older fields still count attempts");
  assert.equal(stats.failed, 5);
});

Deno.test("WorkerPoolExecutor.stats() counts futures and attempts apart, and cancelled futures", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const blocker = pool.submit((g: Int32Array) => {
    Atomics.wait(g, 0, 0);
    return 1;
  }, gate);
  const queued = pool.submit(() => 2);
  assert(queued.cancel());
  const crashy = pool.with({
    retry: { maxAttempts: 2, backoff: { initial: 1 }, retryOn: () => true },
  })
    .submit(() => {
      throw new Error("no");
    });
  Atomics.store(gate, 0, 1);
  Atomics.notify(gate, 0);
  assert.equal(await blocker, 1);
  await crashy.exception();
  const stats = pool.stats();
  assert.deepEqual(stats.futures, { completed: 1, failed: 1, cancelled: 1 });
  assert.deepEqual(stats.attempts, { completed: 1, failed: 2 });
});

Deno.test("WorkerPoolExecutor.map() with chunksize retries each item on its own, keeping the values of the others", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const counts = new Int32Array(new SharedArrayBuffer(8 * 4));
  // Items 0 and 2 of each chunk of 4 fail their first attempt; every item counts its calls.
  const flaky = (item: { counts: Int32Array; index: number }) => {
    const calls = Atomics.add(item.counts, item.index, 1) + 1;
    if (calls === 1 && item.index % 2 === 0) throw new Error(`item ${item.index} failed`);
    return item.index * 10;
  };
  const items = Array.from({ length: 8 }, (_, index) => ({ counts, index }));
  const retrying = pool.with({
    retry: { maxAttempts: 2, backoff: { initial: 0 }, retryOn: () => true },
  });
  const results = [];
  for await (const value of retrying.map(flaky, items, { chunksize: 4 })) results.push(value);
  assert.deepEqual(results, [0, 10, 20, 30, 40, 50, 60, 70]);
  // The items that succeeded ran once: a retry starts from the item that failed.
  assert.deepEqual([...counts], [2, 1, 2, 1, 2, 1, 2, 1]);
});

Deno.test("WorkerPoolExecutor.map() with chunksize yields the values before an item that fails all its attempts", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const counts = new Int32Array(new SharedArrayBuffer(4 * 4));
  const failsTwice = (item: { counts: Int32Array; index: number }) => {
    const calls = Atomics.add(item.counts, item.index, 1) + 1;
    if (item.index === 1 || (item.index === 2 && calls === 1)) {
      throw new Error(`item ${item.index} failed`);
    }
    return item.index;
  };
  const items = Array.from({ length: 4 }, (_, index) => ({ counts, index }));
  const retrying = pool.with({
    retry: { maxAttempts: 2, backoff: { initial: 0 }, retryOn: () => true },
  });
  const results: number[] = [];
  await assert.rejects(async () => {
    for await (const value of retrying.map(failsTwice, items, { chunksize: 4 })) {
      results.push(value);
    }
  }, /item 1 failed/);
  assert.deepEqual(results, [0]);
  assert.deepEqual([...counts], [1, 2, 0, 0]);
});

Deno.test("WorkerPoolExecutor.map() with chunksize charges a crash to the item that crashes alone, not to the items before it", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const counts = new Int32Array(new SharedArrayBuffer(9 * 4));
  // Item 5 ends its worker each time; every item counts its calls.
  const exitsAtFive = (item: { counts: Int32Array; index: number }) => {
    Atomics.add(item.counts, item.index, 1);
    if (item.index === 5) Deno.exit(7);
    return item.index * 10;
  };
  const items = Array.from({ length: 9 }, (_, index) => ({ counts, index }));
  const retrying = pool.with({
    retry: { maxAttempts: 4, backoff: { initial: 0 }, retryOn: () => true },
  });
  const results: number[] = [];
  const error = await (async () => {
    for await (const value of retrying.map(exitsAtFive, items, { chunksize: 3 })) {
      results.push(value);
    }
  })().then(() => undefined, (error) => error);
  // The items before item 5 in its chunk, whose values died with the worker, ran again and
  // are yielded; the crash is charged to item 5 alone, which crashed twice on its own.
  assert.deepEqual(results, [0, 10, 20, 30, 40]);
  assert.ok(error instanceof WorkerCrashedError, String(error));
  assert.match(error.message, /poison task/);
  assert.equal(error.exitCode, 7);
  // Item 3 ran with its chunk, then alone; item 4 with the chunk, with what was left of it, then
  // alone; item 5 with both, then alone twice.
  assert.deepEqual([...counts].slice(0, 6), [1, 1, 1, 2, 3, 4]);
});

Deno.test("cancel() between a task's attempts stops its retries, and leaving a map() does it too", async () => {
  const { AsyncPoolExecutor, TimeoutError: Timeout } = await import("../../mod.ts");
  await using pool = new AsyncPoolExecutor();
  const retry = { maxAttempts: 4, retryOn: () => true, backoff: { initial: 60_000 } };
  let attempts = 0;
  const failedOnce = Promise.withResolvers<void>();
  const task = pool.with({ retry }).submit(() => {
    attempts++;
    failedOnce.resolve();
    throw new Timeout("flaky");
  });
  await failedOnce.promise;
  await Promise.resolve();
  // Waiting out a backoff, nothing runs: cancel() returned false, and the attempts went on.
  assert.equal(task.cancel(), true);
  assert.equal(task.cancelled(), true);
  await pool.onIdle();
  assert.equal(attempts, 1);
  // Leaving a map() cancels its tasks, those waiting to retry included.
  let mapped = 0;
  const items = pool.with({ retry }).map((i: number) => {
    if (i === 1) {
      mapped++;
      throw new Timeout("flaky");
    }
    return i;
  }, [0, 1, 2]);
  for await (const value of items) {
    assert.equal(value, 0);
    break;
  }
  await pool.onIdle();
  // Item 1 failed once (or was cancelled before it ran), and never ran again.
  assert.ok(mapped <= 1, `item 1 ran ${mapped} times`);
});

Deno.test("a task that rejects with a WorkerCrashedError of its own crashed no worker: it is retried to maxAttempts, never called a poison task", async () => {
  // An AsyncPoolExecutor task awaiting another pool's task whose worker died rejects with that
  // pool's error; so does a task on a worker pool that throws one itself.
  await using crashing = new WorkerPoolExecutor({ maxWorkers: 1 });
  await using asyncPool = new AsyncPoolExecutor();
  await using workers = new WorkerPoolExecutor({ maxWorkers: 1 });
  const retry = { maxAttempts: 4, backoff: { initial: 0 } };
  let attempts = 0;
  const awaitingACrash = asyncPool.with({ retry }).submit(async () => {
    attempts++;
    return await crashing.submit(() => Deno.exit(3));
  });
  const passedOn = await awaitingACrash.exception();
  assert.ok(passedOn instanceof WorkerCrashedError, String(passedOn));
  assert.doesNotMatch(passedOn.message, /poison/);
  assert.equal(passedOn.exitCode, 3);
  assert.equal(attempts, 4);

  const counts = new Int32Array(new SharedArrayBuffer(4));
  const errors = new URL("../../future/errors.ts", import.meta.url).href;
  const thrown = await workers.with({ retry }).submit(
    async (counts: Int32Array, errors: string) => {
      Atomics.add(counts, 0, 1);
      const { WorkerCrashedError } = await import(errors);
      throw new WorkerCrashedError("a pool this task used lost its worker");
    },
    counts,
    errors,
  ).exception();
  assert.ok(thrown instanceof WorkerCrashedError, String(thrown));
  assert.equal(thrown.message, "a pool this task used lost its worker");
  assert.equal(Atomics.load(counts, 0), 4);
});

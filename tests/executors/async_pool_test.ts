import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  BrokenExecutorError,
  CircuitOpenError,
  type Executor,
  InvalidStateError,
  QueueFullError,
  taskSignal,
  TimeoutError,
} from "../../mod.ts";
import { gate, GatedTasks, turn, untilAborted } from "./_gates.ts";

const noBackoff = { initial: 0, jitter: "none" } as const;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// submit

Deno.test("AsyncPoolExecutor.submit() resolves with the async function's value", async () => {
  await using pool = new AsyncPoolExecutor();
  const future = pool.submit(async () => {
    await Promise.resolve();
    return "value";
  });
  assert.equal(await future, "value");
  assert.equal(future.state, "finished");
});

Deno.test("AsyncPoolExecutor.submit() rejects with the error the function throws", async () => {
  await using pool = new AsyncPoolExecutor();
  const boom = new Error("boom");
  const asyncThrow = pool.submit(async () => {
    await Promise.resolve();
    throw boom;
  });
  const syncThrow = pool.submit(() => {
    throw boom;
  });
  await assert.rejects(asyncThrow.result(), (error) => error === boom);
  await assert.rejects(syncThrow.result(), (error) => error === boom);
  assert.equal(await asyncThrow.exception(), boom);
});

Deno.test("AsyncPoolExecutor.submit() rejects with the reason of a returned rejected promise", async () => {
  await using pool = new AsyncPoolExecutor();
  const reason = new TypeError("rejected");
  const future = pool.submit(() => Promise.reject(reason));
  await assert.rejects(future.result(), (error) => error === reason);
});

Deno.test("AsyncPoolExecutor.submit() runs synchronous functions", async () => {
  await using pool = new AsyncPoolExecutor();
  assert.equal(await pool.submit(() => 42), 42);
  assert.equal(await pool.submit(() => undefined), undefined);
  assert.equal(await pool.submit(() => null), null);
  const thenable = { then: (resolve: (v: number) => void) => resolve(7) };
  assert.equal(await pool.submit(() => thenable), 7);
});

Deno.test("AsyncPoolExecutor.submit() passes the arguments", async () => {
  await using pool = new AsyncPoolExecutor();
  const future = pool.submit(
    (a: number, b: string, c: { x: number }) => [a, b, c],
    1,
    "two",
    { x: 3 },
  );
  assert.deepEqual(await future, [1, "two", { x: 3 }]);
  assert.equal(await pool.submit((...args: unknown[]) => args.length), 0);
});

Deno.test("AsyncPoolExecutor.submit() runs at most maxWorkers tasks at once, in FIFO order", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 3 });
  const tasks = new GatedTasks();
  const futures = Array.from({ length: 8 }, (_, i) => pool.submit(tasks.run, i));
  await tasks.waitStarted(3);
  await turn();
  assert.equal(tasks.started, 3);
  assert.equal(pool.stats().running, 3);
  assert.equal(pool.stats().queued, 5);
  assert.deepEqual(futures.map((f) => f.state), [
    "running",
    "running",
    "running",
    "pending",
    "pending",
    "pending",
    "pending",
    "pending",
  ]);
  tasks.gateOf(1).open();
  await tasks.waitStarted(4);
  await turn();
  assert.equal(tasks.started, 4);
  assert.equal(await futures[1], 1);
  tasks.openAll(8);
  assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(tasks.maxRunning, 3);
});

Deno.test("AsyncPoolExecutor.submit() with maxWorkers 1 runs tasks one at a time", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const futures = [0, 1, 2].map((i) => pool.submit(tasks.run, i));
  tasks.openAll(3);
  assert.deepEqual(await Promise.all(futures), [0, 1, 2]);
  assert.equal(tasks.maxRunning, 1);
});

Deno.test("new AsyncPoolExecutor() defaults maxWorkers to min(32, hardwareConcurrency + 4)", async () => {
  const expected = Math.min(32, navigator.hardwareConcurrency + 4);
  await using pool = new AsyncPoolExecutor();
  assert.equal(pool.maxWorkers, expected);
  const tasks = new GatedTasks();
  const futures = Array.from({ length: expected + 2 }, (_, i) => pool.submit(tasks.run, i));
  await tasks.waitStarted(expected);
  await turn();
  assert.equal(tasks.started, expected);
  tasks.openAll(expected + 2);
  await Promise.all(futures);
  assert.equal(tasks.maxRunning, expected);
});

Deno.test("AsyncPoolExecutor.submit() throws a TypeError naming 'fn' for a non-function", async () => {
  await using pool = new AsyncPoolExecutor();
  for (const fn of [42, "fn", null, undefined, {}]) {
    assert.throws(
      // @ts-expect-error: not a function
      () => pool.submit(fn),
      (error: unknown) => error instanceof TypeError && error.message.includes("'fn'"),
    );
  }
  assert.equal(pool.stats().queued, 0);
});

Deno.test("new AsyncPoolExecutor() throws a RangeError (a TypeError for a string) naming 'maxWorkers' and the value", () => {
  for (const maxWorkers of [0, -1, 1.5, NaN, "3"]) {
    const ErrorClass = typeof maxWorkers === "string" ? TypeError : RangeError;
    assert.throws(
      () => new AsyncPoolExecutor({ maxWorkers: maxWorkers as number }),
      (error: unknown) =>
        error instanceof ErrorClass && error.message.includes("'maxWorkers'") &&
        error.message.includes(String(maxWorkers)),
      `maxWorkers: ${String(maxWorkers)}`,
    );
  }
});

Deno.test("AsyncPoolExecutor.stats() counts a timed-out attempt as failed, once", async () => {
  await using pool = new AsyncPoolExecutor();
  const release = gate();
  const slow = pool.with({ timeout: 1 }).submit(async () => {
    await release.promise;
    return "late";
  });
  await assert.rejects(slow.result(), TimeoutError);
  await pool.submit(() => "ok");
  await assert.rejects(pool.submit(() => Promise.reject(new Error("no"))).result());
  release.open();
  await pool.shutdown();
  assert.deepEqual(pool.stats(), {
    queued: 0,
    running: 0,
    completed: 1,
    failed: 2,
    futures: { completed: 1, failed: 2, cancelled: 0 },
    attempts: { completed: 1, failed: 2 },
  });
});

// Task options through with()

Deno.test("AsyncPoolExecutor.with({ timeout }) rejects at once with TimeoutError and frees the slot", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const release = gate();
  let seen: AbortSignal | undefined;
  const slow = pool.with({ timeout: 10 }).submit(async () => {
    seen = taskSignal();
    await release.promise;
    return "late";
  });
  const next = pool.submit(() => "next");
  await assert.rejects(slow.result(), TimeoutError);
  assert.ok(seen?.aborted, "the running task's signal aborted");
  assert.ok(seen.reason instanceof TimeoutError);
  // The slow function has not returned, yet the queued task got its slot.
  assert.equal(await next, "next");
  assert.equal(release.opened, false);
  release.open();
});

Deno.test("AsyncPoolExecutor.with({ timeout }) counts from the start of the task, not from submit()", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const first = pool.submit(tasks.run, "first");
  const second = pool.with({ timeout: 15 }).submit(() => "second");
  await delay(40);
  assert.equal(second.state, "pending");
  tasks.openAll(1);
  assert.equal(await first, "first");
  assert.equal(await second, "second");
});

Deno.test("AsyncPoolExecutor.with({ signal }) drops a queued task when the signal aborts", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const first = pool.submit(tasks.run, 1);
  const controller = new AbortController();
  let ran = false;
  const queued = pool.with({ signal: controller.signal }).submit(() => {
    ran = true;
  });
  await tasks.waitStarted(1);
  const reason = new Error("no longer needed");
  controller.abort(reason);
  await assert.rejects(queued.result(), (error) => error === reason);
  assert.equal(pool.stats().running, 1);
  tasks.openAll(1);
  assert.equal(await first, 1);
  await pool.shutdown();
  assert.equal(ran, false);
});

Deno.test("AsyncPoolExecutor.with({ signal }) aborting a running task rejects with the reason and aborts its taskSignal()", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const started = gate();
  let seen: AbortSignal | undefined;
  const running = pool.with({ signal: controller.signal }).submit(async () => {
    seen = taskSignal();
    started.open();
    return await untilAborted(seen);
  });
  await started.promise;
  assert.equal(running.state, "running");
  const reason = new DOMException("stop", "AbortError");
  controller.abort(reason);
  await assert.rejects(running.result(), (error) => error === reason);
  assert.equal(seen?.aborted, true);
  assert.equal(seen?.reason, reason);
  assert.equal(await pool.submit(() => "slot free"), "slot free");
});

Deno.test("AsyncPoolExecutor.with({ signal }) shared by running and queued tasks: aborting it runs none of the queued ones", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const view = pool.with({ signal: controller.signal });
  const started = gate();
  const ran: number[] = [];
  const futures = [0, 1, 2].map((i) =>
    view.submit(() => {
      ran.push(i);
      started.open();
      return untilAborted(taskSignal());
    })
  );
  await started.promise;
  const reason = new Error("all off");
  controller.abort(reason);
  for (const future of futures) {
    await assert.rejects(future.result(), (error) => error === reason);
  }
  await pool.shutdown();
  assert.deepEqual(ran, [0]);
});

Deno.test("AsyncPoolExecutor.with({ signal }) with an already-aborted signal rejects without running", async () => {
  await using pool = new AsyncPoolExecutor();
  const reason = new Error("aborted before");
  let ran = false;
  const future = pool.with({ signal: AbortSignal.abort(reason) }).submit(() => {
    ran = true;
  });
  await assert.rejects(future.result(), (error) => error === reason);
  await pool.shutdown();
  assert.equal(ran, false);
});

Deno.test("AsyncPoolExecutor.with({ deadline }) in the past rejects with TimeoutError without running", async () => {
  await using pool = new AsyncPoolExecutor();
  let ran = false;
  const future = pool.with({ deadline: Date.now() - 1 }).submit(() => {
    ran = true;
  });
  await assert.rejects(future.result(), TimeoutError);
  await pool.shutdown();
  assert.equal(ran, false);
});

Deno.test("AsyncPoolExecutor.with({ deadline }) passing while queued rejects with TimeoutError and the task never runs", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const first = pool.submit(tasks.run, 1);
  let ran = false;
  const queued = pool.with({ deadline: Date.now() + 15 }).submit(() => {
    ran = true;
  });
  await assert.rejects(queued.result(), TimeoutError);
  assert.equal(first.state, "running");
  tasks.openAll(1);
  await first;
  await pool.shutdown();
  assert.equal(ran, false);
});

Deno.test("AsyncPoolExecutor.with({ deadline }) passing while running aborts the task's signal", async () => {
  await using pool = new AsyncPoolExecutor();
  let seen: AbortSignal | undefined;
  const future = pool.with({ deadline: Date.now() + 10 }).submit(() => {
    seen = taskSignal();
    return untilAborted(seen);
  });
  await assert.rejects(future.result(), TimeoutError);
  assert.ok(seen?.reason instanceof TimeoutError);
});

Deno.test("AsyncPoolExecutor.with({ retry }) retries a TimeoutError by default; maxAttempts counts the first", async () => {
  await using pool = new AsyncPoolExecutor();
  let attempts = 0;
  const view = pool.with({ timeout: 5, retry: { maxAttempts: 3, backoff: noBackoff } });
  const future = view.submit(async () => {
    const signal = taskSignal();
    attempts++;
    if (attempts < 3) await untilAborted(signal);
    return `attempt ${attempts}`;
  });
  assert.equal(await future, "attempt 3");
  assert.equal(attempts, 3);
});

Deno.test("AsyncPoolExecutor.with({ retry }) rejects with the last attempt's TimeoutError after maxAttempts", async () => {
  await using pool = new AsyncPoolExecutor();
  let attempts = 0;
  const future = pool.with({ timeout: 5, retry: { maxAttempts: 2, backoff: noBackoff } })
    .submit(() => {
      attempts++;
      return untilAborted(taskSignal());
    });
  await assert.rejects(future.result(), TimeoutError);
  assert.equal(attempts, 2);
});

Deno.test("AsyncPoolExecutor.with({ retry }) does not retry an error the task threw by default", async () => {
  await using pool = new AsyncPoolExecutor();
  let attempts = 0;
  const boom = new Error("bad input");
  const future = pool.with({ retry: { maxAttempts: 5, backoff: noBackoff } }).submit(() => {
    attempts++;
    throw boom;
  });
  await assert.rejects(future.result(), (error) => error === boom);
  assert.equal(attempts, 1);
});

Deno.test("AsyncPoolExecutor.with({ retry }) uses a custom retryOn and rejects with the last attempt's error", async () => {
  await using pool = new AsyncPoolExecutor();
  const errors: Error[] = [];
  const seen: unknown[] = [];
  const retry = {
    maxAttempts: 3,
    backoff: noBackoff,
    retryOn: (error: unknown) => {
      seen.push(error);
      return error instanceof Error && error.message.startsWith("flaky");
    },
  };
  const failing = pool.with({ retry }).submit(() => {
    const error = new Error(`flaky ${errors.length + 1}`);
    errors.push(error);
    throw error;
  });
  await assert.rejects(failing.result(), (error) => error === errors[2]);
  assert.equal(errors.length, 3);
  assert.deepEqual(seen, errors.slice(0, 2));

  let attempts = 0;
  const recovers = pool.with({ retry }).submit(() => {
    if (++attempts === 1) throw new Error("flaky once");
    return "ok";
  });
  assert.equal(await recovers, "ok");
  assert.equal(attempts, 2);

  attempts = 0;
  const fatal = new Error("fatal");
  const stops = pool.with({ retry }).submit(() => {
    attempts++;
    throw fatal;
  });
  await assert.rejects(stops.result(), (error) => error === fatal);
  assert.equal(attempts, 1);
});

Deno.test("AsyncPoolExecutor.with() on a view merges the options, the shorter timeout winning", async () => {
  await using pool = new AsyncPoolExecutor();
  const timed = pool.with({ timeout: 5 });
  const retried: Executor = timed.with({ retry: { maxAttempts: 2, backoff: noBackoff } });
  let attempts = 0;
  const hangs = () => {
    attempts++;
    return untilAborted(taskSignal());
  };
  await assert.rejects(retried.submit(hangs).result(), TimeoutError);
  assert.equal(attempts, 2, "the view of a view keeps the timeout and adds the retry");

  const patient = retried.with({ timeout: Infinity });
  attempts = 0;
  await assert.rejects(patient.submit(hangs).result(), TimeoutError);
  assert.equal(attempts, 2, "a later, longer timeout does not widen the earlier one");
  assert.equal(await pool.submit(() => "plain"), "plain", "the pool itself has no options");
});

Deno.test("AsyncPoolExecutor.with() throws TypeError or RangeError naming the bad option", async () => {
  await using pool = new AsyncPoolExecutor();
  const cases: [Record<string, unknown>, typeof TypeError | typeof RangeError, string][] = [
    [{ timeout: -1 }, RangeError, "'timeout'"],
    [{ timeout: NaN }, RangeError, "'timeout'"],
    [{ timeout: "5" }, TypeError, "'timeout'"],
    [{ deadline: "soon" }, TypeError, "'deadline'"],
    [{ deadline: Infinity }, RangeError, "'deadline'"],
    [{ signal: {} }, TypeError, "'signal'"],
    [{ domain: "" }, TypeError, "'domain'"],
    [{ domain: 3 }, TypeError, "'domain'"],
    [{ retry: { maxAttempts: 0 } }, RangeError, "maxAttempts"],
    [{ retry: "3" }, TypeError, "'retry'"],
    [{ transfer: "x" }, TypeError, "'transfer'"],
    [{ timeuot: 5 }, TypeError, "'timeuot'"],
  ];
  for (const [options, ErrorClass, name] of cases) {
    const check = (error: unknown) => error instanceof ErrorClass && error.message.includes(name);
    assert.throws(() => pool.with(options as never), check, JSON.stringify(options));
    assert.throws(() => pool.with({}).with(options as never), check, JSON.stringify(options));
  }
  assert.throws(() => pool.with({ timeout: -1 }), /received -1/);
  assert.throws(() => pool.with(null as never), TypeError);
});

// Circuit breaker

Deno.test("AsyncPoolExecutor with circuitBreaker rejects a domain's tasks with CircuitOpenError after threshold failures", async () => {
  await using pool = new AsyncPoolExecutor({
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  const api = pool.with({ domain: "api.example" });
  const fail = () => Promise.reject(new Error("503"));
  await assert.rejects(api.submit(fail).result(), /503/);
  await assert.rejects(api.submit(fail).result(), /503/);

  let ran = false;
  const refused = api.submit(() => {
    ran = true;
  });
  await assert.rejects(refused.result(), (error: unknown) => {
    assert.ok(error instanceof CircuitOpenError);
    assert.equal(error.domain, "api.example");
    assert.ok(error.retryAfter > 0 && error.retryAfter <= 60_000);
    return true;
  });
  assert.equal(ran, false);

  const other = pool.with({ domain: "other.example" });
  assert.equal(await other.submit(() => "other runs"), "other runs");
  assert.equal(await pool.submit(() => "no domain runs"), "no domain runs");
  await pool.shutdown();
  assert.equal(ran, false);
});

Deno.test("AsyncPoolExecutor with circuitBreaker: a success resets the run of failures", async () => {
  await using pool = new AsyncPoolExecutor({
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  const api = pool.with({ domain: "api.example" });
  const fail = () => Promise.reject(new Error("503"));
  await assert.rejects(api.submit(fail).result(), /503/);
  assert.equal(await api.submit(() => "ok"), "ok");
  await assert.rejects(api.submit(fail).result(), /503/);
  assert.equal(await api.submit(() => "still closed"), "still closed");
});

Deno.test("taskSignal() outside a task returns a signal that never aborts", () => {
  const signal = taskSignal();
  assert.ok(signal instanceof AbortSignal);
  assert.equal(signal.aborted, false);
});

Deno.test("AsyncPoolExecutor with a synchronous initializer starts a slot for each waiting task, up to maxWorkers", async () => {
  for (const initializer of [() => {}, async () => {}]) {
    let initialized = 0;
    await using pool = new AsyncPoolExecutor({
      maxWorkers: 4,
      initializer: () => {
        initialized++;
        return initializer();
      },
    });
    const tasks = new GatedTasks();
    const futures = Array.from({ length: 6 }, (_, i) => pool.submit(tasks.run, i));
    // Four slots, each initialized once, run four tasks at once within a turn; two wait.
    await turn();
    try {
      assert.equal(tasks.running, 4);
      assert.equal(initialized, 4);
    } finally {
      tasks.openAll(6);
    }
    assert.deepEqual(await Promise.all(futures), [0, 1, 2, 3, 4, 5]);
    assert.equal(tasks.maxRunning, 4);
    assert.equal(initialized, 4);
  }
});

Deno.test("a queued task whose future its holder settled or set running does not run, and the pool goes on", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const ran: number[] = [];
  const record = (x: number) => {
    ran.push(x);
    return x;
  };
  const tasks = new GatedTasks();
  const blocker = pool.submit(tasks.run, "blocker");
  const settled = pool.submit(record, 1);
  const claimed = pool.submit(record, 2);
  const after = pool.submit(record, 3);
  settled.setResult(-1);
  assert.equal(claimed.setRunningOrNotifyCancel(), true);
  tasks.openAll(1);
  assert.equal(await blocker, "blocker");
  assert.equal(await after, 3);
  assert.equal(await settled, -1);
  // Left running by its holder, it fails with why once the pool reaches it.
  const error = await claimed.exception();
  assert.ok(error instanceof InvalidStateError, String(error));
  assert.match(error.message, /its holder settled or set running/);
  assert.deepEqual(ran, [3]);
});

Deno.test("AsyncPoolExecutor whose initializer rejects later starts none of its queued tasks, and counts no slot in its initializer as running", async () => {
  const slowInit = Promise.withResolvers<void>();
  let slot = 0;
  await using pool = new AsyncPoolExecutor({
    maxWorkers: 2,
    // The first slot is ready at once; the second's initializer fails when told to.
    initializer: () => ++slot === 2 ? slowInit.promise : undefined,
  });
  const ran: number[] = [];
  const firstRuns = Promise.withResolvers<void>();
  const futures = Array.from({ length: 6 }, (_, i) =>
    pool.submit(async () => {
      ran.push(i);
      firstRuns.resolve();
      await new Promise(() => {});
    }));
  await firstRuns.promise;
  const stats = pool.stats();
  assert.equal(stats.running, 1, JSON.stringify(stats));
  assert.equal(stats.queued, 5);
  slowInit.reject(new Error("slot 2 cannot connect"));
  for (const future of futures) {
    assert.ok(await future.exception() instanceof BrokenExecutorError);
  }
  // Only the task that ran before the break ever started.
  assert.deepEqual(ran, [0]);
  // One attempt ran (and was stopped); the other five never started.
  assert.deepEqual(pool.stats().attempts, { completed: 0, failed: 1 });
});

Deno.test("AsyncPoolExecutor({ maxQueued }) counts a slot still in its initializer as free", async () => {
  const ready = Promise.withResolvers<void>();
  await using pool = new AsyncPoolExecutor({
    maxWorkers: 2,
    maxQueued: 1,
    initializer: () => ready.promise,
  });
  const accepted = [pool.submit(() => 1)];
  // A turn between the submits: the slots start their initializers meanwhile.
  await new Promise((resolve) => setTimeout(resolve, 0));
  accepted.push(pool.submit(() => 2));
  await new Promise((resolve) => setTimeout(resolve, 0));
  // Two tasks for two slots (ready or not), and room for one more to wait.
  accepted.push(pool.submit(() => 3));
  assert.throws(() => pool.submit(() => 4), QueueFullError);
  ready.resolve();
  assert.deepEqual(await Promise.all(accepted), [1, 2, 3]);
});

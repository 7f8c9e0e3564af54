import assert from "node:assert/strict";
import { type Future, WorkerCrashedError, WorkerPoolExecutor } from "../../mod.ts";
import { swapVersion, version } from "../fixtures/regression_tasks.ts";
import {
  add,
  addLater,
  byteLength,
  cell,
  countTask,
  echo,
  hold,
  initState,
  setUp,
  threadName,
  unclonableResult,
  writeShared,
} from "../fixtures/tasks.ts";
import {
  errorOf,
  release,
  startedAtLeast,
  statsUntil,
  TASKS,
  workerPool,
} from "./_worker_helpers.ts";

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterator) out.push(value);
  return out;
}

function isDataCloneError(error: unknown): boolean {
  return error instanceof DOMException && error.name === "DataCloneError";
}

Deno.test("WorkerPoolExecutor.submit() runs an export of a task module by reference, typed", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const sum: Future<number> = pool.submit(add, 1, 2);
  const later: Future<number> = pool.submit(addLater, 2, 3);
  assert.equal(await sum, 3);
  assert.equal(await later, 5);
  assert.match(await pool.submit(threadName), /^WorkerPoolExecutor-\d+ worker \d+$/);
});

Deno.test("WorkerPoolExecutor.submit() runs self-contained functions shipped by source", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, name: "inline" });
  assert.equal(await pool.submit((a: number, b: number) => a * b, 6, 7), 42);
  assert.equal(
    await pool.submit(function (s: string) {
      return s.toUpperCase();
    }, "up"),
    "UP",
  );
  assert.equal(await pool.submit(async (x: number) => await Promise.resolve(x + 1), 1), 2);
  assert.equal(
    await pool.submit(() => (globalThis as unknown as { name: string }).name),
    "WorkerPoolExecutor 'inline' worker 1",
    "it ran in a worker",
  );
});

/**
 * A self-contained task that counts its own calls on itself (a named function sees its own name),
 * so the count survives only while a worker reuses the function it compiled.
 */
function counted(): number {
  const self = counted as unknown as { calls?: number };
  self.calls = (self.calls ?? 0) + 1;
  return self.calls;
}

Deno.test("WorkerPoolExecutor.submit() compiles an inline function once per worker", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const calls = [];
  for (let i = 0; i < 4; i++) calls.push(await pool.submit(counted));
  assert.deepEqual(calls, [1, 2, 3, 4]);
  assert.equal((counted as unknown as { calls?: number }).calls, undefined, "it never ran here");
});

Deno.test("WorkerPoolExecutor.submit() compiles an inline function again in a new worker", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, maxTasksPerWorker: 2 });
  const calls = [];
  for (let i = 0; i < 5; i++) calls.push(await pool.submit(counted));
  assert.deepEqual(calls, [1, 2, 1, 2, 1]);
});

Deno.test("WorkerPoolExecutor.submit() runs each task of a batch with its own function, known or new to the worker", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  assert.equal(await pool.submit(add, 1, 1), 2, "the worker knows add");
  const double = (x: number) => x * 2;
  const negate = (x: number) => -x;
  // One turn: one message, where add is known and the two inline functions are new.
  const futures = [
    pool.submit(add, 1, 2),
    pool.submit(double, 5),
    pool.submit(add, 3, 4),
    pool.submit(negate, 6),
    pool.submit(double, 7),
  ];
  assert.deepEqual(await Promise.all(futures), [3, 10, 7, -6, 14]);
  // The next batch names all three by their place in the worker's table.
  const again = [pool.submit(negate, 1), pool.submit(add, 2, 2), pool.submit(double, 3)];
  assert.deepEqual(await Promise.all(again), [-1, 4, 6]);
});

Deno.test("WorkerPoolExecutor.submit() runs what a task module exports now, when the module rebinds an export", async () => {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: 1,
    modules: [new URL("../fixtures/regression_tasks.ts", import.meta.url)],
  });
  assert.equal(await pool.submit(version), 1);
  await pool.submit(swapVersion);
  // The worker was sent `version` before: it reads the export again, as an import would.
  assert.equal(await pool.submit(version), 2);
});

Deno.test("WorkerPoolExecutor.submit() runs method-shorthand functions", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const methods = {
    triple(x: number) {
      return x * 3;
    },
    async later(x: number) {
      return await Promise.resolve(`later ${x}`);
    },
  };
  assert.equal(await pool.submit(methods.triple, 5), 15);
  assert.equal(await pool.submit(methods.later, 1), "later 1");
});

Deno.test("WorkerPoolExecutor.submit() rejects with TypeError when an inline function uses a free variable", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const outside = 10;
  const error = await errorOf(pool.submit((x: number) => x + outside, 1));
  assert.ok(error instanceof TypeError, String(error));
  assert.match(error.message, /uses 'outside' from outside/);
  assert.equal(await pool.submit((x: number) => x + 1, 1), 2, "the worker lives on");
});

Deno.test("WorkerPoolExecutor.submit() throws TypeError for a class, a bound or a built-in function, saying what to do", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  class Task {}
  const cases: [unknown, RegExp][] = [
    [Task, /is a class.*'modules'/],
    [add.bind(null, 1), /bound or built-in.*'modules'.*self-contained/],
    [Math.max, /'max'.*bound or built-in/],
    [42, /must be a function: received 42/],
  ];
  for (const [fn, message] of cases) {
    assert.throws(
      () => pool.submit(fn as () => void),
      (error) => error instanceof TypeError && message.test(error.message),
      String(fn),
    );
  }
  assert.throws(() => pool.map(Math.abs, [1]), TypeError);
  assert.equal(pool.stats().workers.total, 0, "nothing was started");
});

Deno.test("WorkerPoolExecutor starts workers lazily, up to maxWorkers", async () => {
  await using pool = workerPool({ maxWorkers: 2 });
  assert.equal(pool.stats().workers.total, 0, "no worker before the first task");
  const c = cell();
  const futures = [1, 2, 3, 4].map((i) => pool.submit(hold, c, i));
  await startedAtLeast(c, 2);
  const stats = pool.stats();
  assert.equal(stats.workers.total, 2);
  assert.equal(stats.workers.busy, 2);
  assert.equal(stats.queued + stats.running, 4);
  release(c);
  assert.deepEqual(await Promise.all(futures), [1, 2, 3, 4]);
  assert.equal(pool.stats().workers.total, 2);
});

Deno.test("WorkerPoolExecutor reuses idle workers", async () => {
  await using pool = workerPool({ maxWorkers: 4 });
  const names = new Set<string>();
  for (let i = 0; i < 5; i++) names.add(await pool.submit(threadName));
  assert.equal(names.size, 1);
  assert.equal(pool.stats().workers.total, 1);
  assert.equal(pool.stats().workers.idle, 1);
});

Deno.test("WorkerPoolExecutor ends a worker once it has been idle for idleTimeout", async () => {
  await using pool = workerPool({ maxWorkers: 1, idleTimeout: 20 });
  const first = await pool.submit(threadName);
  assert.equal(pool.stats().workers.total, 1);
  await statsUntil(pool, (s) => s.workers.total === 0);
  const second = await pool.submit(threadName);
  assert.notEqual(second, first, "a new worker was started");
  assert.equal(pool.stats().restarts, 0, "an idle exit is not a restart");
});

Deno.test("WorkerPoolExecutor replaces a worker after maxTasksPerWorker tasks", async () => {
  await using pool = workerPool({ maxWorkers: 1, maxTasksPerWorker: 2 });
  const counts: number[] = [];
  const names: string[] = [];
  for (let i = 0; i < 6; i++) {
    counts.push(await pool.submit(countTask));
    names.push(await pool.submit(threadName));
    i++;
  }
  assert.deepEqual(counts, [1, 1, 1]);
  assert.equal(new Set(names).size, 3, "three workers, two tasks each");
  assert.ok(pool.stats().restarts >= 2);
});

Deno.test("WorkerPoolExecutor runs the initializer with initargs once per worker, before its tasks", async () => {
  await using pool = workerPool({
    maxWorkers: 2,
    initializer: setUp,
    initargs: [1, "two", { three: 3 }],
  });
  const c = cell();
  // Two held tasks make both workers start; the others run after them.
  const held = [pool.submit(hold, c, 0), pool.submit(hold, c, 1)];
  await startedAtLeast(c, 2);
  release(c);
  await Promise.all(held);
  const states = await Promise.all(Array.from({ length: 6 }, () => pool.submit(initState)));
  assert.equal(pool.stats().workers.total, 2);
  for (const state of states) {
    assert.deepEqual(state, { args: [1, "two", { three: 3 }], runs: 1, tasksBeforeInit: 0 });
  }
});

Deno.test("WorkerPoolExecutor runs an inline initializer in each new worker", async () => {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: 1,
    maxTasksPerWorker: 1,
    initializer: (value: string) => {
      const g = globalThis as unknown as { ready?: string; runs?: number };
      g.ready = value;
      g.runs = (g.runs ?? 0) + 1;
    },
    initargs: ["set by the initializer"],
  });
  for (let i = 0; i < 3; i++) {
    const seen = await pool.submit(() => {
      const g = globalThis as unknown as { ready?: string; runs?: number };
      return [g.ready, g.runs];
    });
    assert.deepEqual(seen, ["set by the initializer", 1]);
  }
});

Deno.test("WorkerPoolExecutor.with({ transfer }) moves an ArrayBuffer to the worker", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const buffer = new ArrayBuffer(1024);
  const future = pool.with({ transfer: [buffer] }).submit(byteLength, buffer);
  assert.equal(await future, 1024, "the worker got the bytes");
  assert.equal(buffer.byteLength, 0, "the caller's buffer is detached");
  assert.equal(buffer.detached, true);
  const copied = new ArrayBuffer(8);
  assert.equal(await pool.submit(byteLength, copied), 8);
  assert.equal(copied.byteLength, 8, "without transfer it is copied");
});

Deno.test("WorkerPoolExecutor.submit() shares a SharedArrayBuffer with the worker", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const view = new Int32Array(new SharedArrayBuffer(16));
  assert.equal(await pool.submit(writeShared, view, 2, 42), true, "it arrived shared");
  assert.equal(Atomics.load(view, 2), 42, "the caller sees the worker's write");
});

Deno.test("WorkerPoolExecutor.map() with chunksize yields the results in input order", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
  const items = Array.from({ length: 20 }, (_, i) => i);
  const out = await collect(pool.map((x: number) => x * x, items, { chunksize: 3 }));
  assert.deepEqual(out, items.map((x) => x * x));
  assert.equal(pool.stats().completed, 7, "20 items went in 7 chunks");
});

Deno.test("WorkerPoolExecutor.map() throws at the failing item after yielding the items before it, also in its chunk", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 2 });
  const out: number[] = [];
  await assert.rejects(
    async () => {
      for await (
        const value of pool.map(
          (x: number) => {
            if (x === 5) throw new RangeError(`item ${x} is bad`);
            return x * 10;
          },
          [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
          { chunksize: 4 },
        )
      ) out.push(value);
    },
    (error) => error instanceof RangeError && error.message === "item 5 is bad",
  );
  assert.deepEqual(out, [0, 10, 20, 30, 40]);
});

Deno.test("WorkerPoolExecutor.map() with chunksize runs the items pulled before its source threw", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const items = function* () {
    yield* [1, 2, 3];
    throw new RangeError("the source failed after 3 items");
  };
  const later = async function* () {
    yield* items();
  };
  for (const sync of [true, false]) {
    const out: unknown[] = [];
    await assert.rejects(
      async () => {
        const source = sync ? items() : later();
        for await (const value of pool.map((x: number) => x * 10, source, { chunksize: 2 })) {
          out.push(value);
        }
      },
      (e: unknown) => e instanceof RangeError && /after 3 items/.test(e.message),
    );
    // Item 3 was in the chunk being filled when the source threw: it was dropped.
    assert.deepEqual(out, [10, 20, 30], sync ? "a sync source" : "an async source");
  }
});

Deno.test("WorkerPoolExecutor.submit() rejects with DataCloneError for an unclonable argument; the worker lives on", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const name = await pool.submit(threadName);
  const bad = pool.submit(echo, () => "a function cannot be cloned");
  const good = pool.submit(add, 2, 2);
  assert.ok(isDataCloneError(await errorOf(bad)));
  assert.equal(await good, 4);
  assert.equal(await pool.submit(threadName), name, "the same worker");
  assert.equal(pool.stats().crashed, 0);
});

Deno.test("WorkerPoolExecutor.submit() sends the other tasks of a batch when one argument cannot be cloned", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  for (let i = 0; i < 3; i++) await pool.submit((x: number) => x, i);
  // The worker is warm, so these go in one message; the inline function is new to it.
  const identity = (value: unknown) => value;
  const futures = [
    pool.submit(identity, Symbol("unclonable")),
    pool.submit(identity, 1),
    pool.submit(identity, 2),
  ];
  assert.ok(isDataCloneError(await errorOf(futures[0]!)));
  assert.equal(await futures[1], 1);
  assert.equal(await futures[2], 2);
});

Deno.test("WorkerPoolExecutor.submit() rejects with DataCloneError for an unclonable result; the worker lives on", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const name = await pool.submit(threadName);
  const futures = [pool.submit(add, 1, 1), pool.submit(unclonableResult), pool.submit(add, 2, 2)];
  assert.equal(await futures[0], 2);
  assert.ok(isDataCloneError(await errorOf(futures[1]!)));
  assert.equal(await futures[2], 4);
  assert.equal(await pool.submit(threadName), name, "the same worker");
  assert.equal(pool.stats().crashed, 0);
});

Deno.test("WorkerPoolExecutor lets an idle worker go after a task it could not be sent", async () => {
  await using pool = workerPool({ maxWorkers: 1, idleTimeout: 20 });
  await pool.submit(add, 1, 1);
  assert.ok(isDataCloneError(await errorOf(pool.submit(echo, () => {}))));
  await statsUntil(pool, (s) => s.workers.total === 0);
});

Deno.test("WorkerPoolExecutor.stats() counts workers by state, the queue and the outcomes", async () => {
  const c = cell();
  await using pool = workerPool({ maxWorkers: 1, initializer: hold, initargs: [c, null] });
  const futures = [pool.submit(add, 1, 2), pool.submit(add, 3, 4)];
  await startedAtLeast(c, 1);
  let stats = pool.stats();
  assert.deepEqual(stats.workers, {
    total: 1,
    busy: 0,
    idle: 0,
    starting: 1,
    retiring: 0,
    spinning: 0,
    draining: 0,
  });
  assert.equal(stats.queued, 2);
  assert.equal(stats.running, 0);
  release(c);
  assert.deepEqual(await Promise.all(futures), [3, 7]);
  await errorOf(pool.submit(echo, () => {}));
  const held = cell();
  const busy = pool.submit(hold, held, "held");
  const queued = pool.submit(add, 0, 0);
  await startedAtLeast(held, 1);
  stats = pool.stats();
  assert.equal(stats.workers.busy, 1);
  assert.equal(stats.workers.idle, 0);
  assert.equal(stats.running + stats.queued, 2);
  release(held);
  await Promise.all([busy, queued]);
  stats = pool.stats();
  assert.deepEqual(stats.workers, {
    total: 1,
    busy: 0,
    idle: 1,
    starting: 0,
    retiring: 0,
    spinning: 0,
    draining: 0,
  });
  assert.equal(stats.queued, 0);
  assert.equal(stats.running, 0);
  assert.equal(stats.completed, 4);
  assert.equal(stats.failed, 1);
  assert.equal(stats.crashed, 0);
  assert.equal(stats.restarts, 0);
  for (const p of [stats.runTime, stats.waitTime]) {
    assert.ok(p.p50 >= 0 && p.p50 <= p.p90 && p.p90 <= p.p99, JSON.stringify(p));
  }
  assert.ok(stats.waitTime.p99 > 0, "the first tasks waited for the worker to start");
});

Deno.test("WorkerPoolExecutor.stats() reports the run time of each task", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const spin = (ms: number) => {
    const end = performance.now() + ms;
    while (performance.now() < end) {
      // Busy on purpose: the run time is measured in the worker.
    }
    return ms;
  };
  for (let i = 0; i < 9; i++) await pool.submit(spin, 0);
  await pool.submit(spin, 60);
  const { runTime } = pool.stats();
  assert.ok(runTime.p50 < 30, `most tasks were quick: ${JSON.stringify(runTime)}`);
  assert.ok(runTime.p99 >= 60, `the slowest took 60 ms: ${JSON.stringify(runTime)}`);
});

Deno.test("WorkerPoolExecutor() checks its options, naming the option and the value", () => {
  const cases: [Record<string, unknown>, ErrorConstructor, RegExp][] = [
    [{ maxWorkers: 0 }, RangeError, /'maxWorkers' must be a positive integer: received 0/],
    [{ maxTasksPerWorker: 1.5 }, RangeError, /'maxTasksPerWorker'.*1\.5/],
    [{ idleTimeout: -1 }, RangeError, /'idleTimeout'.*-1/],
    [{ onCrash: "explode" }, TypeError, /'onCrash'.*explode/],
    [{ restartLimit: { max: -1, within: 10 } }, RangeError, /'restartLimit\.max'.*-1/],
    [{ restartLimit: 5 }, TypeError, /'restartLimit'.*5/],
    [{ modules: "tasks.ts" }, TypeError, /'modules' must be an array/],
    [{ modules: [42] }, TypeError, /'modules'.*42/],
    [{ initializer: "setUp" }, TypeError, /'initializer' must be a function/],
    [{ initargs: 1 }, TypeError, /'initargs' must be an array/],
    [{ name: 7 }, TypeError, /'name'/],
  ];
  for (const [options, Class, message] of cases) {
    assert.throws(
      () => new WorkerPoolExecutor(options as never),
      (error) => error instanceof Class && message.test(error.message),
      JSON.stringify(options),
    );
  }
});

Deno.test("WorkerPoolExecutor takes task modules as URLs or as paths", async () => {
  const path = new URL(TASKS).pathname;
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [path] });
  assert.equal(await pool.submit(add, 20, 22), 42);
});

Deno.test("WorkerPoolExecutor: a queued task whose future its holder settled does not run, and the pool goes on", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const blocker = pool.submit(hold, c, "blocker");
  await startedAtLeast(c, 1);
  const settled = pool.submit(add, 1, 1);
  const claimed = pool.submit(add, 2, 2);
  const after = pool.submit(add, 3, 3);
  settled.setResult(-1);
  assert.equal(claimed.setRunningOrNotifyCancel(), true);
  release(c);
  assert.equal(await blocker, "blocker");
  assert.equal(await after, 6);
  assert.equal(await settled, -1);
  const error = await claimed.exception();
  assert.match(String(error), /InvalidStateError: .*its holder settled or set running/);
});

Deno.test("WorkerPoolExecutor.stats() counts the wait of a task put back in the queue once, up to its first dispatch", async () => {
  const t0 = performance.now();
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  // Once a short task has run, the worker is sent tasks ahead of its turn.
  await pool.submit(() => 0);
  const flags = new Int32Array(new SharedArrayBuffer(8));
  // The first task signals that it runs, waits to be let go, then ends its worker; the two sent
  // to the worker with it never started there, and are sent again to its replacement.
  const crashes = pool.submit((flags: Int32Array) => {
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    Atomics.wait(flags, 1, 0);
    Deno.exit(9);
  }, flags);
  const after = [pool.submit(() => 1), pool.submit(() => 2)];
  await Atomics.waitAsync(flags, 0, 0).value;
  await statsUntil(pool, (stats) => stats.running === 3 && stats.queued === 0);
  // Every wait counted so far ended by now.
  const firstDispatchesBy = performance.now() - t0;
  // Only so that a wait counted again at the second dispatch would show (the bound below holds
  // whatever the timing).
  await new Promise((resolve) => setTimeout(resolve, 100));
  Atomics.store(flags, 1, 1);
  Atomics.notify(flags, 1);
  assert.ok(await crashes.exception() instanceof WorkerCrashedError);
  assert.deepEqual(await Promise.all(after), [1, 2]);
  const stats = pool.stats();
  assert.equal(stats.restarts, 1);
  assert.ok(
    stats.waitTime.p99 <= firstDispatchesBy,
    `waitTime ${JSON.stringify(stats.waitTime)} against ${firstDispatchesBy} ms`,
  );
});

Deno.test("WorkerPoolExecutor({ maxQueued }) counts a worker still starting as a free slot", async () => {
  await using pool = workerPool({ maxWorkers: 2, maxQueued: 1 });
  const accepted = [pool.submit(add, 1, 1)];
  await statsUntil(pool, (stats) => stats.workers.total === 1);
  accepted.push(pool.submit(add, 2, 2));
  await statsUntil(pool, (stats) => stats.workers.total === 2);
  // Two tasks for two workers (ready or not), and room for one more to wait (whether a fourth
  // fits depends on how far the workers got, so it is not tried).
  accepted.push(pool.submit(add, 3, 3));
  assert.deepEqual(await Promise.all(accepted), [2, 4, 6]);
});

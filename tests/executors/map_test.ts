import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  InvalidStateError,
  ProcessPoolExecutor,
  taskSignal,
  TimeoutError,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { gate, GatedTasks, turn, untilAborted } from "./_gates.ts";
import { recorderOf } from "../../observe/_registry.ts";

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A generator over 0, 1, … (endless without `count`) that counts the items pulled from it. */
function counted(count = Infinity) {
  const state = { pulled: 0, closed: false };
  function* items(): Generator<number> {
    try {
      for (let i = 0; i < count; i++) {
        state.pulled++;
        yield i;
      }
    } finally {
      state.closed = true;
    }
  }
  return { state, items: items() };
}

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterator) out.push(value);
  return out;
}

Deno.test("AsyncPoolExecutor.map() yields results in input order", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 5 });
  const tasks = new GatedTasks();
  const results = pool.map(tasks.run, [0, 1, 2, 3, 4]);
  await tasks.waitStarted(5);
  for (let i = 4; i >= 0; i--) {
    tasks.gateOf(i).open();
    await turn();
  }
  assert.deepEqual(await collect(results), [0, 1, 2, 3, 4]);
});

Deno.test("AsyncPoolExecutor.map() yields results in input order for many items", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 7 });
  const items = Array.from({ length: 200 }, (_, i) => i);
  const out = await collect(pool.map(async (x: number) => {
    for (let i = 0; i < x % 5; i++) await Promise.resolve();
    return x * 2;
  }, items));
  assert.deepEqual(out, items.map((x) => x * 2));
});

Deno.test("AsyncPoolExecutor.map() throws at the failing item's position and cancels the pending tasks", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const boom = new Error("boom");
  const hold = gate();
  const ran: number[] = [];
  const out: number[] = [];
  const results = pool.map(async (x: number) => {
    ran.push(x);
    if (x === 1) throw boom;
    if (x >= 2) await hold.promise;
    return x;
  }, [0, 1, 2, 3, 4, 5]);
  await assert.rejects(async () => {
    for await (const value of results) out.push(value);
  }, (error) => error === boom);
  assert.deepEqual(out, [0]);
  // Item 2 took the slot item 1 freed; 3, 4 and 5 were still queued and are cancelled.
  assert.deepEqual(ran, [0, 1, 2]);
  hold.open();
  await pool.shutdown();
  assert.deepEqual(ran, [0, 1, 2]);
  assert.deepEqual(await results.next(), { done: true, value: undefined });
});

Deno.test("AsyncPoolExecutor.map() raises an error from the source at its position", async () => {
  await using pool = new AsyncPoolExecutor();
  const broken = new Error("source broke");
  function* items() {
    yield 1;
    yield 2;
    throw broken;
  }
  const out: number[] = [];
  await assert.rejects(async () => {
    for await (const value of pool.map((x: number) => x * 10, items())) out.push(value);
  }, (error) => error === broken);
  assert.deepEqual(out, [10, 20]);
});

Deno.test("AsyncPoolExecutor.map() raises a TypeError from a source whose next() returns a non-object", async () => {
  await using pool = new AsyncPoolExecutor();
  // The first result is an item, then 5; after 100 calls the source ends, which only makes a
  // regression fail instead of looping for ever (5 was read as an item, undefined).
  const results = () => {
    let calls = 0;
    return () => calls++ === 0 ? { done: false, value: 1 } : calls > 100 ? { done: true } : 5;
  };
  const sync = { [Symbol.iterator]: () => ({ next: results() }) };
  const next = results();
  const async = { [Symbol.asyncIterator]: () => ({ next: () => Promise.resolve(next()) }) };
  for (const items of [sync, async]) {
    const out: number[] = [];
    await assert.rejects(
      async () => {
        for await (const value of pool.map((x: number) => x * 10, items as Iterable<number>)) {
          out.push(value);
        }
      },
      (error) =>
        error instanceof TypeError && /Iterator result 5 is not an object/.test(error.message),
    );
    assert.deepEqual(out, [10]);
  }
});

Deno.test("AsyncPoolExecutor.map() timeout counts from the call and throws TimeoutError during iteration", async () => {
  await using pool = new AsyncPoolExecutor();
  const hold = gate();
  const results = pool.map(
    async (x: number) => {
      if (x === 1) await hold.promise;
      return x;
    },
    [0, 1],
    { timeout: 200 },
  );
  await delay(400);
  const started = performance.now();
  assert.deepEqual(await results.next(), { done: false, value: 0 });
  await assert.rejects(results.next(), TimeoutError);
  // Counted from the iteration instead, the rejection would have taken another 200 ms.
  assert.ok(performance.now() - started < 200, "the time spent before iterating counted");
  assert.deepEqual(await results.next(), { done: true, value: undefined });
  hold.open();
});

Deno.test("AsyncPoolExecutor.map() timeout throws while waiting on a slow item", async () => {
  await using pool = new AsyncPoolExecutor();
  const hold = gate();
  const results = pool.map(
    async (x: number) => {
      await hold.promise;
      return x;
    },
    [0, 1, 2],
    { timeout: 10 },
  );
  await assert.rejects(collect(results), TimeoutError);
  hold.open();
});

Deno.test("AsyncPoolExecutor.map() leaving early with break cancels the tasks not started", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const tasks = new GatedTasks();
  const ran: number[] = [];
  tasks.gateOf(0).open();
  const out: number[] = [];
  for await (
    const value of pool.map((x: number) => {
      ran.push(x);
      return tasks.run(x);
    }, [0, 1, 2, 3, 4, 5])
  ) {
    out.push(value);
    break;
  }
  assert.deepEqual(out, [0]);
  tasks.openAll(6);
  await pool.shutdown();
  // Item 1 was running when the loop ended; the others never started.
  assert.deepEqual(ran, [0, 1]);
});

Deno.test("AsyncPoolExecutor.map() return() cancels the tasks not started and closes the source", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  const tasks = new GatedTasks();
  const { state, items } = counted(10);
  const results = pool.map(tasks.run, items);
  await tasks.waitStarted(2);
  assert.deepEqual(await results.return!(), { done: true, value: undefined });
  tasks.openAll(10);
  await pool.shutdown();
  assert.equal(tasks.started, 2);
  assert.ok(state.closed);
  assert.deepEqual(await results.next(), { done: true, value: undefined });
});

Deno.test("AsyncPoolExecutor.map() without buffersize submits a sync iterable eagerly at the call", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  const tasks = new GatedTasks();
  const { state, items } = counted(6);
  const results = pool.map(tasks.run, items);
  assert.equal(state.pulled, 6, "every item was pulled by the call itself");
  assert.equal(pool.stats().queued, 6);
  await tasks.waitStarted(2);
  await turn();
  assert.equal(tasks.started, 2, "work started before iterating");
  tasks.openAll(6);
  assert.deepEqual(await collect(results), [0, 1, 2, 3, 4, 5]);
});

Deno.test("AsyncPoolExecutor.map() with buffersize keeps at most that many outstanding", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 8 });
  const { state, items } = counted(20);
  let running = 0;
  let maxRunning = 0;
  const results = pool.map(
    async (x: number) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await turn();
      running--;
      return x;
    },
    items,
    { buffersize: 3 },
  );
  assert.equal(state.pulled, 3);
  let consumed = 0;
  for await (const value of results) {
    assert.equal(value, consumed);
    consumed++;
    assert.ok(state.pulled <= consumed + 3, `${state.pulled} pulled, ${consumed} consumed`);
  }
  assert.equal(consumed, 20);
  assert.ok(maxRunning <= 3, `${maxRunning} ran at once`);
});

Deno.test("AsyncPoolExecutor.map() with buffersize works on an endless generator", async () => {
  await using pool = new AsyncPoolExecutor();
  const { state, items } = counted();
  const out: number[] = [];
  for await (const value of pool.map((x: number) => x * x, items, { buffersize: 4 })) {
    out.push(value);
    if (out.length === 10) break;
  }
  assert.deepEqual(out, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]);
  assert.ok(state.pulled <= 14, `${state.pulled} pulled`);
  assert.ok(state.closed, "the generator was closed");
});

Deno.test("AsyncPoolExecutor.map() accepts an async iterable", async () => {
  await using pool = new AsyncPoolExecutor();
  async function* items() {
    for (let i = 0; i < 5; i++) {
      await Promise.resolve();
      yield i;
    }
  }
  assert.deepEqual(await collect(pool.map((x: number) => x + 1, items())), [1, 2, 3, 4, 5]);
});

Deno.test("AsyncPoolExecutor.map() with buffersize pulls an async iterable as results are consumed", async () => {
  await using pool = new AsyncPoolExecutor();
  let pulled = 0;
  let closed = false;
  async function* items() {
    try {
      for (let i = 0;; i++) {
        await Promise.resolve();
        pulled++;
        yield i;
      }
    } finally {
      closed = true;
    }
  }
  const out: number[] = [];
  for await (
    const value of pool.map((x: number) => Promise.resolve(x * 2), items(), { buffersize: 2 })
  ) {
    out.push(value);
    assert.ok(pulled <= out.length + 2, `${pulled} pulled, ${out.length} consumed`);
    if (out.length === 6) break;
  }
  assert.deepEqual(out, [0, 2, 4, 6, 8, 10]);
  await turn();
  assert.ok(closed, "the async generator was closed");
});

Deno.test("AsyncPoolExecutor.map() accepts chunksize and still yields one result per item", async () => {
  await using pool = new AsyncPoolExecutor();
  const out = await collect(pool.map((x: number) => x * 3, [1, 2, 3, 4, 5], { chunksize: 2 }));
  assert.deepEqual(out, [3, 6, 9, 12, 15]);
});

Deno.test("AsyncPoolExecutor.map() throws a RangeError naming a bad option", async () => {
  await using pool = new AsyncPoolExecutor();
  const cases: [Record<string, unknown>, string][] = [
    [{ chunksize: 0 }, "'chunksize'"],
    [{ chunksize: 1.5 }, "'chunksize'"],
    [{ buffersize: 0 }, "'buffersize'"],
    [{ buffersize: -2 }, "'buffersize'"],
    [{ buffersize: NaN }, "'buffersize'"],
    [{ timeout: -1 }, "'timeout'"],
    [{ timeout: NaN }, "'timeout'"],
  ];
  for (const [options, name] of cases) {
    assert.throws(
      () => pool.map((x: number) => x, [1], options),
      (error: unknown) =>
        error instanceof RangeError && error.message.includes(name) &&
        error.message.includes(String(Object.values(options)[0])),
      JSON.stringify(options),
    );
  }
  assert.throws(() => pool.map((x: number) => x, [1], { signal: {} as AbortSignal }), TypeError);
  assert.throws(() => pool.map((x: number) => x, 5 as never), TypeError);
  assert.throws(() => pool.map("nope" as never, [1]), /'fn'/);
  assert.equal(pool.stats().queued, 0);
  // Infinity, the default, may be given (it was refused as not a positive integer).
  assert.deepEqual(await collect(pool.map((x: number) => x, [1, 2], { buffersize: Infinity })), [
    1,
    2,
  ]);
});

Deno.test("AsyncPoolExecutor.map() signal aborts the iteration and the running tasks", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const controller = new AbortController();
  const ran: number[] = [];
  const started = gate();
  let seen: AbortSignal | undefined;
  const results = pool.map(
    (x: number) => {
      ran.push(x);
      if (x === 0) return x;
      seen = taskSignal();
      started.open();
      return untilAborted(seen);
    },
    [0, 1, 2, 3],
    { signal: controller.signal },
  );
  assert.deepEqual(await results.next(), { done: false, value: 0 });
  await started.promise;
  const reason = new Error("user left");
  controller.abort(reason);
  await assert.rejects(results.next(), (error) => error === reason);
  assert.equal(seen?.reason, reason);
  assert.deepEqual(await results.next(), { done: true, value: undefined });
  await pool.shutdown();
  assert.deepEqual(ran, [0, 1]);
});

Deno.test("AsyncPoolExecutor.map() signal aborts an iteration waiting on a slow item", async () => {
  await using pool = new AsyncPoolExecutor();
  const controller = new AbortController();
  const hold = gate();
  let ran = 0;
  const results = pool.map(
    async (x: number) => {
      ran++;
      await hold.promise;
      return x;
    },
    [0, 1],
    { signal: controller.signal },
  );
  const next = results.next();
  await turn();
  assert.equal(ran, 2);
  const reason = new Error("no wait");
  controller.abort(reason);
  await assert.rejects(next, (error) => error === reason);
  hold.open();
});

Deno.test("AsyncPoolExecutor.map() with an already-aborted signal runs nothing", async () => {
  await using pool = new AsyncPoolExecutor();
  const reason = new Error("too late");
  let ran = false;
  const results = pool.map(
    () => {
      ran = true;
    },
    [1, 2, 3],
    { signal: AbortSignal.abort(reason) },
  );
  await assert.rejects(results.next(), (error) => error === reason);
  await pool.shutdown();
  assert.equal(ran, false);
});

Deno.test("AsyncPoolExecutor.map() on a with() view applies the task options to each item", async () => {
  await using pool = new AsyncPoolExecutor();
  const results = pool.with({ timeout: 5 }).map((x: number) => {
    if (x === 1) return untilAborted(taskSignal());
    return x;
  }, [0, 1, 2]);
  assert.deepEqual(await results.next(), { done: false, value: 0 });
  await assert.rejects(results.next(), TimeoutError);
});

Deno.test("AsyncPoolExecutor.map() after shutdown throws InvalidStateError mentioning shutdown", async () => {
  const pool = new AsyncPoolExecutor();
  await pool.shutdown();
  assert.throws(
    () => pool.map((x: number) => x, [1, 2]),
    (error: unknown) => error instanceof InvalidStateError && /shutdown/.test(error.message),
  );
  assert.throws(() => pool.with({ timeout: 5 }).map((x: number) => x, [1]), InvalidStateError);
});

Deno.test("AsyncPoolExecutor.map() on a with({ signal }) view with a map signal too: the view's signal still stops the tasks", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const viewController = new AbortController();
  const mapController = new AbortController();
  const started = gate();
  const ran: number[] = [];
  const results = pool.with({ signal: viewController.signal }).map(
    (x: number) => {
      ran.push(x);
      started.open();
      return untilAborted(taskSignal());
    },
    [0, 1, 2],
    { signal: mapController.signal },
  );
  await started.promise;
  const reason = new Error("view aborted");
  viewController.abort(reason);
  await assert.rejects(results.next(), (error) => error === reason);
  await pool.shutdown();
  assert.deepEqual(ran, [0]);
});

Deno.test("map() with chunksize on worker and process pools: a value that cannot be sent back fails its item, and the items before it in its chunk keep their values", async () => {
  for (const Pool of [WorkerPoolExecutor, ProcessPoolExecutor]) {
    await using pool = new Pool({ maxWorkers: 1 });
    for (const chunksize of [1, 4]) {
      const got: unknown[] = [];
      const error = await (async () => {
        for await (
          const value of pool.map((x: number) => x === 2 ? () => x : x, [0, 1, 2, 3, 4, 5], {
            chunksize,
          })
        ) got.push(value);
      })().then(() => undefined, (error) => error);
      assert.ok(
        error instanceof DOMException && error.name === "DataCloneError",
        `${Pool.name}, chunksize ${chunksize}: ${error}`,
      );
      assert.deepEqual(got, [0, 1], `${Pool.name}, chunksize ${chunksize}`);
    }
    assert.equal(await pool.submit(() => "alive"), "alive");
  }
});

Deno.test("map() with chunksize on observed worker and process pools: an item that throws fails the map there, and the items before it in its chunk keep their values", async () => {
  for (const Pool of [WorkerPoolExecutor, ProcessPoolExecutor]) {
    await using pool = new Pool({ maxWorkers: 1 });
    // Observed, its workers send end times with their results (a layout of its own).
    recorderOf(pool, "test");
    const got: unknown[] = [];
    const error = await (async () => {
      const fails = (x: number) => {
        if (x === 2) throw new RangeError(`item ${x}`);
        return x * 10;
      };
      for await (const value of pool.map(fails, [0, 1, 2, 3], { chunksize: 4 })) got.push(value);
    })().then(() => undefined, (error) => error);
    assert.ok(error instanceof RangeError && error.message === "item 2", `${Pool.name}: ${error}`);
    assert.deepEqual(got, [0, 10], Pool.name);
    assert.equal(await pool.submit(() => "alive"), "alive");
  }
});

import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  DependencyError,
  Future,
  QueueFullError,
  TimeoutError,
} from "../../mod.ts";
import { add, echo } from "../fixtures/tasks.ts";
import { workerPool } from "./_worker_helpers.ts";

Deno.test("AsyncPoolExecutor.submit() throws QueueFullError past maxQueued, and nothing accepted is lost", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 3 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  // Two start at once (free slots do not count as waiting), three wait.
  const accepted = [1, 2, 3, 4, 5].map((i) => pool.submit(async () => (await gate, i)));
  assert.throws(
    () => pool.submit(() => 6),
    (e: unknown) =>
      e instanceof QueueFullError && e.maxQueued === 3 && /'maxQueued'/.test(e.message),
  );
  open();
  assert.deepEqual(await Promise.all(accepted), [1, 2, 3, 4, 5]);
  assert.equal(await pool.submit(() => 7), 7);
});

Deno.test("WorkerPoolExecutor.submit() throws QueueFullError past maxQueued", async () => {
  await using pool = workerPool({ maxWorkers: 1, maxQueued: 2 });
  // Three fit at first (one for the worker not yet spawned, two waiting).
  const accepted = [pool.submit(add, 1, 1), pool.submit(add, 2, 2), pool.submit(add, 3, 3)];
  assert.throws(() => pool.submit(add, 4, 4), QueueFullError);
  assert.deepEqual(await Promise.all(accepted), [2, 4, 6]);
});

Deno.test("whenReady() resolves once there is room, and at once after shutdown", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  const first = pool.submit(() => gate);
  const second = pool.submit(() => "second");
  await Promise.resolve();
  let ready = false;
  const waiting = pool.whenReady().then(() => ready = true);
  assert.throws(() => pool.submit(() => "third"), QueueFullError);
  assert.equal(ready, false);
  open();
  await waiting;
  assert.equal(await pool.submit(() => "third"), "third");
  await Promise.all([first, second]);
  await pool.shutdown();
  await pool.whenReady();
});

Deno.test("whenReady() resolves when running tasks end and free their slots", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  const running = [pool.submit(() => gate), pool.submit(() => gate)];
  const queued = pool.submit(() => "queued");
  assert.throws(() => pool.submit(() => 0), QueueFullError);
  const ready = pool.whenReady();
  open();
  await Promise.all(running);
  await ready;
  assert.equal(await pool.submit(() => "room"), "room");
  assert.equal(await queued, "queued");
});

Deno.test("AsyncPoolExecutor.submit() and whenReady() leave out tasks waiting for their inputs", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  try {
    const never = new Future<number>();
    const input = new Future<number>();
    // Waiting for inputs, each settled there in its own way: none ever held a place in the queue.
    const controller = new AbortController();
    const aborted = pool.with({ signal: controller.signal }).submit((x: number) => x, never);
    const late = pool.with({ deadline: Date.now() + 20 }).submit((x: number) => x, never);
    const cancelled = pool.submit((x: number) => x, never);
    const failedInput = new Future<number>();
    const failed = pool.submit((x: number) => x, failedInput);
    const waiting = [1, 2, 3].map((i) => pool.submit((x: number) => x + i, input));
    // No task is queued: the pool was full of these (QueueFullError, whenReady() pending for ever).
    assert.equal(pool.stats().queued, 0);
    const running = pool.submit(() => gate);
    await pool.whenReady();
    controller.abort(new Error("stop"));
    assert.equal(cancelled.cancel(), true);
    failedInput.setException(new RangeError("bad input"));
    assert.ok((await late.exception()) instanceof TimeoutError);
    assert.equal(((await aborted.exception()) as Error).message, "stop");
    assert.ok((await failed.exception()) instanceof DependencyError);
    // They left no place behind either: one task waits behind the running one, and that is all.
    const queued = pool.submit(() => "queued");
    assert.equal(pool.stats().queued, 1);
    assert.throws(() => pool.submit(() => "one too many"), QueueFullError);
    // shutdown() waits for the tasks waiting for their inputs; once the inputs are done they are
    // queued (past maxQueued: they were accepted already) and run.
    let closed = false;
    const closing = pool.shutdown().then(() => closed = true);
    open();
    assert.equal(await queued, "queued");
    await running;
    assert.equal(closed, false);
    input.setResult(10);
    assert.equal(pool.stats().queued, 3);
    assert.deepEqual(await Promise.all(waiting), [11, 12, 13]);
    await closing;
    assert.equal(pool.stats().queued, 0);
  } finally {
    // A failed check leaves a task running and tasks waiting for inputs that never come.
    open();
    await pool.shutdown({ cancelFutures: true });
  }
});

Deno.test("map() waits for room instead of failing when the queue is full", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 5 });
  let maxQueued = 0;
  const items = Array.from({ length: 2_000 }, (_, i) => i);
  const out: number[] = [];
  for await (
    const value of pool.map(async (x: number) => {
      maxQueued = Math.max(maxQueued, pool.stats().queued);
      await Promise.resolve();
      return x * 2;
    }, items)
  ) out.push(value);
  assert.equal(out.length, 2_000);
  assert.deepEqual(out.slice(0, 3), [0, 2, 4]);
  assert.equal(out.at(-1), 3_998);
  assert.ok(maxQueued <= 5 + 2, `at most maxQueued plus free slots waited: ${maxQueued}`);
});

Deno.test("map() waiting for room when the executor shuts down raises InvalidStateError there", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
  const { promise: gate, resolve: open } = Promise.withResolvers<void>();
  const it = pool.map(async (n: number) => (await gate, n), [1, 2, 3, 4]);
  const first = it.next();
  // 1 runs and 2 waits: the queue is full, and map() waits for room.
  while (pool.stats().queued < 1) await Promise.resolve();
  // whenReady() returns at once after shutdown, still full: map() spun there, starving the
  // event loop, so that neither the tasks nor shutdown() ever finished.
  const closed = pool.shutdown();
  // The tasks finish in a later macrotask, as I/O would: a spinning map() never lets them.
  setTimeout(open, 0);
  assert.deepEqual(await first, { value: 1, done: false });
  assert.deepEqual(await it.next(), { value: 2, done: false });
  await assert.rejects(() => it.next(), (e: unknown) =>
    e instanceof Error &&
    e.name === "InvalidStateError" && /shut/.test(e.message));
  await closed;
});

Deno.test("map() with buffersize and maxQueued together pulls an endless source lazily", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 2 });
  let pulled = 0;
  function* naturals() {
    for (let i = 0;; i++) {
      pulled++;
      yield i;
    }
  }
  const out: number[] = [];
  for await (const value of pool.map((x: number) => x, naturals(), { buffersize: 4 })) {
    out.push(value);
    if (out.length === 100) break;
  }
  assert.deepEqual(out.slice(0, 5), [0, 1, 2, 3, 4]);
  assert.ok(pulled <= 100 + 4 + 1, `pulled ${pulled}`);
});

Deno.test("map() with maxQueued pulls a bounded number of items that are pending futures", async () => {
  const options = { maxWorkers: 2, maxQueued: 2 };
  for (const make of [() => new AsyncPoolExecutor(options), () => workerPool(options)]) {
    const pool = make();
    const inputs: Future<number>[] = [];
    // Endless; the cap only makes a regression fail instead of freezing the event loop (map()
    // read it all in one synchronous loop: its tasks, waiting for their inputs, filled no queue).
    const pending = function* () {
      while (inputs.length < 1_000) {
        const input = new Future<number>();
        inputs.push(input);
        yield input;
      }
    };
    try {
      const it = pool.map(echo<number>, pending());
      // maxQueued tasks waiting for their inputs, and one more item pulled for the next.
      assert.ok(inputs.length <= 2 + 1, `pulled ${inputs.length} before anything was read`);
      // Each input done lets one more item in.
      for (let i = 0; i < 10; i++) {
        inputs[i]!.setResult(i);
        assert.deepEqual(await it.next(), { value: i, done: false });
        assert.ok(inputs.length <= i + 1 + 2 + 1, `pulled ${inputs.length} after ${i + 1} read`);
      }
      // Cancels the tasks still waiting for their inputs.
      await it.return!();
      assert.equal(pool.stats().queued, 0);
      assert.equal(pool.stats().futures.cancelled, 2);
    } finally {
      // A failed check leaves tasks waiting for inputs that never come.
      await pool.shutdown({ cancelFutures: true });
    }
  }
});

Deno.test("onIdle() resolves when every submitted task has settled", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  await pool.onIdle();
  const settled: number[] = [];
  for (let i = 0; i < 10; i++) {
    pool.submit(async () => {
      await Promise.resolve();
      if (i === 3) throw new Error("one fails");
      return i;
    }).addDoneCallback(() => settled.push(i));
  }
  await pool.onIdle();
  assert.equal(settled.length, 10);
  const worker = workerPool({ maxWorkers: 1 });
  try {
    const f = worker.submit(add, 2, 3);
    await worker.onIdle();
    assert.equal(f.done(), true);
  } finally {
    await worker.shutdown();
  }
});

Deno.test("onIdle() waits for the tasks submitted before it, not for later ones", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  const first = Promise.withResolvers<void>();
  const later = Promise.withResolvers<void>();
  const a = pool.submit(() => first.promise);
  const idle = pool.onIdle();
  const b = pool.submit(() => later.promise);
  first.resolve();
  // It waited for b too: under a steady flow of submits it never resolved.
  await idle;
  assert.equal(a.done(), true);
  assert.equal(b.done(), false);
  const all = pool.onIdle();
  later.resolve();
  await all;
  assert.equal(b.done(), true);
});

Deno.test("executors check maxQueued, naming the option", () => {
  assert.throws(() => new AsyncPoolExecutor({ maxQueued: 0 }), /'maxQueued'.*received 0/);
  assert.throws(() => workerPool({ maxQueued: -1 }), RangeError);
  assert.throws(() => new AsyncPoolExecutor({ maxQueue: 3 } as never), /did you mean 'maxQueued'/);
});

Deno.test("map() calls that share a full queue wait for room in turn, none raising QueueFullError", async () => {
  // Each woken waiter found the room taken by another map() and submitted anyway.
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2, maxQueued: 10 });
  const items = Array.from({ length: 300 }, (_, i) => i);
  const sums = await Promise.all(
    Array.from({ length: 5 }, async () => {
      let sum = 0;
      for await (const value of pool.map((x: number) => Promise.resolve(x), items)) sum += value;
      return sum;
    }),
  );
  assert.deepEqual(sums, Array(5).fill(300 * 299 / 2));
  // The same with an async source, which yields between taking an item and submitting it.
  async function* source() {
    for (const item of items) yield await Promise.resolve(item);
  }
  const counts = await Promise.all(
    Array.from({ length: 5 }, async () => {
      let n = 0;
      for await (const _ of pool.map((x: number) => Promise.resolve(x), source())) n++;
      return n;
    }),
  );
  assert.deepEqual(counts, Array(5).fill(300));
});

Deno.test("whenReady() wakes as many waiters as there are places, not every waiter at every event", async () => {
  const { ExecutorCore } = await import("../../executors/_core.ts");
  const full = Object.getOwnPropertyDescriptor(ExecutorCore.prototype, "full")!;
  let looks = 0;
  Object.defineProperty(ExecutorCore.prototype, "full", {
    ...full,
    get(this: InstanceType<typeof ExecutorCore>) {
      looks++;
      return full.get!.call(this);
    },
  });
  try {
    await using pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
    const gates = Array.from({ length: 210 }, () => Promise.withResolvers<void>());
    let next = 0;
    const gated = () => {
      const gate = gates[next]!;
      const task = pool.submit(() => gate.promise);
      next++;
      return task;
    };
    // Filled up to maxQueued.
    const tasks: Promise<void>[] = [];
    for (;;) {
      try {
        tasks.push(gated());
      } catch (error) {
        assert(error instanceof QueueFullError);
        break;
      }
    }
    const first = tasks.length;
    // 200 producers wait for room; each submits when it gets some (whenReady() is no
    // reservation: one woken with another may find the place taken, and waits again).
    const producers = Array.from({ length: 200 }, async () => {
      for (;;) {
        await pool.whenReady();
        try {
          tasks.push(gated());
          return;
        } catch (error) {
          assert(error instanceof QueueFullError);
        }
      }
    });
    looks = 0;
    // Each task that ends makes one place: one producer takes it.
    for (let i = 0; i < 200; i++) {
      gates[i]!.resolve();
      await tasks[i];
    }
    await Promise.all(producers);
    for (let i = 200; i < gates.length; i++) gates[i]!.resolve();
    await Promise.all(tasks);
    assert.equal(tasks.length, first + 200);
    // Every waiter looked again at every event: about 200 × 200 looks. A few per event now.
    assert(looks < 200 * 10, `${looks} looks at the queue for 200 places`);
  } finally {
    Object.defineProperty(ExecutorCore.prototype, "full", full);
  }
});

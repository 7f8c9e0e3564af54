import assert from "node:assert/strict";
import { ProcessPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import { recorderOf } from "../../observe/_registry.ts";
import { Recorder } from "../../observe/_recorder.ts";
import type { Job } from "../../executors/_task.ts";

const epoch = () => performance.timeOrigin + performance.now();

Deno.test("Recorder takes a worker pool task's end from the worker, not from when its result arrived", async () => {
  await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 1 });
  const recorder = recorderOf(cpu, "test");
  const tiny = () => 0;
  // The pool sends a worker as many tasks at once as cover ~10 ms of its recent run times: a few
  // hundred tiny tasks (after the first, which compiles the function) make room for two. On a
  // loaded machine a task may still be measured long, as its thread was descheduled: then only
  // one goes, and the pair is tried again.
  for (let attempt = 1;; attempt++) {
    await Promise.all(Array.from({ length: 300 }, () => cpu.submit(tiny)));
    const shared = new Int32Array(new SharedArrayBuffer(4));
    // `first` ends, then `second` starts on the same worker and tells this thread it did.
    const first = cpu.submit(() => 1);
    const second = cpu.submit((s: Int32Array) => {
      // The worker's clock and this thread's are read from different origins, which drift apart
      // by a fraction of a millisecond over a long run: 10 ms of work on the worker puts the mark
      // far past the first task's end on either clock.
      const until = performance.now() + 10;
      while (performance.now() < until);
      Atomics.store(s, 0, 1);
      Atomics.notify(s, 0);
      return 2;
    }, shared);
    // Both are on the worker once the pump has run (a microtask after submit), if it had room.
    await Promise.resolve();
    const running = cpu.stats().running;
    if (running !== 2) {
      // The second waits here for the first's result: blocking this thread would never end.
      assert.deepEqual(await Promise.all([first, second]), [1, 2]);
      assert(attempt < 5, `${running} of the 2 tasks went to the worker, ${attempt} times`);
      continue;
    }
    // This thread blocks until the second task started (if it has not yet): the first's result
    // is not read before.
    assert.notEqual(Atomics.wait(shared, 0, 0, 60_000), "timed-out");
    const mark = epoch();
    assert.deepEqual(await Promise.all([first, second]), [1, 2]);
    const bar = recorder.bars.at(-2)!;
    assert.ok(bar.start <= bar.end, JSON.stringify(bar));
    assert.ok(bar.end < mark, `the bar ends at ${bar.end}, after ${mark}`);
    break;
  }
});

Deno.test("Recorder places a process pool task's bar within its round trip, on this process's clock", async () => {
  await using proc = new ProcessPoolExecutor({ maxWorkers: 1 });
  const recorder = recorderOf(proc, "test");
  await proc.submit(() => 0);
  const before = epoch();
  assert.equal(await proc.submit((a: number, b: number) => a + b, 2, 3), 5);
  const after = epoch();
  const bar = recorder.bars.at(-1)!;
  assert.ok(before <= bar.start && bar.start <= bar.end && bar.end <= after, JSON.stringify(bar));
});

Deno.test("Recorder keeps the worker's end of a task whose value cannot be sent back", async () => {
  await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 1 });
  const recorder = recorderOf(cpu, "test");
  await cpu.submit(() => 0);
  const [sent, unsent] = await Promise.allSettled([
    cpu.submit(() => 1),
    cpu.submit(() => () => "a function is not cloneable"),
  ]);
  assert.deepEqual(sent, { status: "fulfilled", value: 1 });
  assert.equal(unsent.status, "rejected");
  const bars = recorder.bars.slice(-2);
  assert.deepEqual(bars.map((b) => b.outcome), ["completed", "failed"]);
  for (const bar of bars) assert.ok(bar.start <= bar.end, JSON.stringify(bar));
});

Deno.test("Recorder never ends a bar before it starts when a worker's clock runs behind this thread's", () => {
  const recorder = new Recorder({ observer: undefined, label: "WorkerPoolExecutor 'skew'" });
  const job = {
    observerSlot: -1,
    queuedAt: performance.now(),
    fn: () => 0,
    attempt: 1,
    options: {},
  } as unknown as Job;
  recorder.queued(job);
  recorder.started(job, "worker 1");
  // It ran 0.1 ms and, on the worker's clock, ended 0.3 ms before this thread queued it.
  recorder.ran(job, 0.1, performance.timeOrigin + job.queuedAt - 0.3);
  recorder.ended(job, true, undefined);
  const [bar] = recorder.bars;
  assert.ok(bar!.start <= bar!.end, JSON.stringify(bar));
  assert.ok(Math.abs(bar!.end - bar!.start - 0.1) < 1e-3, JSON.stringify(bar));
  assert.ok(bar!.start >= performance.timeOrigin + job.queuedAt, JSON.stringify(bar));
});

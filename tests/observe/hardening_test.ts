// The observers at their edges: a tracer that throws, a page that stops reading, executors that
// share a name, and options or arguments that cannot be used.

import assert from "node:assert/strict";
import { AsyncPoolExecutor } from "../../mod.ts";
import {
  dashboardHandler,
  metricsHandler,
  readMetrics,
  serveDashboard,
} from "../../observe/mod.ts";
import { recorderOf } from "../../observe/_registry.ts";
import { parsePrometheus } from "./_prom_parser.ts";

Deno.test("an observer that throws is logged once and breaks neither the task nor the program", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  readMetrics([io]);
  // As a span processor that throws does inside a tracer: each event of the engine reached it
  // unguarded, and the throw ended the program (an uncaught error) or lost the task.
  let calls = 0;
  recorderOf(io, "test").addSink({
    queued() {
      calls++;
      throw new Error("observer bug");
    },
    ended() {
      throw new Error("observer bug");
    },
  });
  const logged: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => logged.push(args);
  try {
    assert.equal(await io.submit(() => 42), 42);
    assert.equal(await io.submit(() => 43), 43);
  } finally {
    console.error = original;
  }
  assert.equal(calls, 2, "called again after it threw");
  assert.equal(logged.length, 1);
  assert.match(String(logged[0]![0]), /an observer of an executor threw.*observer bug/s);
  assert.deepEqual(readMetrics([io])[0]!.attempts, { completed: 2, failed: 0, cancelled: 0 });
});

Deno.test("a task failing with a value that has no text is recorded as a failure, not fatal", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  readMetrics([io]);
  // Building the failure's text threw inside the recorder (String() of an object without a
  // prototype), which escaped as an uncaught error and ended the program.
  const bare = Object.create(null);
  const loud = {
    toString: () => {
      throw new Error("no text");
    },
  };
  const silent = new Error("hidden");
  Object.defineProperty(silent, "message", {
    get: () => {
      throw new Error("no message");
    },
  });
  const unnamed = () => 1;
  Object.defineProperty(unnamed, "name", {
    get: () => {
      throw new Error("no name");
    },
  });
  for (const value of [bare, loud, silent]) {
    await assert.rejects(
      io.submit(() => {
        throw value;
      }),
      (error) => error === value,
    );
  }
  assert.equal(await io.submit(unnamed), 1);
  const metrics = readMetrics([io])[0]!;
  assert.deepEqual(metrics.attempts, { completed: 1, failed: 3, cancelled: 0 });
  assert.deepEqual(
    recorderOf(io, "test").failures.map((f) => f.error),
    ["[object Object]", "[object Object]", "[object Error]"],
  );
  assert.ok(recorderOf(io, "test").bars.some((bar) => bar.fn === "anonymous"));
});

Deno.test("a task failing with a revoked proxy rejects with a TypeError holding it, not fatal", async () => {
  // Any instanceof on such a value throws: the engine's own checks ended the program.
  await using io = new AsyncPoolExecutor({ name: "io" });
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  await assert.rejects(
    io.submit(() => {
      throw proxy;
    }),
    (error) =>
      error instanceof TypeError && error.cause === proxy &&
      /failed with a value that cannot be inspected/.test(error.message),
  );
  assert.equal(await io.submit(() => 2), 2);
});

Deno.test("a page that stops reading the event stream holds one snapshot, not one per interval", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const handler = dashboardHandler([io], { interval: 10 });
  try {
    const reader = handler(new Request("http://127.0.0.1/events")).body!.getReader();
    // Some thirty intervals in which nothing reads (each snapshot was queued: memory grew by
    // about 50 KB a snapshot for as long as the page stayed open).
    await new Promise((resolve) => setTimeout(resolve, 300));
    let ready = 0;
    while (true) {
      const next = await Promise.race([
        reader.read().then(() => "chunk"),
        new Promise((resolve) => setTimeout(() => resolve("none"), 0)),
      ]);
      if (next === "none") break;
      ready++;
    }
    assert.ok(ready >= 1 && ready <= 2, `${ready} snapshots were waiting`);
    await reader.cancel();
  } finally {
    handler.close();
  }
});

Deno.test("executors of the same name get series and cards of their own; one listed twice counts once", async () => {
  await using a = new AsyncPoolExecutor();
  await using b = new AsyncPoolExecutor();
  await a.submit(() => 1);
  await b.submit(() => 2);
  await b.submit(() => 3);
  const names = readMetrics([a, b, b]).map((m) => m.executor);
  // Both were "AsyncPoolExecutor": duplicate series, which the format forbids.
  assert.deepEqual(names, ["AsyncPoolExecutor", "AsyncPoolExecutor (2)"]);
  const text = await metricsHandler([a, b])(new Request("http://127.0.0.1/metrics")).text();
  const series = [...parsePrometheus(text).values()].flatMap((family) =>
    family.samples.map((s) => `${s.name}${JSON.stringify(s.labels)}`)
  );
  assert.equal(new Set(series).size, series.length, "no series twice");
  // A pool named like the second of another name keeps that name apart too.
  await using x1 = new AsyncPoolExecutor({ name: "x" });
  await using x2 = new AsyncPoolExecutor({ name: "x" });
  await using x3 = new AsyncPoolExecutor({ name: "x (2)" });
  await using x4 = new AsyncPoolExecutor({ name: "x" });
  assert.deepEqual(readMetrics([x1, x2, x3, x4]).map((m) => m.executor), [
    "x",
    "x (2)",
    "x (2) (2)",
    "x (3)",
  ]);
  assert.deepEqual(readMetrics([x3, x1, x2]).map((m) => m.executor), ["x (2)", "x", "x (3)"]);
  // A name with a newline is kept (it was replaced by the class name).
  await using odd = new AsyncPoolExecutor({ name: "a\nb" });
  assert.equal(readMetrics([odd])[0]!.executor, "a\nb");
});

Deno.test("the observers refuse arguments and options they cannot use, naming them", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const refused = (pattern: RegExp) => (e: unknown) =>
    e instanceof TypeError || e instanceof RangeError ? pattern.test(e.message) : false;
  // One executor instead of a list was read as a record with no entries: nothing was recorded.
  assert.throws(() => metricsHandler(io as never), refused(/received one executor.*\[executor\]/));
  assert.throws(() => readMetrics(new Map([["io", io]]) as never), refused(/received a Map/));
  assert.throws(
    () => readMetrics([io.with({ timeout: 1_000 })]),
    refused(/a view made by with\(\)/),
  );
  // An interval of 0 sent snapshots without pause; the others were taken as they came.
  assert.throws(() => dashboardHandler([io], { interval: 0 }), refused(/'interval' must be/));
  assert.throws(() => dashboardHandler([io], { window: -1 }), refused(/'window' must be/));
  assert.throws(() => readMetrics([io], { workerExpiry: -1 }), refused(/'workerExpiry' must be/));
  assert.throws(
    () => dashboardHandler([io], { intervall: 100 } as never),
    refused(/'intervall' is not an option \(did you mean 'interval'\?\)/),
  );
  assert.throws(
    () => serveDashboard([io], 8080 as never),
    refused(/did you mean \{ port: 8080 \}/),
  );
});

Deno.test("a worker pool's attempt stopped at its timeout is drawn from when it started, not from its queueing", async () => {
  const { workerPool, release } = await import("../executors/_worker_helpers.ts");
  const { cell, hold, spinUntilAborted } = await import("../fixtures/tasks.ts");
  await using pool = workerPool({ maxWorkers: 1 });
  readMetrics([pool]);
  assert.equal(await pool.submit((x: number) => x, 1), 1);
  // The one worker is held, so the attempt that will time out waits in the queue first.
  const gate = cell();
  const first = pool.submit(hold, gate, "first");
  const late = pool.with({ timeout: 100 }).submit(spinUntilAborted);
  // A gap between its queueing and its start that no clock reading can miss.
  await new Promise((resolve) => setTimeout(resolve, 50));
  release(gate);
  assert.equal(await first, "first");
  assert.equal(((await late.exception()) as Error).name, "TimeoutError");
  const bars = recorderOf(pool, "test").bars;
  const stopped = bars.at(-1)!;
  assert.equal(stopped.outcome, "failed");
  // Its run had no reported run time, and its start was taken to be its queueing: the bar
  // began before the held task's ended, and its wait counted as run time.
  const held = bars.at(-2)!;
  assert.ok(stopped.start >= held.end - 1, `${stopped.start} < ${held.end}`);
});

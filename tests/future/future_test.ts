import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  CancelledError,
  CircuitOpenError,
  Future,
  InvalidStateError,
  TimeoutError,
  WorkerCrashedError,
} from "../../future/mod.ts";
import {
  captureReportedErrors,
  futureIn,
  type Kind,
  sleep,
  tick,
  ticks,
  track,
} from "./_helpers.ts";

const KINDS: Kind[] = ["pending", "running", "cancelled", "succeeded", "failed"];

// ---------------------------------------------------------------------------------------------
// States and predicates

Deno.test("Future() starts pending", () => {
  const future = new Future<number>();
  assert.equal(future.state, "pending");
  assert.equal(future.done(), false);
  assert.equal(future.running(), false);
  assert.equal(future.cancelled(), false);
});

Deno.test("Future.state, done(), running() and cancelled() agree in every state", () => {
  const expected: Record<Kind, [string, boolean, boolean, boolean]> = {
    pending: ["pending", false, false, false],
    running: ["running", false, true, false],
    cancelled: ["cancelled", true, false, true],
    succeeded: ["finished", true, false, false],
    failed: ["finished", true, false, false],
  };
  for (const kind of KINDS) {
    const future = futureIn(kind);
    assert.deepEqual(
      [future.state, future.done(), future.running(), future.cancelled()],
      expected[kind],
      kind,
    );
  }
});

Deno.test("Future.state goes running → finished through the producer calls", () => {
  const future = new Future<string>();
  assert.equal(future.setRunningOrNotifyCancel(), true);
  assert.equal(future.state, "running");
  future.setResult("ok");
  assert.equal(future.state, "finished");
  assert.equal(future.running(), false);
});

// ---------------------------------------------------------------------------------------------
// cancel()

Deno.test("Future.cancel() cancels a pending future and returns true", async () => {
  const future = futureIn("pending");
  assert.equal(future.cancel(), true);
  assert.equal(future.state, "cancelled");
  assert.equal(future.cancelled(), true);
  assert.equal(future.done(), true);
  await assert.rejects(future.result(), CancelledError);
});

Deno.test("Future.cancel() returns true again once cancelled", () => {
  const future = futureIn("cancelled");
  assert.equal(future.cancel(), true);
  assert.equal(future.state, "cancelled");
});

Deno.test("Future.cancel() returns false once running", async () => {
  const future = futureIn("running");
  assert.equal(future.cancel(), false);
  assert.equal(future.state, "running");
  assert.equal(future.cancelled(), false);
  future.setResult(7);
  assert.equal(await future.result(), 7);
});

Deno.test("Future.cancel() returns false once finished, and the outcome is kept", async () => {
  const succeeded = futureIn("succeeded");
  assert.equal(succeeded.cancel(), false);
  assert.equal(succeeded.state, "finished");
  assert.equal(await succeeded.result(), 42);

  const error = new Error("kept");
  const failed = futureIn("failed", error);
  assert.equal(failed.cancel(), false);
  assert.equal(failed.state, "finished");
  assert.equal(await failed.exception(), error);
});

// ---------------------------------------------------------------------------------------------
// result() and exception() on done futures

Deno.test("Future.result() resolves with the value", async () => {
  assert.equal(await futureIn("succeeded").result(), 42);
  const future = new Future<undefined>();
  future.setResult(undefined);
  assert.equal(await future.result(), undefined);
});

Deno.test("Future.result() rejects with the task's own error", async () => {
  const error = new RangeError("own");
  await assert.rejects(futureIn("failed", error).result(), (e) => e === error);
  const thrownString = futureIn("failed", "a string");
  await assert.rejects(thrownString.result(), (e) => e === "a string");
});

Deno.test("Future.result() rejects with CancelledError when cancelled", async () => {
  await assert.rejects(futureIn("cancelled").result(), CancelledError);
});

Deno.test("Future.exception() resolves with the error, or undefined on success", async () => {
  const error = new TypeError("own");
  assert.equal(await futureIn("failed", error).exception(), error);
  assert.equal(await futureIn("succeeded").exception(), undefined);
});

Deno.test("Future.exception() rejects with CancelledError when cancelled", async () => {
  await assert.rejects(futureIn("cancelled").exception(), CancelledError);
});

// ---------------------------------------------------------------------------------------------
// result() and exception() with timeout 0

Deno.test("Future.result() with timeout 0 rejects with TimeoutError and leaves the future untouched", async () => {
  for (const kind of ["pending", "running"] as const) {
    const future = futureIn(kind);
    await assert.rejects(future.result({ timeout: 0 }), TimeoutError);
    assert.equal(future.state, kind);
    future.setResult(5);
    assert.equal(await future.result({ timeout: 0 }), 5);
  }
  const pending = futureIn("pending");
  await assert.rejects(pending.result({ timeout: 0 }), TimeoutError);
  assert.equal(pending.cancel(), true);
});

Deno.test("Future.exception() with timeout 0 rejects with TimeoutError and leaves the future untouched", async () => {
  for (const kind of ["pending", "running"] as const) {
    const future = futureIn(kind);
    await assert.rejects(future.exception({ timeout: 0 }), TimeoutError);
    assert.equal(future.state, kind);
    const error = new Error("later");
    future.setException(error);
    assert.equal(await future.exception({ timeout: 0 }), error);
  }
});

Deno.test("Future.result() and exception() with timeout 0 answer at once when done", async () => {
  assert.equal(await futureIn("succeeded").result({ timeout: 0 }), 42);
  assert.equal(await futureIn("succeeded").exception({ timeout: 0 }), undefined);
  const error = new Error("done");
  await assert.rejects(futureIn("failed", error).result({ timeout: 0 }), (e) => e === error);
  assert.equal(await futureIn("failed", error).exception({ timeout: 0 }), error);
  await assert.rejects(futureIn("cancelled").result({ timeout: 0 }), CancelledError);
  await assert.rejects(futureIn("cancelled").exception({ timeout: 0 }), CancelledError);
});

// ---------------------------------------------------------------------------------------------
// result() and exception() waiting for a later outcome

Deno.test("Future.result() waits for a later setResult()", async () => {
  const future = futureIn("running");
  const plain = future.result();
  const bounded = future.result({ timeout: 60_000 });
  queueMicrotask(() => future.setResult(9));
  assert.equal(await plain, 9);
  assert.equal(await bounded, 9);
});

Deno.test("Future.result() waits for a later setException()", async () => {
  const future = futureIn("running");
  const error = new Error("later");
  const waiting = future.result({ timeout: 60_000 });
  setTimeout(() => future.setException(error), 0);
  await assert.rejects(waiting, (e) => e === error);
});

Deno.test("Future.result() rejects with CancelledError on a later cancel()", async () => {
  const future = futureIn("pending");
  const waiting = future.result({ timeout: 60_000 });
  queueMicrotask(() => future.cancel());
  await assert.rejects(waiting, CancelledError);
});

Deno.test("Future.exception() waits for a later outcome", async () => {
  const succeeding = futureIn("running");
  const failing = futureIn("running");
  const cancelling = futureIn("pending");
  const error = new Error("later");
  const waits = [
    succeeding.exception({ timeout: 60_000 }),
    failing.exception(),
    cancelling.exception({ timeout: 60_000 }),
  ];
  setTimeout(() => {
    succeeding.setResult(1);
    failing.setException(error);
    cancelling.cancel();
  }, 0);
  assert.equal(await waits[0], undefined);
  assert.equal(await waits[1], error);
  await assert.rejects(waits[2]!, CancelledError);
});

Deno.test("Future.result() rejects with TimeoutError after the timeout; the future keeps running", async () => {
  const future = futureIn("running");
  await assert.rejects(future.result({ timeout: 5 }), TimeoutError);
  await assert.rejects(future.exception({ timeout: 5 }), TimeoutError);
  assert.equal(future.state, "running");
  future.setResult(3);
  assert.equal(await future.result({ timeout: 5 }), 3);
});

Deno.test("Future.result() keeps waiting with a timeout longer than a timer can hold", async () => {
  const future = futureIn("running");
  const waiting = track(future.result({ timeout: 2 ** 31 }));
  const excepting = track(future.exception({ timeout: 2 ** 40 }));
  await sleep(20);
  assert.equal(waiting.settled(), false);
  assert.equal(excepting.settled(), false);
  future.setResult(11);
  assert.equal(await waiting.promise, 11);
  assert.equal(await excepting.promise, undefined);
});

// ---------------------------------------------------------------------------------------------
// result() and exception() with a signal

Deno.test("Future.result() rejects with the signal's reason when it aborts", async () => {
  const future = futureIn("running");
  const controller = new AbortController();
  const reason = new Error("stop waiting");
  const waiting = future.result({ signal: controller.signal, timeout: 60_000 });
  queueMicrotask(() => controller.abort(reason));
  await assert.rejects(waiting, (e) => e === reason);
  assert.equal(future.state, "running");
  future.setResult(1);
  assert.equal(await future.result(), 1);
});

Deno.test("Future.exception() rejects with the signal's reason when it aborts", async () => {
  const future = futureIn("pending");
  const controller = new AbortController();
  const waiting = future.exception({ signal: controller.signal });
  setTimeout(() => controller.abort(), 0);
  await assert.rejects(waiting, (e) => e instanceof DOMException && e.name === "AbortError");
  assert.equal(future.state, "pending");
});

Deno.test("Future.result() rejects at once with an already-aborted signal's reason", async () => {
  const reason = new Error("already");
  const signal = AbortSignal.abort(reason);
  const future = futureIn("pending");
  await assert.rejects(future.result({ signal }), (e) => e === reason);
  await assert.rejects(future.exception({ signal }), (e) => e === reason);
  assert.equal(future.state, "pending");
});

Deno.test("Future.result() on a done future answers even with an aborted signal", async () => {
  const signal = AbortSignal.abort(new Error("too late"));
  assert.equal(await futureIn("succeeded").result({ signal }), 42);
  await assert.rejects(futureIn("cancelled").result({ signal }), CancelledError);
});

Deno.test("Future.result() ignores a signal that aborts after the future is done", async () => {
  const future = futureIn("running");
  const controller = new AbortController();
  const waiting = future.result({ signal: controller.signal });
  future.setResult(2);
  controller.abort(new Error("after"));
  assert.equal(await waiting, 2);
});

// ---------------------------------------------------------------------------------------------
// Bad timeouts

Deno.test("Future.result() rejects a negative timeout with a RangeError naming 'timeout' and the value", async () => {
  for (const future of [futureIn("pending"), futureIn("succeeded")]) {
    for (const read of [future.result, future.exception]) {
      await assert.rejects(
        async () => await read.call(future, { timeout: -1 }),
        (e) =>
          e instanceof RangeError && e.message.includes("'timeout'") && e.message.includes("-1"),
      );
    }
  }
  await assert.rejects(
    async () => await futureIn("pending").result({ timeout: Number.NaN }),
    (e) => e instanceof RangeError && e.message.includes("NaN"),
  );
});

// ---------------------------------------------------------------------------------------------
// Done callbacks

Deno.test("Future.addDoneCallback() runs callbacks in the order added, with the future", () => {
  for (const finish of ["setResult", "setException", "cancel"] as const) {
    const future = futureIn(finish === "cancel" ? "pending" : "running");
    const seen: string[] = [];
    for (const name of ["a", "b", "c"]) {
      future.addDoneCallback((f) => {
        assert.equal(f, future);
        assert.equal(f.done(), true);
        seen.push(name);
      });
    }
    assert.deepEqual(seen, []);
    if (finish === "setResult") future.setResult(1);
    if (finish === "setException") future.setException(new Error("x"));
    if (finish === "cancel") future.cancel();
    assert.deepEqual(seen, ["a", "b", "c"], finish);
  }
});

Deno.test("Future.addDoneCallback() runs at once, synchronously, when already done", async () => {
  for (const kind of ["succeeded", "failed", "cancelled"] as const) {
    const future = futureIn(kind);
    let seen: Future<number> | undefined;
    future.addDoneCallback((f) => seen = f);
    assert.equal(seen, future, kind);
  }
  const future = futureIn("succeeded");
  const values: number[] = [];
  future.addDoneCallback((f) => void f.result().then((v) => values.push(v)));
  await tick();
  assert.deepEqual(values, [42]);
});

Deno.test("Future.addDoneCallback() runs each callback once", () => {
  const future = futureIn("pending");
  let calls = 0;
  future.addDoneCallback(() => calls++);
  assert.equal(future.setRunningOrNotifyCancel(), true);
  assert.equal(calls, 0);
  future.setResult(1);
  assert.equal(future.cancel(), false);
  assert.throws(() => future.setResult(2), InvalidStateError);
  assert.equal(calls, 1);

  const cancelled = futureIn("pending");
  let cancelCalls = 0;
  cancelled.addDoneCallback(() => cancelCalls++);
  cancelled.cancel();
  cancelled.cancel();
  assert.equal(cancelled.setRunningOrNotifyCancel(), false);
  assert.equal(cancelCalls, 1);
});

Deno.test("Future.addDoneCallback() reports a throwing callback and runs the rest", async () => {
  using reported = captureReportedErrors();
  const future = futureIn("running");
  const boom = new Error("callback failed");
  const seen: string[] = [];
  future.addDoneCallback(() => seen.push("first"));
  future.addDoneCallback(() => {
    throw boom;
  });
  future.addDoneCallback(() => seen.push("third"));
  future.setResult(1);
  seen.push("producer");
  // Reported after the producer's step: in Deno an error nobody listens for ends the program
  // where it is reported, which was inside setResult(), before "third" and the producer.
  assert.deepEqual(seen, ["first", "third", "producer"]);
  assert.deepEqual(reported.errors, []);
  await Promise.resolve();
  assert.deepEqual(reported.errors, [boom]);
  assert.equal(future.state, "finished");
});

Deno.test("Future.addDoneCallback() reports a throwing callback on a done future without throwing", async () => {
  using reported = captureReportedErrors();
  const future = futureIn("succeeded");
  const boom = new Error("late callback failed");
  future.addDoneCallback(() => {
    throw boom;
  });
  await Promise.resolve();
  assert.deepEqual(reported.errors, [boom]);
  assert.equal(await future.result(), 42);
});

Deno.test("Future.cancel() still cancels when a done callback throws", async () => {
  using reported = captureReportedErrors();
  const future = futureIn("pending");
  future.addDoneCallback(() => {
    throw new Error("in cancel");
  });
  assert.equal(future.cancel(), true);
  await Promise.resolve();
  assert.equal(reported.errors.length, 1);
  await assert.rejects(future.result(), CancelledError);
});

Deno.test("Future.addDoneCallback() throws TypeError for a non-function", () => {
  const future = futureIn("pending");
  assert.throws(
    () => future.addDoneCallback("nope" as unknown as () => void),
    (e) => e instanceof TypeError && e.message.includes("'fn'"),
  );
});

// ---------------------------------------------------------------------------------------------
// Producer side

Deno.test("Future.setRunningOrNotifyCancel() marks a pending future running", () => {
  const future = futureIn("pending");
  assert.equal(future.setRunningOrNotifyCancel(), true);
  assert.equal(future.running(), true);
});

Deno.test("Future.setRunningOrNotifyCancel() returns false for a cancelled future", () => {
  const future = futureIn("cancelled");
  assert.equal(future.setRunningOrNotifyCancel(), false);
  assert.equal(future.state, "cancelled");
});

Deno.test("Future.setRunningOrNotifyCancel() throws InvalidStateError when running or finished", () => {
  for (const kind of ["running", "succeeded", "failed"] as const) {
    const future = futureIn(kind);
    const before = future.state;
    assert.throws(() => future.setRunningOrNotifyCancel(), InvalidStateError, kind);
    assert.equal(future.state, before);
  }
});

Deno.test("Future.setResult() and setException() throw InvalidStateError on a cancelled future", async () => {
  const future = futureIn("cancelled");
  assert.throws(() => future.setResult(1), InvalidStateError);
  assert.throws(() => future.setException(new Error("x")), InvalidStateError);
  assert.equal(future.state, "cancelled");
  await assert.rejects(future.result(), CancelledError);
});

Deno.test("Future.setResult() and setException() throw InvalidStateError once finished; the first outcome is kept", async () => {
  const succeeded = futureIn("succeeded");
  assert.throws(() => succeeded.setResult(1), InvalidStateError);
  assert.throws(() => succeeded.setException(new Error("x")), InvalidStateError);
  assert.equal(await succeeded.result(), 42);

  const first = new Error("first");
  const failed = futureIn("failed", first);
  assert.throws(() => failed.setResult(1), InvalidStateError);
  assert.throws(() => failed.setException(new Error("second")), InvalidStateError);
  assert.equal(await failed.exception(), first);
});

Deno.test("Future.setResult() is allowed on a pending future", async () => {
  const future = futureIn("pending");
  future.setResult(8);
  assert.equal(future.state, "finished");
  assert.equal(await future.result(), 8);

  const failing = futureIn("pending");
  const error = new Error("straight to failed");
  failing.setException(error);
  assert.equal(failing.state, "finished");
  assert.equal(await failing.exception(), error);
});

Deno.test("Future.setResult() with the future itself fails it with TypeError, as a promise resolved with itself rejects", async () => {
  const future = new Future<unknown>();
  future.setResult(future);
  assert.equal(future.state, "finished");
  // Read without awaiting the value: a future finished with itself would be awaited forever.
  const error = await future.exception();
  assert(error instanceof TypeError, String(error));
  assert.match(error.message, /with itself/);
  await assert.rejects(future.result(), TypeError);
});

Deno.test("Future.setResult() with a future finished with it fails it with TypeError", async () => {
  const first = new Future<unknown>();
  const second = new Future<unknown>();
  const third = new Future<unknown>();
  first.setResult(second);
  second.setResult(third);
  third.setResult(first);
  const error = await third.exception();
  assert(error instanceof TypeError, String(error));
  assert.match(error.message, /a future finished with it/);
  // The others took a future as their value, and awaiting them adopts it, as with promises.
  assert.equal(await first.exception(), undefined);
  await assert.rejects(first.result(), (e) => e === error);
  const settled = new Future<number>();
  settled.setResult(5);
  const adopting = new Future<unknown>();
  adopting.setResult(settled);
  assert.equal(await adopting, 5);
});

// ---------------------------------------------------------------------------------------------
// Awaiting

Deno.test("Future.then() makes await give the value or throw the error", async () => {
  assert.equal(await futureIn("succeeded"), 42);
  const error = new Error("awaited");
  await assert.rejects(async () => await futureIn("failed", error), (e) => e === error);
  await assert.rejects(async () => await futureIn("cancelled"), CancelledError);

  const later = futureIn("running");
  setTimeout(() => later.setResult(4), 0);
  assert.equal(await later, 4);
});

Deno.test("Future.then() chains like a promise", async () => {
  const chained = futureIn("succeeded").then((v) => v + 1);
  assert.ok(chained instanceof Promise);
  assert.equal(await chained, 43);
  const error = new Error("handled");
  assert.equal(await futureIn("failed", error).then(undefined, (e) => e), error);
  assert.equal(await futureIn("failed", error).then(() => "no", () => "yes"), "yes");
  assert.equal(await futureIn("succeeded").then(), 42);
  assert.equal(await Promise.resolve(futureIn("succeeded")), 42);
  assert.deepEqual(await Promise.all([futureIn("succeeded"), 1]), [42, 1]);
});

Deno.test("Future with an error nobody reads causes no unhandled rejection", async () => {
  const events: unknown[] = [];
  const listener = (event: PromiseRejectionEvent) => {
    event.preventDefault();
    events.push(event.reason);
  };
  globalThis.addEventListener("unhandledrejection", listener);
  try {
    const control = new Error("control");
    void Promise.reject(control);
    await ticks(3);
    assert.deepEqual(events, [control], "the listener sees an unhandled rejection");
    events.length = 0;

    futureIn("failed");
    futureIn("cancelled");
    const running = futureIn("running");
    running.setException(new Error("unread"));
    const withCallback = futureIn("pending");
    withCallback.addDoneCallback(() => {});
    withCallback.setException(new Error("unread too"));
    const waitedOn = futureIn("running");
    const waiting = waitedOn.exception();
    waitedOn.setException(new Error("read by exception()"));
    await waiting;
    const cancelledLater = futureIn("pending");
    cancelledLater.cancel();
    await ticks(5);
    assert.deepEqual(events, []);
  } finally {
    globalThis.removeEventListener("unhandledrejection", listener);
  }
});

Deno.test("Future<T> is assignable to Future<unknown>, as a promise is", async () => {
  const text = new Future<string>();
  const wide: Future<unknown> = text;
  const mixed: Future<unknown>[] = [text, futureIn("succeeded")];
  text.setResult("x");
  assert.equal(await wide, "x");
  assert.equal(mixed.length, 2);
});

// ---------------------------------------------------------------------------------------------
// Errors

Deno.test("errors extend Error and are named after their class", () => {
  const errors: [Error, new (...args: never[]) => Error, string][] = [
    [new CancelledError(), CancelledError, "CancelledError"],
    [new TimeoutError(), TimeoutError, "TimeoutError"],
    [new InvalidStateError(), InvalidStateError, "InvalidStateError"],
    [new BrokenExecutorError(), BrokenExecutorError, "BrokenExecutorError"],
    [new WorkerCrashedError(), WorkerCrashedError, "WorkerCrashedError"],
    [new CircuitOpenError("d", 1), CircuitOpenError, "CircuitOpenError"],
  ];
  for (const [error, Class, name] of errors) {
    assert.ok(error instanceof Error, name);
    assert.ok(error instanceof Class, name);
    assert.equal(error.name, name);
    assert.equal(error.constructor.name, name);
    assert.ok(error.message.length > 0, name);
    assert.ok(String(error).startsWith(`${name}: `), name);
    assert.ok(typeof error.stack === "string", name);
  }
});

Deno.test("errors take a message and a cause", () => {
  const cause = new Error("root");
  for (const Class of [CancelledError, TimeoutError, InvalidStateError, BrokenExecutorError]) {
    const error = new Class("custom", { cause });
    assert.equal(error.message, "custom");
    assert.equal(error.cause, cause);
  }
  const crashed = new WorkerCrashedError("custom", { cause });
  assert.equal(crashed.cause, cause);
  const open = new CircuitOpenError("d", 1, { cause });
  assert.equal(open.cause, cause);
});

Deno.test("WorkerCrashedError has exitCode and signal", () => {
  const exited = new WorkerCrashedError("worker exited", { exitCode: 3 });
  assert.equal(exited.message, "worker exited");
  assert.equal(exited.exitCode, 3);
  assert.equal(exited.signal, undefined);

  const killed = new WorkerCrashedError("worker killed", { signal: "SIGKILL" });
  assert.equal(killed.exitCode, undefined);
  assert.equal(killed.signal, "SIGKILL");

  const both = new WorkerCrashedError(undefined, { exitCode: 0, signal: "SIGTERM" });
  assert.equal(both.exitCode, 0);
  assert.equal(both.signal, "SIGTERM");

  const bare = new WorkerCrashedError();
  assert.equal(bare.exitCode, undefined);
  assert.equal(bare.signal, undefined);
});

Deno.test("CircuitOpenError has domain and retryAfter", () => {
  const error = new CircuitOpenError("api.example", 1500);
  assert.equal(error.domain, "api.example");
  assert.equal(error.retryAfter, 1500);
  assert.ok(error.message.includes("api.example"));
});

Deno.test("future.ts exports no hook of the library's own (they live in future/_hooks.ts)", async () => {
  const exported = Object.keys(await import("../../future/future.ts"));
  for (const hook of ["setOwner", "outcomeOf", "removeDoneCallback"]) {
    assert.ok(!exported.includes(hook), hook);
  }
  const hooks = await import("../../future/_hooks.ts");
  const { Future } = await import("../../future/future.ts");
  const future = new Future<number>();
  future.setResult(7);
  assert.deepEqual(hooks.outcomeOf(future), { failed: false, value: 7, error: undefined });
});

Deno.test("Future.result({ timeout }) bounds the wait for a value that is itself a promise", async () => {
  const never = new Future<unknown>();
  never.setResult(new Promise(() => {}));
  assert.equal(never.state, "finished");
  const error = await never.result({ timeout: 10 }).catch((e) => e);
  assert.ok(error instanceof TimeoutError, String(error));
  assert.equal(error.message, "the future was not done within 10 ms");
  const stop = new AbortController();
  stop.abort(new Error("stopped"));
  const stopped = await never.result({ signal: stop.signal }).catch((e: Error) => e);
  assert.equal((stopped as Error).message, "stopped");
  // A value that settles in time is awaited, as `await` does.
  const later = new Future<unknown>();
  later.setResult(Promise.resolve(7));
  assert.equal(await later.result({ timeout: 60_000 }), 7);
  const failing = new Future<unknown>();
  failing.setResult(Promise.reject(new RangeError("inner")));
  await assert.rejects(failing.result({ timeout: 60_000 }), RangeError);
});

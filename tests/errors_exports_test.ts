// Every error class lives in future/errors.ts; every entry point re-exports the ones it can throw.
import assert from "node:assert/strict";
import * as errors from "../future/errors.ts";
import * as root from "../mod.ts";
import * as future from "../future/mod.ts";
import * as executors from "../executors/mod.ts";
import * as actors from "../actors/mod.ts";
import * as sync from "../sync/mod.ts";
import * as distributed from "../distributed/mod.ts";
import * as worker from "../distributed/worker.ts";
import * as observe from "../observe/mod.ts";
import * as oldExecutorErrors from "../executors/errors.ts";
import * as barrier from "../sync/barrier.ts";
import * as sharedQueue from "../sync/shared_queue.ts";

const ALL = [
  "BrokenBarrierError",
  "BrokenExecutorError",
  "CancelledError",
  "CircuitOpenError",
  "DependencyError",
  "InvalidStateError",
  "QueueClosedError",
  "QueueFullError",
  "TimeoutError",
  "WorkerCrashedError",
];

function errorExports(namespace: Record<string, unknown>): string[] {
  return Object.keys(namespace).filter((key) => {
    const value = namespace[key];
    return typeof value === "function" && value.prototype instanceof Error;
  }).sort();
}

/** Each export is the one class of future/errors.ts, not a copy. */
function sameClasses(namespace: Record<string, unknown>): void {
  for (const name of errorExports(namespace)) {
    assert.equal(namespace[name], (errors as Record<string, unknown>)[name], name);
  }
}

Deno.test("future/errors.ts declares every error class", () => {
  assert.deepEqual(errorExports(errors), ALL);
});

Deno.test("mod.ts and ./future export every error class", () => {
  for (const namespace of [root, future]) {
    assert.deepEqual(errorExports(namespace), ALL);
    sameClasses(namespace);
  }
});

Deno.test("./executors exports the errors executors throw", () => {
  assert.deepEqual(errorExports(executors), [
    "BrokenExecutorError",
    "CancelledError",
    "CircuitOpenError",
    "DependencyError",
    "InvalidStateError",
    "QueueFullError",
    "TimeoutError",
    "WorkerCrashedError",
  ]);
  sameClasses(executors);
});

Deno.test("./actors exports the errors actors and tasks see", () => {
  assert.deepEqual(errorExports(actors), [
    "CancelledError",
    "InvalidStateError",
    "TimeoutError",
    "WorkerCrashedError",
  ]);
  sameClasses(actors);
});

Deno.test("./sync exports the errors sync primitives throw", () => {
  assert.deepEqual(errorExports(sync), [
    "BrokenBarrierError",
    "InvalidStateError",
    "QueueClosedError",
    "TimeoutError",
  ]);
  sameClasses(sync);
});

Deno.test("./distributed exports the errors its executor throws", () => {
  assert.deepEqual(errorExports(distributed), [
    "BrokenExecutorError",
    "CancelledError",
    "CircuitOpenError",
    "DependencyError",
    "InvalidStateError",
    "QueueFullError",
    "TimeoutError",
    "WorkerCrashedError",
  ]);
  sameClasses(distributed);
});

Deno.test("./worker exports the errors its tasks see", () => {
  assert.deepEqual(errorExports(worker), ["CancelledError", "TimeoutError", "WorkerCrashedError"]);
  sameClasses(worker);
});

Deno.test("./observe throws no error of the library's own, and exports none", () => {
  assert.deepEqual(errorExports(observe), []);
});

Deno.test("the modules errors used to live in still export them", () => {
  assert.equal(oldExecutorErrors.QueueFullError, errors.QueueFullError);
  assert.equal(oldExecutorErrors.DependencyError, errors.DependencyError);
  assert.equal(barrier.BrokenBarrierError, errors.BrokenBarrierError);
  assert.equal(sharedQueue.QueueClosedError, errors.QueueClosedError);
});

// Edges of the executors' surface: user code that misbehaves in odd ways, nested views, nested
// submits and the checks that catch options written as in Python.

import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
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

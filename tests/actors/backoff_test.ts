import assert from "node:assert/strict";
import { backoffDelay, checkBackoff, resolveBackoff, restartDelay } from "../../actors/_backoff.ts";
import { poolSettings } from "../../executors/worker_pool.ts";
import { validateRetryOptions } from "../../executors/retry.ts";

const at = { action: "test", path: "b" };
const plain = { initial: 10, max: 80, multiplier: 2, jitter: "none" as const, resetAfter: 0 };

Deno.test("backoffDelay() grows by the multiplier up to max; restartDelay() is one step behind", () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffDelay(n, plain)), [10, 20, 40, 80, 80]);
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => restartDelay(n, plain)), [0, 10, 20, 40, 80]);
  assert.equal(backoffDelay(2, { ...plain, multiplier: 3 }), 30);
});

Deno.test("backoffDelay() jitter: full scales down, a number stretches up", () => {
  assert.equal(backoffDelay(2, { ...plain, jitter: "full" }, () => 0.5), 10);
  assert.equal(backoffDelay(2, { ...plain, jitter: 0.5 }, () => 1), 30);
  assert.equal(backoffDelay(2, { ...plain, jitter: 0 }, () => 1), 20);
});

Deno.test("checkBackoff() reads the deprecated min and randomFactor as initial and jitter", () => {
  assert.deepEqual(checkBackoff(at, { min: 5, randomFactor: 0.1, max: 9 }), {
    initial: 5,
    jitter: 0.1,
    max: 9,
  });
  assert.throws(
    () => checkBackoff(at, { randomFactor: 0.1, jitter: "full" }),
    (error: unknown) =>
      error instanceof TypeError &&
      /'b.randomFactor' and 'b.jitter' are the same option: give one/.test(error.message),
  );
});

Deno.test("checkBackoff() names the field and the value it refuses", () => {
  assert.throws(() => checkBackoff(at, 5), /Cannot test as 'b' must be an object: received 5/);
  assert.throws(
    () => checkBackoff(at, { initial: -1 }),
    /'b.initial' must be a non-negative finite number: received -1/,
  );
  assert.throws(() => checkBackoff(at, { jitter: -1 }), RangeError);
  assert.throws(() => checkBackoff(at, { multplier: 2 }), /did you mean 'b.multiplier'/);
  assert.throws(
    () => resolveBackoff(at, { initial: 50, max: 10 }, plain),
    /'b.max' must be at least 'b.initial' \(50\): received 10/,
  );
});

Deno.test("WorkerPoolExecutor restartBackoff takes the one Backoff shape, old field names too", () => {
  const now = poolSettings("P", { restartBackoff: { initial: 5, jitter: "none", multiplier: 3 } });
  assert.deepEqual(now.restartBackoff, {
    initial: 5,
    max: 1000,
    multiplier: 3,
    jitter: "none",
    resetAfter: 2000,
  });
  const old = poolSettings("P", { restartBackoff: { min: 5, randomFactor: 0 } });
  assert.deepEqual(old.restartBackoff, {
    initial: 5,
    max: 1000,
    multiplier: 2,
    jitter: 0,
    resetAfter: 2000,
  });
});

Deno.test("validateRetryOptions() backoff accepts a numeric jitter and the old field names", () => {
  assert.deepEqual(validateRetryOptions({ maxAttempts: 2, backoff: { min: 1, jitter: 0.5 } }), {
    maxAttempts: 2,
    backoff: { initial: 1, jitter: 0.5 },
  });
});

// Edges of the executors' surface: user code that misbehaves in odd ways, nested views, nested
// submits and the checks that catch options written as in Python.

import assert from "node:assert/strict";
import { AsyncPoolExecutor } from "../../mod.ts";

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

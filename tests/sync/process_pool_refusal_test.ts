import assert from "node:assert/strict";
import { Lock, ProcessPoolExecutor, SharedQueue } from "../../mod.ts";

const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);

Deno.test("ProcessPoolExecutor rejects a task given shared memory with a TypeError, and serves on", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const shared = new SharedArrayBuffer(16);
  const refused = [
    pool.submit((lock: unknown) => typeof lock, new Lock()),
    pool.submit((queue: unknown) => typeof queue, new SharedQueue()),
    pool.submit((buffer: SharedArrayBuffer) => buffer.byteLength, shared),
    // A typed array on shared memory would otherwise be copied silently.
    pool.submit((cells: Int32Array) => cells.length, new Int32Array(shared)),
  ];
  for (const future of refused) {
    const error = await future.exception();
    assert.ok(error instanceof TypeError, `expected a TypeError, got ${error}`);
    assert.match(error.message, /SharedArrayBuffer.*ProcessPoolExecutor/);
  }
  assert.equal(await pool.submit((cells: Int32Array) => cells.length, new Int32Array(4)), 4);
});

Deno.test("ProcessPoolExecutor rejects a task whose result holds shared memory", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const error = await pool.submit(() => new Int32Array(new SharedArrayBuffer(8))).exception();
  assert.ok(error instanceof Error);
  assert.match(String((error as Error).message), /SharedArrayBuffer/);
  assert.equal(await pool.submit(() => 1), 1);
});

import assert from "node:assert/strict";
import { SharedQueue, WorkerPoolExecutor } from "../../mod.ts";
import { CASES, differences, expectedOf, sameRefusal } from "../fixtures/clone_cases.ts";
import { getAndCompare, putCases, putSyncFile } from "../fixtures/clone_tasks.ts";

const TASKS = new URL("../fixtures/clone_tasks.ts", import.meta.url);
const names = [...CASES.keys()];
/** The cases SharedQueue answers as structuredClone() does, and those it knowingly refuses. */
const exact = names.filter((name) => CASES.get(name)!.differs === undefined);
const differing = names.filter((name) => CASES.get(name)!.differs !== undefined);

/**
 * Puts each case's value on this thread; returns the refusals that differ, the names put and
 * structuredClone()'s copies of the values put.
 */
async function putAll(queue: SharedQueue, which: string[]) {
  const failures: string[] = [];
  const put: string[] = [];
  const copies: unknown[] = [];
  for (const name of which) {
    const value = CASES.get(name)!.make();
    const expected = expectedOf(value);
    try {
      await queue.put(value);
      put.push(name);
      if ("value" in expected) copies.push(expected.value);
      if ("error" in expected) failures.push(`${name}: put although structuredClone() refuses it`);
    } catch (error) {
      if (!("error" in expected)) failures.push(`${name}: refused (${error})`);
      else failures.push(...sameRefusal(error, expected.error).map((d) => `${name}: ${d}`));
    }
  }
  return { failures, put, copies };
}

Deno.test("SharedQueue round trip on the main thread gives what structuredClone() gives", async () => {
  const queue = new SharedQueue({ maxBytes: 1 << 22 });
  const { failures, put, copies } = await putAll(queue, exact);
  for (const [i, name] of put.entries()) {
    for (const d of await differences(await queue.get(), copies[i])) failures.push(`${name}: ${d}`);
  }
  assert.deepEqual(failures, []);
  assert.ok(put.length > 100 && put.length < exact.length, `${put.length} of ${exact.length}`);
});

Deno.test("SharedQueue carries to a worker what structuredClone() gives", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const queue = new SharedQueue({ maxBytes: 1 << 22 });
  const { failures, put } = await putAll(queue, exact);
  failures.push(...await pool.submit(getAndCompare, queue, put));
  assert.deepEqual(failures, []);
});

Deno.test("SharedQueue carries from a worker what structuredClone() gives", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const queue = new SharedQueue({ maxBytes: 1 << 22 });
  const { failures, put } = await pool.submit(putCases, queue, exact);
  for (const name of put) {
    const expected = expectedOf(CASES.get(name)!.make()) as { value: unknown };
    for (const d of await differences(await queue.get(), expected.value, { stacks: false })) {
      failures.push(`${name}: ${d}`);
    }
  }
  assert.deepEqual(failures, []);
});

Deno.test("SharedQueue copies a Proxy and refuses shared memory, unlike structuredClone()", async () => {
  const queue = new SharedQueue();
  for (const name of differing) {
    const value = CASES.get(name)!.make();
    if ("error" in expectedOf(value)) {
      // A Proxy: copied through its traps, as a plain object.
      await queue.put(value);
      assert.deepEqual(await queue.get(), { ...(value as object) }, name);
      continue;
    }
    await assert.rejects(queue.put(value), (error: unknown) => {
      assert.ok(error instanceof DOMException, name);
      assert.equal(error.name, "DataCloneError");
      return true;
    });
  }
  assert.equal(queue.size, 0);
});

Deno.test("SharedQueue.put() throws the error a getter throws, as structuredClone() does", async () => {
  const thrown = new Error("from a getter");
  const value = {
    get x(): never {
      throw thrown;
    },
  };
  await assert.rejects(new SharedQueue().put(value), (error) => error === thrown);
  await assert.rejects(new SharedQueue().put([1, new Number(2), value]), (e) => e === thrown);
});

Deno.test("SharedQueue.putSync() refuses a Blob or File, which only put() can read", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const queue = new SharedQueue();
  assert.match(await pool.submit(putSyncFile, queue), /^TypeError: .*await queue\.put\(\)/);
  assert.equal(queue.size, 0);
});

Deno.test("SharedQueue.put() refuses a CryptoKey, which structuredClone() keeps in-process", async () => {
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  assert.ok(structuredClone({ key }).key instanceof CryptoKey);
  const queue = new SharedQueue();
  await assert.rejects(queue.put({ key }), (error: unknown) => {
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, "DataCloneError");
    return true;
  });
  assert.equal(queue.size, 0);
});

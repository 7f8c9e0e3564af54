import assert from "node:assert/strict";
import { AsyncPoolExecutor, Future } from "../../mod.ts";

// A task keeps a single argument as it is, not in an array: these pin down that every form of
// argument list still reaches the function unchanged.

Deno.test("submit() passes one array argument as one argument", async () => {
  await using pool = new AsyncPoolExecutor();
  const seen = await pool.submit((...args: unknown[]) => args, [1, 2]);
  assert.deepEqual(seen, [[1, 2]]);
});

Deno.test("submit() passes no arguments, one, and several, unchanged", async () => {
  await using pool = new AsyncPoolExecutor();
  const show = (...args: unknown[]) => args;
  assert.deepEqual(await pool.submit(show), []);
  assert.deepEqual(await pool.submit(show, undefined), [undefined]);
  assert.deepEqual(await pool.submit(show, "a"), ["a"]);
  assert.deepEqual(await pool.submit(show, "a", "b", "c"), ["a", "b", "c"]);
});

Deno.test("submit() waits for a future given as the only argument", async () => {
  await using pool = new AsyncPoolExecutor();
  const input = new Future<number>();
  const result = pool.submit((x: number) => x * 2, input);
  input.setResult(21);
  assert.equal(await result, 42);
});

Deno.test("submit() gives a retried task the same single argument on every attempt", async () => {
  await using pool = new AsyncPoolExecutor();
  const seen: unknown[][] = [];
  const result = await pool.with({
    retry: { maxAttempts: 3, backoff: { initial: 0 }, retryOn: () => true },
  }).submit(
    (...args: unknown[]) => {
      seen.push(args);
      if (seen.length < 3) throw new Error("again");
      return seen.length;
    },
    { id: 7 },
  );
  assert.equal(result, 3);
  assert.deepEqual(seen, [[{ id: 7 }], [{ id: 7 }], [{ id: 7 }]]);
  assert.equal(seen[0]![0], seen[2]![0]);
});

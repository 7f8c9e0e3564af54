import assert from "node:assert/strict";
import { AsyncPoolExecutor, Future, runInExecutor, WorkerPoolExecutor } from "../../mod.ts";

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

Deno.test("WorkerPoolExecutor and spawn() refuse an argument nested too deep for a Web Worker, which Deno would drop without a word", async () => {
  const DataCloneErrorName = "DataCloneError";
  const chain = (depth: number) => {
    let list: { next: unknown } | null = null;
    for (let i = 0; i < depth; i++) list = { next: list };
    return list;
  };
  const { WorkerPoolExecutor, spawn } = await import("../../mod.ts");
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  // Sent in one message with a task that can go: only the deep one fails.
  const fine = pool.submit((list: unknown) => typeof list, chain(500));
  const deep = pool.submit((list: unknown) => typeof list, chain(3_000));
  const error = await deep.exception({ timeout: 10_000 });
  assert.equal((error as Error).name, DataCloneErrorName, String(error));
  assert.match((error as Error).message, /nested deeper than 1000 levels/);
  assert.equal(await fine, "object");
  // Behind a wide list that would use up a look that goes breadth first.
  const wide: unknown[] = Array.from({ length: 6_000 }, (_, i) => ({ i }));
  wide.unshift(chain(3_000));
  const behind = await pool.submit((list: unknown[]) => list.length, wide).exception({
    timeout: 10_000,
  });
  assert.equal((behind as Error).name, DataCloneErrorName, String(behind));
  // Set-up arguments go to the worker too.
  await using setUp = new WorkerPoolExecutor({
    maxWorkers: 1,
    initializer: () => {},
    initargs: [chain(3_000)],
  });
  const broken = await setUp.submit(() => 1).exception({ timeout: 10_000 });
  assert.match(String(broken), /nested deeper than 1000 levels/);
  await assert.rejects(
    spawn(new URL("../fixtures/actors/counter.ts", import.meta.url), { args: [chain(3_000)] }),
    /nested deeper than 1000 levels/,
  );
  await using counter = await spawn(new URL("../fixtures/actors/counter.ts", import.meta.url));
  const call = (counter as unknown as { increment(by: unknown): Promise<number> }).increment(
    chain(3_000),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const callError = await Promise.race([
    call.then(() => undefined, (error) => error),
    new Promise((resolve) => timer = setTimeout(() => resolve("still pending"), 10_000)),
  ]);
  clearTimeout(timer);
  assert.equal((callError as Error).name, DataCloneErrorName, String(callError));
});

// A call with ~100k arguments takes most of a thread's stack (8 bytes an argument): spread again
// on its way to the task, it overflowed where a plain call of the function does not.
const MANY = 90_000;
const count = (...args: unknown[]) => args.length;

Deno.test("submit() takes as many arguments as a plain call does, on every path", async () => {
  const args = Array.from({ length: MANY }, (_, i) => i);
  assert.equal(count(...args), MANY, "a plain call takes them here");
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  assert.equal(await pool.submit(count, ...args), MANY);
  assert.equal(await pool.with({ timeout: 60_000 }).submit(count, ...args), MANY);
  const inputs = args.map((i) => {
    const input = new Future<number>();
    input.setResult(i);
    return input;
  });
  assert.equal(await pool.submit((...xs: number[]) => xs[MANY - 1], ...inputs), MANY - 1);
  assert.equal(await runInExecutor(pool, count, ...args), MANY);
  assert.equal(await runInExecutor(pool.with({ timeout: 60_000 }), count, ...args), MANY);
  await using workers = new WorkerPoolExecutor({ maxWorkers: 1 });
  assert.equal(await workers.submit(count, ...args), MANY);
});

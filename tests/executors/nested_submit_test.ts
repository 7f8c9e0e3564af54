// Tasks that submit to their own AsyncPoolExecutor and wait for the result: the waiting task gives
// its slot back, so a full pool never deadlocks on its own nested work.

import assert from "node:assert/strict";
import { asCompleted, AsyncPoolExecutor, type Executor, type Future, wait } from "../../mod.ts";

Deno.test("AsyncPoolExecutor.submit() from a task that awaits it completes with maxWorkers: 1", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const outer = pool.submit(async () => {
    const inner = pool.submit((x: number) => Promise.resolve(x + 1), 1);
    return (await inner) * 10;
  });
  assert.equal(await outer, 20);
  assert.equal(pool.stats().running, 0);
});

Deno.test("AsyncPoolExecutor.submit() nests five levels deep with maxWorkers: 1", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const depth = async (n: number): Promise<number> =>
    n === 0 ? 0 : 1 + await pool.submit(depth, n - 1);
  assert.equal(await pool.submit(depth, 5), 5);
});

Deno.test("AsyncPoolExecutor.submit() nested through result(), wait(), asCompleted() and map()", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const one = () => Promise.resolve(1);
  const viaResult = pool.submit(async () => await pool.submit(one).result());
  const viaWait = pool.submit(async () => {
    const { done } = await wait([pool.submit(one), pool.submit(one)]);
    return done.size;
  });
  const viaAsCompleted = pool.submit(async () => {
    let n = 0;
    for await (const f of asCompleted([pool.submit(one), pool.submit(one)])) n += await f;
    return n;
  });
  const viaMap = pool.submit(async () => {
    let n = 0;
    for await (const x of pool.map((x: number) => Promise.resolve(x), [1, 2, 3])) n += x;
    return n;
  });
  const viaAll = pool.submit(async () =>
    (await Promise.all([pool.submit(one), pool.submit(one)])).length
  );
  assert.deepEqual(
    await Promise.all([viaResult, viaWait, viaAsCompleted, viaMap, viaAll]),
    [1, 2, 2, 6, 2],
  );
});

/**
 * A task of pool `a` (one slot) waits, through `waitOn`, on a future of pool `b` listed first and on
 * a nested task of its own; `b`'s future waits for the nested task, which can run only once the
 * outer task gives its slot back. Returns what `waitOn` returned.
 */
async function waitAcrossPools(
  waitOn: (futures: [Future<number>, Future<number>]) => Promise<number>,
): Promise<number> {
  await using a = new AsyncPoolExecutor({ maxWorkers: 1 });
  await using b = new AsyncPoolExecutor({ maxWorkers: 1 });
  const gate = Promise.withResolvers<void>();
  const fromB = b.submit(async () => {
    await gate.promise;
    return 2;
  });
  return await a.submit(() => {
    const child = a.submit(() => {
      gate.resolve();
      return 1;
    });
    return waitOn([fromB, child]);
  });
}

// The timeouts below only make a regression fail instead of hanging; they never decide a pass.

Deno.test("asCompleted() in a task gives back its slot when a future of another pool comes first", async () => {
  const sum = await waitAcrossPools(async (futures) => {
    let n = 0;
    for await (const f of asCompleted(futures, { timeout: 30_000 })) n += await f;
    return n;
  });
  assert.equal(sum, 3);
});

Deno.test("wait() in a task gives back its slot when a future of another pool comes first", async () => {
  const done = await waitAcrossPools(async (futures) =>
    (await wait(futures, { timeout: 30_000 })).done.size
  );
  assert.equal(done, 2);
});

Deno.test("AsyncPoolExecutor.submit() nested keeps at most maxWorkers tasks running", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  let active = 0;
  let most = 0;
  // Counts a task as active from its start until it awaits, and again after it goes on.
  const enter = () => {
    active++;
    most = Math.max(most, active);
  };
  const leaf = async () => {
    enter();
    await Promise.resolve();
    active--;
    return 1;
  };
  const parent = async () => {
    enter();
    const children = [pool.submit(leaf), pool.submit(leaf), pool.submit(leaf)];
    active--;
    const values = await Promise.all(children);
    enter();
    active--;
    return values.length;
  };
  const results = await Promise.all([1, 2, 3, 4].map(() => pool.submit(parent)));
  assert.deepEqual(results, [3, 3, 3, 3]);
  assert(most <= 2, `${most} tasks ran at once`);
  assert.equal(pool.stats().running, 0);
});

Deno.test("AsyncPoolExecutor.submit() nested through a view of the pool", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const view: Executor = pool.with({ timeout: 10_000 });
  const outer = view.submit(async () => 1 + await view.submit(() => Promise.resolve(1)));
  assert.equal(await outer, 2);
});

Deno.test("AsyncPoolExecutor.submit() awaiting another pool's future keeps the slot", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  await using other = new AsyncPoolExecutor({ maxWorkers: 1 });
  const { promise: release, resolve } = Promise.withResolvers<void>();
  const outer = pool.submit(async () => await other.submit(() => release));
  const queued = pool.submit(() => "second");
  await Promise.resolve();
  assert.equal(pool.stats().running, 1);
  assert.equal(queued.state, "pending");
  resolve();
  await outer;
  assert.equal(await queued, "second");
});

// A task that returns its own future: the future rejects with TypeError, as a promise resolved
// with itself does. Were it never to settle, shutdown({ wait: true }) would not end either: these
// tests read its state once the pool's other work is done, and wait only for futures that settled.

Deno.test("AsyncPoolExecutor.submit() rejects with TypeError when a task returns its own future", async () => {
  // Two slots: the next task starts in the same turn, after the first has returned.
  const pool = new AsyncPoolExecutor({ maxWorkers: 2 });
  const own: Future<unknown> = pool.submit(() => own);
  try {
    assert.equal(await pool.submit(() => "next"), "next");
    assert.equal(own.state, "finished");
    const error = await own.exception();
    assert(error instanceof TypeError, String(error));
    assert.match(error.message, /returned its own future/);
    assert.deepEqual(pool.stats().attempts, { completed: 1, failed: 1 });
  } finally {
    await pool.shutdown({ wait: own.done() });
  }
});

Deno.test("AsyncPoolExecutor.with({ retry }) fails each attempt of a task that returns its own future", async () => {
  const pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  const retry = {
    maxAttempts: 3,
    backoff: { initial: 0, jitter: "none" as const },
    retryOn: () => true,
  };
  const own: Future<unknown> = pool.with({ retry }).submit(() => own);
  try {
    // The timeout only makes a regression fail instead of hanging; it never decides a pass.
    const error = await own.exception({ timeout: 30_000 });
    assert(error instanceof TypeError, String(error));
    assert.deepEqual(pool.stats().attempts, { completed: 0, failed: 3 });
  } finally {
    await pool.shutdown({ wait: own.done() });
  }
});

Deno.test("a task may watch its own future, and a follow-up task on another pool may await it", async () => {
  await using io = new AsyncPoolExecutor({ maxWorkers: 1 });
  await using post = new AsyncPoolExecutor({ maxWorkers: 1 });
  const watched: string[] = [];
  let followUp: Future<string> | undefined;
  let started!: () => void;
  const followUpStarted = new Promise<void>((resolve) => started = resolve);
  const task: Future<string> = io.submit(async () => {
    await null;
    // Not a wait for itself: the callback runs once the task is done.
    void task.then((value) => watched.push(`then: ${value}`));
    task.addDoneCallback(() => watched.push("done callback"));
    // Started in this task's context, it awaits this task's result (no cycle: this task does
    // not wait for it).
    followUp = post.submit(async () => {
      started();
      return `post-processed ${await task}`;
    });
    await followUpStarted;
    return "A";
  });
  assert.equal(await task, "A");
  assert.equal(await followUp!, "post-processed A");
  assert.deepEqual(watched.sort(), ["done callback", "then: A"]);
});

Deno.test("AsyncPoolExecutor: a task's wait that ends at once (timeout 0, a signal aborted already) on its pool's future keeps its slot", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1 });
  for (const options of [{ timeout: 0 }, { signal: AbortSignal.abort(new Error("stop")) }]) {
    let otherStarted = false;
    const polls = pool.submit(async () => {
      const outcome = await other.result(options).then(() => "value", (error) => error);
      // Had the poll given the slot up, the task queued behind would have run meanwhile.
      return { outcome, otherStarted };
    });
    const other = pool.submit(() => {
      otherStarted = true;
    });
    const { outcome, otherStarted: ranMeanwhile } = await polls;
    assert.ok(outcome instanceof Error, String(outcome));
    assert.equal(ranMeanwhile, false, `the other task ran while ${JSON.stringify(options)} polled`);
    await other;
  }
});

Deno.test("AsyncPoolExecutor.whenReady() in a task of the pool gives back its slot while it waits for room", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
  // The README's backpressure loop, run by a task of the pool it feeds: the task it queued could
  // make room only in the slot the waiting task held. The timeout only makes a regression fail
  // instead of hanging; it never decides a pass.
  const producer = pool.with({ timeout: 30_000 }).submit(async () => {
    const children: Future<number>[] = [];
    for (let i = 0; i < 5; i++) {
      await pool.whenReady();
      children.push(pool.submit((x: number) => x * 2, i));
    }
    return await Promise.all(children);
  });
  assert.deepEqual(await producer, [0, 2, 4, 6, 8]);
  assert.equal(pool.stats().running, 0);
});

Deno.test("AsyncPoolExecutor.map() in a task of the pool gives back its slot while it waits for room", async () => {
  await using pool = new AsyncPoolExecutor({ maxWorkers: 1, maxQueued: 1 });
  const outer = pool.with({ timeout: 30_000 }).submit(async () => {
    // Queued behind this task: the queue is full, and map() waits for room from the start.
    const queued = pool.submit(() => "queued");
    let sum = 0;
    for await (const x of pool.map((x: number) => Promise.resolve(x), [1, 2, 3])) sum += x;
    return [await queued, sum];
  });
  assert.deepEqual(await outer, ["queued", 6]);
});

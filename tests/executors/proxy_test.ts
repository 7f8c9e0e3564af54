import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  type Executor,
  InvalidStateError,
  ProcessPoolExecutor,
  proxy,
  WorkerPoolExecutor,
} from "../../mod.ts";
import {
  callAfterStop,
  callKept,
  catchCallback,
  ignoreFailure,
  keep,
  mapItem,
  nested,
  report,
  reportAfterAwait,
  sendSymbol,
  spinUntilAnswered,
  sumLookups,
} from "../fixtures/proxy_tasks.ts";
import { changed } from "./_worker_helpers.ts";

const MODULES = [new URL("../fixtures/proxy_tasks.ts", import.meta.url)];

const KINDS: Record<string, () => Executor> = {
  AsyncPoolExecutor: () => new AsyncPoolExecutor({ maxWorkers: 2 }),
  WorkerPoolExecutor: () => new WorkerPoolExecutor({ maxWorkers: 1, modules: MODULES }),
  ProcessPoolExecutor: () => new ProcessPoolExecutor({ maxWorkers: 1, modules: MODULES }),
};

function crashed(pool: Executor): number {
  return pool instanceof WorkerPoolExecutor ? pool.stats().crashed : 0;
}

class QuotaError extends Error {
  code = "E_QUOTA";
  constructor(message: string) {
    super(message);
    this.name = "RangeError";
  }
}

/** A cell for the task to write: shared memory, except for processes, which refuse it. */
function cellFor(kind: string): Int32Array {
  return new Int32Array(
    kind === "ProcessPoolExecutor" ? new ArrayBuffer(8) : new SharedArrayBuffer(8),
  );
}

for (const [kind, make] of Object.entries(KINDS)) {
  Deno.test(`proxy() delivers a never-yielding task's calls in order, on the caller's thread (${kind})`, async () => {
    await using pool = make();
    const seen: number[] = [];
    let elsewhere = 0;
    const n = 2_000;
    const future = pool.submit(
      report,
      n,
      proxy((i: number) => {
        if (Deno.pid !== hostPid || !isMainThread()) elsewhere++;
        seen.push(i);
      }),
    );
    let atSettle = -1;
    future.addDoneCallback(() => atSettle = seen.length);
    assert.equal(await future, n);
    assert.equal(atSettle, n);
    assert.deepEqual(seen, Array.from({ length: n }, (_, i) => i));
    assert.equal(elsewhere, 0);
  });

  Deno.test(`proxy() calls made after the task's last await are all run before its future settles (${kind})`, async () => {
    await using pool = make();
    const seen: number[] = [];
    const future = pool.submit(reportAfterAwait, 500, proxy((i: number) => void seen.push(i)));
    let atSettle = -1;
    future.addDoneCallback(() => atSettle = seen.length);
    assert.equal(await future, 500);
    assert.equal(atSettle, 501);
    assert.deepEqual(seen, Array.from({ length: 501 }, (_, i) => i - 1));
  });

  Deno.test(`proxy() gives an awaited call the callback's return value, sync or async (${kind})`, async () => {
    await using pool = make();
    const table: Record<string, number> = { a: 1, b: 20, c: 300 };
    assert.equal(
      await pool.submit(sumLookups, ["a", "b", "c", "z"], proxy((key: string) => table[key] ?? 0)),
      321,
    );
    const later = proxy(async (key: string) => {
      await Promise.resolve();
      return key.length;
    });
    assert.equal(await pool.submit(sumLookups, ["ab", "cde"], later), 5);
  });

  Deno.test(`proxy() rejects an awaited call with the callback's error, which the task can catch (${kind})`, async () => {
    await using pool = make();
    const thrown = await pool.submit(
      catchCallback,
      proxy(() => {
        throw new QuotaError("over quota");
      }),
    );
    assert.deepEqual(thrown, {
      name: "RangeError",
      message: "over quota",
      code: "E_QUOTA",
      isError: true,
    });
    const rejected = await pool.submit(
      catchCallback,
      proxy(() => Promise.reject(new TypeError("no"))),
    );
    assert.deepEqual(rejected, {
      name: "TypeError",
      message: "no",
      code: undefined,
      isError: true,
    });
    assert.equal(crashed(pool), 0);
  });

  Deno.test(`proxy() never turns a failed fire-and-forget call into an unhandled rejection (${kind})`, async () => {
    await using pool = make();
    let calls = 0;
    const failing = proxy((_n: number) => {
      calls++;
      throw new Error("callback failed");
    });
    assert.equal(await pool.submit(ignoreFailure, failing), "done");
    // The same worker serves on: an unhandled rejection would have ended it.
    assert.equal(await pool.submit(ignoreFailure, failing), "done");
    assert.equal(calls, 4);
    assert.equal(crashed(pool), 0);
  });

  Deno.test(`proxy() finds proxies nested in objects and arrays, and leaves the arguments alone (${kind})`, async () => {
    await using pool = make();
    const seen: unknown[] = [];
    const options = {
      hooks: { progress: proxy((n: number) => void seen.push(n)) },
      list: [7, proxy((s: string) => void seen.push(s))] as [
        number,
        ReturnType<typeof proxy<[string], void>>,
      ],
    };
    assert.equal(await pool.submit(nested, options), "function 7");
    assert.deepEqual(seen, [1, "two"]);
    assert.equal(typeof options.hooks.progress, "function");
    assert.equal(typeof options.list[1], "function");
  });

  Deno.test(`proxy() serves one callback to every item of a map() (${kind})`, async () => {
    await using pool = make();
    const seen: number[] = [];
    const reportItem = proxy((i: number) => void seen.push(i));
    const items = Array.from({ length: 300 }, (_, i) => ({ i, report: reportItem }));
    const results = await Array.fromAsync(pool.map(mapItem, items, { chunksize: 16 }));
    assert.deepEqual(results, items.map(({ i }) => i * 2));
    assert.deepEqual(seen.toSorted((a, b) => a - b), items.map(({ i }) => i));
  });

  Deno.test(`proxy() survives a task aborted while it awaits a call (${kind})`, async () => {
    await using pool = make();
    const controller = new AbortController();
    const answer = Promise.withResolvers<void>();
    const whats: string[] = [];
    const callback = proxy((what: string) => {
      whats.push(what);
      if (what !== "start") return;
      controller.abort();
      return answer.promise;
    });
    const cell = cellFor(kind);
    const future = pool.with({ signal: controller.signal }).submit(callAfterStop, callback, cell);
    await assert.rejects(async () => await future, { name: "AbortError" });
    answer.resolve();
    // The pool serves on.
    assert.equal(await pool.submit(sumLookups, ["x"], proxy(() => 1)), 1);
    assert.equal(whats[0], "start");
    assert.equal(crashed(pool), 0);
  });

  Deno.test(`proxy() survives a task that timed out while it awaited a call (${kind})`, async () => {
    await using pool = make();
    const answer = Promise.withResolvers<void>();
    const callback = proxy((what: string) => what === "start" ? answer.promise : undefined);
    const cell = cellFor(kind);
    const future = pool.with({ timeout: 100 }).submit(callAfterStop, callback, cell);
    await assert.rejects(async () => await future, { name: "TimeoutError" });
    answer.resolve();
    assert.equal(await pool.submit(sumLookups, ["x"], proxy(() => 2)), 2);
    assert.equal(crashed(pool), 0);
  });
}

Deno.test("proxy() delivers calls from a worker's task that never yields while it runs", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: MODULES });
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let calls = 0;
  const progress = proxy((_i: number) => {
    calls++;
    Atomics.store(cell, 0, 7);
  });
  // Without calls arriving during the loop, it would spin until its timeout.
  assert.equal(await pool.with({ timeout: 10_000 }).submit(spinUntilAnswered, progress, cell), 7);
  assert.ok(calls >= 1);
});

Deno.test("proxy() rejects calls that a worker's task makes once it was stopped, without running them", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: MODULES });
  const controller = new AbortController();
  const answer = Promise.withResolvers<void>();
  const whats: string[] = [];
  const callback = proxy((what: string) => {
    whats.push(what);
    controller.abort();
    return answer.promise;
  });
  const cell = new Int32Array(new SharedArrayBuffer(8));
  const future = pool.with({ signal: controller.signal }).submit(callAfterStop, callback, cell);
  await assert.rejects(async () => await future, { name: "AbortError" });
  // The retiring worker still runs the task: its awaited call is answered, the next is refused.
  answer.resolve();
  assert.equal(await changed(cell, 0, 0), 1);
  assert.equal(Atomics.load(cell, 1), 1);
  assert.deepEqual(whats, ["start"]);
});

for (const kind of ["WorkerPoolExecutor", "ProcessPoolExecutor"]) {
  Deno.test(`proxy() rejects a call made after the task settled with InvalidStateError (${kind})`, async () => {
    await using pool = KINDS[kind]!();
    let calls = 0;
    assert.equal(await pool.submit(keep, proxy(() => void calls++)), "kept");
    assert.equal(await pool.submit(callKept), new InvalidStateError("").name);
    assert.equal(calls, 0);
  });
}

Deno.test("proxy() on AsyncPoolExecutor is the callback itself, called directly", async () => {
  await using pool = new AsyncPoolExecutor();
  let calls = 0;
  const callback = proxy(() => void calls++);
  assert.equal(await pool.submit(keep, callback), "kept");
  assert.equal(await pool.submit(callKept), "ran");
  assert.equal(calls, 1);
  assert.equal(proxy(callback), callback);
});

for (const kind of ["WorkerPoolExecutor", "ProcessPoolExecutor"]) {
  Deno.test(`proxy() rejects a call whose arguments or result cannot be sent with DataCloneError (${kind})`, async () => {
    await using pool = KINDS[kind]!();
    let calls = 0;
    const result = await pool.submit(catchCallback, proxy(() => Symbol("not cloneable")));
    assert.equal((result as { name: string }).name, "DataCloneError");
    assert.equal(await pool.submit(sendSymbol, proxy(() => void calls++)), "DataCloneError");
    assert.equal(calls, 0);
    assert.equal(crashed(pool), 0);
  });
}

for (const kind of ["WorkerPoolExecutor", "ProcessPoolExecutor"]) {
  Deno.test(`proxy() fails only the task whose argument cannot be searched for proxies (${kind})`, async () => {
    await using pool = KINDS[kind]!();
    const seen: number[] = [];
    const reportItem = proxy((i: number) => void seen.push(i));
    // Its search runs the getter, as structured clone would: it threw out of submit()'s
    // dispatch, which ended the program.
    const unreadable = {
      i: 2,
      get report(): never {
        throw new Error("getter throws");
      },
    };
    const settled = await Promise.allSettled([
      pool.submit(mapItem, { i: 1, report: reportItem }),
      pool.submit(mapItem, unreadable),
      pool.submit(mapItem, { i: 3, report: reportItem }),
    ]);
    assert.deepEqual(settled, [
      { status: "fulfilled", value: 2 },
      { status: "rejected", reason: new Error("getter throws") },
      { status: "fulfilled", value: 6 },
    ]);
    assert.deepEqual(seen, [1, 3]);
    assert.equal(crashed(pool), 0);
  });
}

Deno.test("proxy() refuses what is not a function", () => {
  assert.throws(
    () => proxy(42 as unknown as () => void),
    new TypeError("Cannot create a proxy as 'fn' must be a function: received 42"),
  );
});

const hostPid = Deno.pid;
const mainGlobal = globalThis;
function isMainThread(): boolean {
  return globalThis === mainGlobal && !("WorkerGlobalScope" in globalThis);
}

for (const kind of ["WorkerPoolExecutor", "ProcessPoolExecutor"]) {
  Deno.test(`proxy() callbacks inside a Map, a Set or a class instance fail their task with a DataCloneError saying where (${kind})`, async () => {
    await using pool = KINDS[kind]!();
    const callback = proxy((n: number) => n);
    class Holder {
      constructor(readonly callback: unknown) {}
    }
    // The search for callbacks goes through arrays and plain objects only: a callback elsewhere
    // failed to clone with the wrapper's source as the message, naming nothing.
    const cases: [unknown, RegExp][] = [
      [new Map([["cb", callback]]), /at args\[0\] \(in a Map\)/],
      [{ list: [new Set([callback])] }, /at args\[0\]\.list\.0 \(in a Set\)/],
      [new Holder(callback), /at args\[0\]\.callback \(in a Holder instance\)/],
    ];
    for (const [arg, where] of cases) {
      await assert.rejects(
        pool.submit(keep, arg as never),
        (error) =>
          error instanceof DOMException && error.name === "DataCloneError" &&
          where.test(error.message) && /not in Maps, Sets or class instances/.test(error.message),
      );
    }
    // The pool goes on.
    assert.equal(await pool.submit(keep, callback as never), "kept");
  });
}

import assert from "node:assert/strict";
import { ProcessPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import { findCaptures, loadParser } from "../../executors/_closure_check.ts";
import { SHARED_GLOBALS } from "../../executors/_globals.ts";
import { add, countPrimes } from "../fixtures/tasks.ts";
import { taskSignal } from "../../mod.ts";
import { runDeno, SCRIPTS } from "./_worker_helpers.ts";

const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);

// deno-lint-ignore no-explicit-any
async function captures(fn: (...args: any[]) => unknown) {
  const acorn = await loadParser();
  const name = /^[A-Za-z_$][\w$]*$/.test(fn.name) ? fn.name : undefined;
  return findCaptures(acorn, fn.toString(), name)!;
}

Deno.test("findCaptures() accepts self-contained arrow, async, generator, default and destructuring forms", async () => {
  const forms = [
    (x: number) => x * 2,
    async (x: number) => await Promise.resolve(x + 1),
    function* gen(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    (a: number, b = a * 2) => a + b,
    ({ a, b: [c, ...rest] }: { a: number; b: number[] }, { d = c } = { d: 1 }) =>
      a + (c ?? 0) + (d ?? 0) + rest.length,
    function outer(n: number): number {
      function inner(k: number): number {
        return k <= 0 ? 0 : k + inner(k - 1);
      }
      const args = arguments.length;
      return inner(n) + args;
    },
    (x: number) => {
      const x2 = x;
      {
        const x = x2 * 2;
        return x;
      }
    },
    () => typeof someUndeclaredName === "undefined" ? Math.max(1, 2) : 0,
    (n: number) => {
      class Box {
        value: number;
        constructor(v: number) {
          this.value = v;
        }
        twice() {
          return this.value * 2;
        }
      }
      return new Box(n).twice();
    },
    (n: number) => {
      try {
        return JSON.parse(String(n));
      } catch (error) {
        return error instanceof Error ? crypto.randomUUID() : new URL("file:///x").href;
      } finally {
        label: for (const i of [1]) if (i) break label;
      }
    },
    function fact(n: number): number {
      return n <= 1 ? 1 : n * fact(n - 1);
    },
    (values: number[]) => {
      class Scaled {
        k = 2;
        all() {
          // An arrow inside a method keeps the method's `this`.
          return values.map((v) => v * this.k);
        }
      }
      class Twice extends Scaled {
        override all() {
          return super.all().map((v) => v * 2);
        }
      }
      const base = {
        hello() {
          return "hi";
        },
      };
      const child = {
        __proto__: base,
        hello() {
          return super.hello() + "!";
        },
      };
      return [new Twice().all(), child.hello(), function (this: unknown) {
        return this;
      }];
    },
  ];
  for (const fn of forms) {
    const found = await captures(fn);
    assert.deepEqual(
      found,
      { names: [], thisValue: false, outerArguments: false, superValue: false },
      `expected no captures in ${fn}`,
    );
  }
});

declare const someUndeclaredName: unknown;

Deno.test("findCaptures() names free variables, this, outer arguments and super", async () => {
  const factor = 3;
  assert.deepEqual((await captures((x: number) => x * factor)).names, ["factor"]);
  const defaults = (x: number, y = factor) => x + y;
  assert.deepEqual((await captures(defaults)).names, ["factor"]);
  const destructured = ({ a = factor }: { a?: number }) => a;
  assert.deepEqual((await captures(destructured)).names, ["factor"]);
  assert.equal((await captures(() => this)).thisValue, true);
  function outer() {
    return () => arguments.length;
  }
  assert.equal((await captures(outer())).outerArguments, true);
  const obj = {
    value: 1,
    get() {
      return this.value;
    },
  };
  assert.equal((await captures(obj.get)).thisValue, true);
  const derived = {
    __proto__: { f: () => 1 },
    g() {
      return super.f();
    },
  };
  const found = await captures(derived.g);
  assert.equal(found.superValue, true);
  // `name` and `close` exist in a worker with another meaning: they count as captured.
  assert.deepEqual((await captures(() => `${name}`)).names, ["name"]);
});

declare const name: string;

Deno.test("SHARED_GLOBALS names only globals a Web Worker and the main thread both have", async () => {
  const source =
    "const n=[];for(let o=globalThis;o&&o!==Object.prototype;o=Object.getPrototypeOf(o))n.push(...Object.getOwnPropertyNames(o));postMessage(n);";
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const names = await new Promise<string[]>((resolve) => {
      worker.onmessage = (event) => resolve(event.data);
    });
    const inWorker = new Set(names);
    for (const global of SHARED_GLOBALS) {
      assert(inWorker.has(global), `'${global}' is not a worker global`);
      assert(global in globalThis, `'${global}' is not a main-thread global`);
    }
    for (const different of ["name", "close", "postMessage", "alert", "prompt", "confirm"]) {
      assert(!SHARED_GLOBALS.has(different), different);
    }
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});

Deno.test("WorkerPoolExecutor.submit() refuses a by-source function that captures, naming what", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1, modules: [TASKS] });
  const factor = 3;
  const scale = (x: number) => x * factor;
  await assert.rejects(
    pool.submit(scale, 2).result(),
    (e: unknown) =>
      e instanceof TypeError && e.message.includes("'factor'") &&
      e.message.includes("'scale'") && e.message.includes("pass what it needs as arguments") &&
      e.message.includes("'modules'"),
  );
  // `name` is a worker global: without the check it would greet the worker.
  const user = { name: "Alice" };
  const greet = ((n: string) => () => `hello ${n}`)(user.name);
  await assert.rejects(pool.submit(greet).result(), /uses 'n' from outside/);
  class Scaler {
    k = 2;
    apply(x: number) {
      return x * this.k;
    }
  }
  const unbound = new Scaler().apply;
  await assert.rejects(pool.submit(unbound, 4).result(), /'this'/);
  // An imported function whose module is not in `modules`: it goes by source and captures.
  await assert.rejects(pool.submit(() => taskSignal().aborted).result(), /'taskSignal'/);
  // Exports of `modules` go by reference, whatever they use.
  assert.equal(await pool.submit(countPrimes, 0, 100), 25);
  assert.equal(await pool.submit(add, 1, 2), 3);
  // The same function is refused again, from the cache; a self-contained one still runs.
  await assert.rejects(pool.submit(scale, 2).result(), TypeError);
  assert.equal(await pool.submit((x: number, k: number) => x * k, 2, 3), 6);
});

Deno.test("WorkerPoolExecutor.map() refuses a capturing function at the first item", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const factor = 2;
  await assert.rejects(async () => {
    for await (const _ of pool.map((x: number) => x * factor, [1, 2, 3])) {
      assert.fail("no result expected");
    }
  }, /'factor'/);
});

Deno.test("ProcessPoolExecutor.submit() refuses a by-source function that captures", async () => {
  await using pool = new ProcessPoolExecutor({ maxWorkers: 1 });
  const offset = 1;
  await assert.rejects(pool.submit((x: number) => x + offset, 1).result(), /'offset'/);
});

Deno.test("WorkerPoolExecutor.submit() by-source errors name the function and where it was submitted", async () => {
  await using pool = new WorkerPoolExecutor({ maxWorkers: 1 });
  const explode = (x: number) => {
    if (x > 0) throw new RangeError(`bad ${x}`);
    return x;
  };
  const error = await pool.submit(explode, 1).exception() as Error;
  assert(error instanceof RangeError);
  assert.match(
    error.stack ?? "",
    /at explode \(by-source:explode@file:.*closure_check_test\.ts:\d+:\d+/,
  );
  // A named arrow can call itself in the worker.
  const fib = (n: number): number => n < 2 ? n : fib(n - 1) + fib(n - 2);
  assert.equal(await pool.submit(fib, 10), 55);
});

Deno.test("without its parser, a pool says once that functions sent by source go unchecked", async () => {
  const run = await runDeno([
    "run",
    "-A",
    "--no-npm",
    new URL("unchecked_source.ts", SCRIPTS).pathname,
  ]);
  assert.equal(run.code, 0, run.stderr);
  // The worker still reports what it could not resolve.
  assert.deepEqual(run.stdout.trim().split("\n"), [
    "ReferenceError: k is not defined",
    "ReferenceError: k is not defined",
  ]);
  const warnings = run.stderr.split("\n").filter((line) => line.includes("are not checked"));
  assert.equal(warnings.length, 1, run.stderr);
  assert.match(warnings[0]!, /the parser 'acorn' did not load/);
});

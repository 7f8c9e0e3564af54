import assert from "node:assert/strict";
import {
  BrokenExecutorError,
  type Future,
  ProcessPoolExecutor,
  TimeoutError,
  WorkerCrashedError,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { add, echo, exit, fail, setUp, spinForever } from "../fixtures/tasks.ts";
import { holding, runDeno, SCRIPTS } from "./_worker_helpers.ts";
import { alive } from "../_programs.ts";
import {
  holdLoopForever,
  markExit,
  pid,
  readText,
  spinAfterWritingPid,
} from "../fixtures/process_tasks.ts";

const MODULES = [
  new URL("../fixtures/tasks.ts", import.meta.url),
  new URL("../fixtures/process_tasks.ts", import.meta.url),
];

function pool(options: ConstructorParameters<typeof ProcessPoolExecutor>[0] = {}) {
  return new ProcessPoolExecutor({ maxWorkers: 1, modules: MODULES, ...options });
}

/** The live processes whose command line holds `text`, read from /proc. */
function processesWith(text: string): { pid: number; cmd: string }[] {
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let cmd: string;
    try {
      cmd = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).replaceAll("\0", " ").trim();
    } catch {
      continue; // Gone meanwhile.
    }
    if (cmd.includes(text) && alive(Number(entry.name))) {
      found.push({ pid: Number(entry.name), cmd });
    }
  }
  return found;
}

Deno.test("ProcessPoolExecutor runs tasks by reference and by source in a subprocess", async () => {
  await using processes = pool();
  assert.equal(await processes.submit(add, 2, 3), 5);
  assert.equal(await processes.submit((x: number) => x * 7, 6), 42);
  const child = await processes.submit(pid);
  assert.notEqual(child, Deno.pid);
  assert.ok(processes instanceof WorkerPoolExecutor);
});

Deno.test("ProcessPoolExecutor kills a task that never yields at its timeout, and serves on", async () => {
  await using processes = pool();
  const first = await processes.submit(pid);
  const error = await processes.with({ timeout: 100 }).submit(spinForever).exception();
  assert.ok(error instanceof TimeoutError);
  const second = await processes.submit(pid);
  assert.notEqual(second, first, "a new process replaced the killed one");
  assert.equal(processes.stats().workers.spinning, 0);
});

Deno.test("ProcessPoolExecutor kills a running task when its signal aborts: the process is gone", async () => {
  const file = await Deno.makeTempFile();
  try {
    const processes = pool();
    await processes.submit(add, 0, 0);
    const controller = new AbortController();
    const running = processes.with({ signal: controller.signal }).submit(spinAfterWritingPid, file);
    let pid = "";
    while (pid === "") {
      await new Promise((resolve) => setTimeout(resolve, 5));
      pid = await Deno.readTextFile(file);
    }
    controller.abort(new Error("stop"));
    const error = await running.exception();
    assert.equal((error as Error).message, "stop");
    assert.equal(await processes.submit(add, 1, 1), 2);
    await processes.shutdown();
    assert.throws(() => Deno.kill(Number(pid), "SIGCONT"), "the killed process no longer exists");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("ProcessPoolExecutor contains a task that runs out of memory", async () => {
  // In a subprocess, so that V8's report of the child's death stays out of the test log.
  const run = await runDeno(["run", "-A", new URL("process_oom.ts", SCRIPTS).pathname]);
  assert.equal(run.code, 0, run.stderr);
  const outcome = JSON.parse(run.stdout);
  assert.equal(outcome.crashed, true, run.stdout);
  assert.ok(outcome.signal !== null || (outcome.exitCode ?? 0) !== 0, run.stdout);
  assert.equal(outcome.next, 4);
  assert.equal(outcome.crashes, 1);
  assert.match(run.stderr, /out of memory/i);
});

Deno.test("ProcessPoolExecutor reports Deno.exit(n) as WorkerCrashedError with exitCode n", async () => {
  await using processes = pool();
  const error = await processes.submit(exit, 5).exception();
  assert.ok(error instanceof WorkerCrashedError);
  assert.equal(error.exitCode, 5);
  assert.match(error.message, /exit/);
  assert.equal(await processes.submit(add, 1, 2), 3);
});

Deno.test("ProcessPoolExecutor keeps an error's class, message and fields", async () => {
  await using processes = pool();
  const error = await processes.submit(fail, "bad input").exception();
  assert.ok(error instanceof RangeError);
  assert.equal(error.message, "bad input");
  assert.equal((error as RangeError & { code: string }).code, "E_FAIL");
});

Deno.test("ProcessPoolExecutor rejects a value it cannot send with DataCloneError", async () => {
  await using processes = pool();
  const argument = await processes.submit(echo, () => 1).exception();
  assert.ok(argument instanceof DOMException);
  assert.equal(argument.name, "DataCloneError");
  const result = await processes.submit(() => Symbol("local")).exception();
  assert.ok(result instanceof DOMException, String(result));
  assert.equal(result.name, "DataCloneError");
  assert.deepEqual(await processes.submit(echo, new Map([[1, [2n]]])), new Map([[1, [2n]]]));
});

Deno.test("ProcessPoolExecutor refuses, naming it, a value that would arrive as something else", async () => {
  await using processes = pool();
  const refused = async (future: Future<unknown>, type: string) => {
    const error = await future.exception();
    assert.ok(error instanceof DOMException, String(error));
    assert.equal(error.name, "DataCloneError");
    assert.match(error.message, new RegExp(`Cannot send a ${type} to another process`));
  };
  // Structured clone keeps these (a Web Worker gets them) or refuses them; V8's serializer sent
  // each as an empty object, or an Error without its message.
  const key = await crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, true, ["sign"]);
  const values: [unknown, string][] = [
    [new Blob(["x"]), "Blob"],
    [new File(["x"], "a.txt"), "Blob"],
    [key, "CryptoKey"],
    [new DOMException("stopped", "AbortError"), "DOMException"],
    [new URL("https://example.com/"), "URL"],
    [new Headers({ a: "1" }), "Headers"],
    // Anywhere in the value.
    [{ list: [1, new Map([["k", { deep: new Blob([]) }]])] }, "Blob"],
    // A future is waited for only as an argument of its own.
    [[processes.submit(add, 1, 2)], "Future"],
  ];
  for (const [value, type] of values) await refused(processes.submit(echo, value), type);
  await refused(processes.submit(() => new Blob(["made there"])), "Blob");
  await refused(
    processes.submit(() => [{ reason: new DOMException("m", "AbortError") }]),
    "DOMException",
  );
  // What V8 carries as it is still goes: a cycle, an error with its cause, shared references.
  const cycle: Record<string, unknown> = { name: "cycle" };
  cycle.self = cycle;
  const back = await processes.submit(echo, cycle) as Record<string, unknown>;
  assert.equal(back.self, back);
  const error = await processes.submit(echo, new TypeError("t", { cause: new RangeError("r") }));
  assert.ok(error instanceof TypeError && error.cause instanceof RangeError);
});

Deno.test("ProcessPoolExecutor refuses settings it would ignore: restarts with onCrash break, two heap limits", () => {
  assert.throws(
    () => new ProcessPoolExecutor({ onCrash: "break", restartLimit: { max: 1, within: 1000 } }),
    /'restartLimit' applies only with onCrash: "restart"/,
  );
  assert.throws(
    () => new WorkerPoolExecutor({ onCrash: "break", restartBackoff: { initial: 5 } }),
    /'restartBackoff' applies only with onCrash: "restart"/,
  );
  assert.throws(
    () =>
      new ProcessPoolExecutor({
        memoryLimitMb: 64,
        denoArgs: ["--v8-flags=--max-old-space-size=4000"],
      }),
    /'memoryLimitMb' and 'denoArgs' both set the heap limit: received "--v8-flags=--max-old-space-size=4000"/,
  );
});

Deno.test("ProcessPoolExecutor lets tasks use the console: their lines are the program's", async () => {
  const run = await runDeno(["run", "-A", new URL("process_console.ts", SCRIPTS).pathname]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout + run.stderr, /log: hello/);
  assert.match(run.stdout, /answer: hello\n/);
});

Deno.test("ProcessPoolExecutor gives the child its permissions", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "secret");
    {
      await using none = pool({ permissions: "none" });
      // Task modules load without read access; the task itself has none.
      assert.equal(await none.submit(add, 1, 2), 3);
      const error = await none.submit(readText, file).exception();
      assert.ok(!(error instanceof BrokenExecutorError), String(error));
      assert.ok(
        error instanceof Error && /read access|NotCapable|PermissionDenied/.test(
          `${error.name} ${error.message}`,
        ),
        String(error),
      );
    }
    {
      await using some = pool({ permissions: { read: [file] } });
      assert.equal(await some.submit(readText, file), "secret");
    }
    {
      await using inherit = pool();
      assert.equal(await inherit.submit(readText, file), "secret");
    }
    // Deno's other forms of a grant: "inherit" for one permission, a file URL. Both were taken for
    // no access at all.
    for (const read of ["inherit", [new URL(`file://${file}`)]] as const) {
      await using some = pool({ permissions: { read } as never });
      assert.equal(await some.submit(readText, file), "secret", JSON.stringify(read));
    }
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("pools and actors refuse a 'permissions' value they cannot apply, naming it", async () => {
  const { spawn } = await import("../../mod.ts");
  // Each was taken for "nothing granted" by a process pool, or broke a worker pool at its first
  // task.
  const cases: [unknown, RegExp][] = [
    ["all", /'permissions' must be "inherit", "none" or an object.*received "all"/],
    [42, /'permissions' must be .*received 42/],
    [null, /'permissions' must be .*received null/],
    [{ read: "yes" }, /'permissions\.read' must be true, false, "inherit" or a list.*"yes"/],
    [
      { reed: true },
      /'permissions\.reed' is not a permission \(did you mean 'permissions\.read'\?\)/,
    ],
  ];
  for (const [permissions, message] of cases) {
    const refused = (e: unknown) => e instanceof TypeError && message.test(e.message);
    assert.throws(() => pool({ permissions: permissions as never }), refused);
    assert.throws(
      () => new WorkerPoolExecutor({ modules: MODULES, permissions: permissions as never }),
      refused,
    );
    await assert.rejects(
      () =>
        spawn(new URL("../fixtures/actors/counter.ts", import.meta.url), { permissions } as never),
      refused,
    );
  }
});

Deno.test("ProcessPoolExecutor refuses permission flags in denoArgs: they would widen 'permissions'", async () => {
  for (
    const flag of [
      "--allow-env",
      "--allow-read=/etc",
      "-A",
      "-R",
      "--deny-net",
      "--permission-set",
      // Short flags together, and --allow-import's.
      "-RW",
      "-WE",
      "-ERWS",
      "-I",
      "-R=/etc",
    ]
  ) {
    assert.throws(
      () => pool({ permissions: "none", denoArgs: [flag] }),
      (e: unknown) =>
        e instanceof TypeError && e.message.includes(`must not hold permission flags`) &&
        e.message.includes(JSON.stringify(flag)),
      flag,
    );
  }
  // Flags that only look alike pass.
  await using processes = pool({ denoArgs: ["--no-remote", "-q", "-L", "info"] });
  assert.equal(await processes.submit(add, 1, 2), 3);
});

Deno.test("ProcessPoolExecutor with initargs that cannot be sent breaks naming them, and starts no process", async () => {
  // Tests of other files may run in this process (`deno test --parallel`) and start processes of
  // their own: this pool's processes are told apart by a flag no other process has.
  const marker = `https://initargs-${crypto.randomUUID()}.invalid/`;
  const processes = pool({
    initializer: setUp,
    initargs: [() => "a function"],
    denoArgs: [`--location=${marker}`],
  });
  const error = await processes.submit(add, 1, 1).exception();
  assert.ok(error instanceof BrokenExecutorError);
  assert.match(error.message, /'initargs' could not be sent/);
  await processes.shutdown();
  // Its process was started before the message failed, and left running: the program never
  // ended.
  assert.deepEqual(processesWith(marker), []);
});

Deno.test("ProcessPoolExecutor runs the initializer in each process, and breaks when it fails", async () => {
  await using processes = pool({ initializer: setUp, initargs: ["ready"] });
  assert.equal(await processes.submit(add, 1, 1), 2);
  await using failing = pool({
    initializer: () => {
      throw new Error("no database");
    },
  });
  const error = await failing.submit(add, 1, 1).exception();
  assert.ok(error instanceof BrokenExecutorError);
  assert.match(error.message, /initializer failed/);
});

Deno.test("ProcessPoolExecutor maps in chunks and shuts down every process", async () => {
  const processes = pool({ maxWorkers: 2 });
  const results: number[] = [];
  for await (
    const value of processes.map((x: number) => x * x, [1, 2, 3, 4, 5], { chunksize: 2 })
  ) {
    results.push(value);
  }
  assert.deepEqual(results, [1, 4, 9, 16, 25]);
  await processes.shutdown();
  assert.equal(processes.stats().workers.total, 0);
});

Deno.test("ProcessPoolExecutor ends an idle process by closing its connection: it exits as a program does", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using processes = pool();
    const child = await processes.submit(markExit, `${dir}/exited`);
    await processes.shutdown();
    // Its exit ran what a program's exit runs (Deno sends its OpenTelemetry spans then too).
    assert.equal(Deno.readTextFileSync(`${dir}/exited`), "exited");
    assert.ok(!alive(child));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcessPoolExecutor kills an idle process that does not exit when asked (its event loop held)", async () => {
  const dir = await Deno.makeTempDir();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let child: number | undefined;
  const processes = pool();
  try {
    child = await processes.submit(holdLoopForever, `${dir}/held`);
    // The process holds its event loop once the file is there.
    await holding(`${dir}/held.holding`);
    const shutdown = processes.shutdown().then(() => "shut down");
    const late = new Promise((resolve) =>
      timer = setTimeout(() => resolve("still waiting"), 30_000)
    );
    assert.equal(await Promise.race([shutdown, late]), "shut down");
    assert.ok(!alive(child));
  } finally {
    clearTimeout(timer);
    // Failed: the process is ended here, which lets the shutdown finish.
    if (child !== undefined && alive(child)) Deno.kill(child, "SIGKILL");
    await processes.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ProcessPoolExecutor checks memoryLimitMb", () => {
  assert.throws(
    () => new ProcessPoolExecutor({ memoryLimitMb: 0 }),
    (error: unknown) => error instanceof RangeError && /'memoryLimitMb'/.test(error.message),
  );
});

import assert from "node:assert/strict";
import { CancelledError, InvalidStateError, type WorkerPoolExecutor } from "../../mod.ts";
import { add, cell, hold } from "../fixtures/tasks.ts";
import { release, ROOT, runDeno, SCRIPTS, startedAtLeast, workerPool } from "./_worker_helpers.ts";

const EXIT_BOUND_MS = 20_000;

function script(name: string): string {
  return new URL(name, SCRIPTS).pathname;
}

Deno.test("WorkerPoolExecutor.shutdown() ends every worker", async () => {
  await using pool = workerPool({ maxWorkers: 3, idleTimeout: Infinity });
  const c = cell();
  const futures = [1, 2, 3].map((i) => pool.submit(hold, c, i));
  await startedAtLeast(c, 3);
  assert.equal(pool.stats().workers.total, 3);
  release(c);
  await Promise.all(futures);
  assert.equal(pool.stats().workers.idle, 3);
  await pool.shutdown();
  assert.deepEqual(pool.stats().workers, {
    total: 0,
    busy: 0,
    idle: 0,
    starting: 0,
    retiring: 0,
    spinning: 0,
    draining: 0,
  });
  await pool.shutdown();
});

Deno.test("WorkerPoolExecutor[Symbol.asyncDispose]() ends every worker at the end of the block", async () => {
  let outer: WorkerPoolExecutor | undefined;
  {
    await using pool = workerPool({ maxWorkers: 2, idleTimeout: Infinity });
    outer = pool;
    await Promise.all([pool.submit(add, 1, 1), pool.submit(add, 2, 2)]);
    assert.ok(pool.stats().workers.total >= 1);
  }
  assert.equal(outer.stats().workers.total, 0);
  assert.throws(
    () => outer.submit(add, 1, 1),
    (error) => error instanceof InvalidStateError && /shutdown/.test(error.message),
  );
});

Deno.test("WorkerPoolExecutor.shutdown() lets running and queued tasks finish first", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const running = pool.submit(hold, c, "running");
  const queued = pool.submit(add, 20, 22);
  await startedAtLeast(c, 1);
  let closed = false;
  const closing = pool.shutdown().then(() => closed = true);
  assert.throws(() => pool.submit(add, 1, 1), InvalidStateError);
  await Promise.resolve();
  assert.equal(closed, false);
  release(c);
  assert.equal(await running, "running");
  assert.equal(await queued, 42);
  await closing;
  assert.equal(pool.stats().workers.total, 0);
});

Deno.test("WorkerPoolExecutor.shutdown({ cancelFutures: true }) cancels the queued tasks", async () => {
  await using pool = workerPool({ maxWorkers: 1 });
  const c = cell();
  const running = pool.submit(hold, c, "running");
  const queued = pool.submit(add, 1, 1);
  await startedAtLeast(c, 1);
  const closing = pool.shutdown({ cancelFutures: true });
  assert.equal(queued.cancelled(), true);
  await assert.rejects(queued.result(), CancelledError);
  release(c);
  assert.equal(await running, "running");
  await closing;
  assert.equal(pool.stats().workers.total, 0);
});

Deno.test("WorkerPoolExecutor starts no worker before there is work, and shutdown() starts none", async () => {
  await using pool = workerPool();
  assert.equal(pool.stats().workers.total, 0);
  const closing = pool.shutdown();
  assert.equal(pool.stats().workers.total + pool.stats().workers.starting, 0);
  await closing;
  assert.equal(pool.stats().workers.total, 0);
});

Deno.test("WorkerPoolExecutor lets the process exit after shutdown()", async () => {
  const run = await runDeno(["run", "-A", script("pool_shutdown.ts")], EXIT_BOUND_MS);
  assert.equal(run.killed, false, `the process did not exit: ${run.stdout}${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "sums 2,4,6,8 workers 0");
});

Deno.test("WorkerPoolExecutor lets the process exit after shutdown() while its idle timers had long to run", async () => {
  // Ten minutes: the idle workers' timers are pending when the pool shuts down.
  const run = await runDeno(["run", "-A", script("pool_shutdown.ts"), "600000"], EXIT_BOUND_MS);
  assert.equal(run.killed, false, `the process did not exit: ${run.stdout}${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "sums 2,4,6,8 workers 0");
});

Deno.test("toThread() lets the process exit once the default executor is idle, without shutdown", async () => {
  const run = await runDeno(["run", "-A", script("to_thread.ts")], EXIT_BOUND_MS);
  assert.equal(run.killed, false, `the process did not exit: ${run.stdout}${run.stderr}`);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), "doubled 42 on WorkerPoolExecutor 'default' worker 1");
});

Deno.test("WorkerPoolExecutor() with permissions throws a clear Error when Deno lacks --unstable-worker-options", async () => {
  // --no-config leaves out deno.json, and with it the import map: pass that on its own.
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const dir = await Deno.makeTempDir();
  try {
    const importMap = `${dir}/import_map.json`;
    await Deno.writeTextFile(importMap, JSON.stringify({ imports: config.imports ?? {} }));
    const run = await runDeno(
      ["run", "-A", "--no-config", `--import-map=${importMap}`, script("permissions.ts")],
      EXIT_BOUND_MS,
    );
    assert.notEqual(run.code, 70, "Deno ended the process itself");
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^refused Error: .*'permissions'.*--unstable-worker-options/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("WorkerPoolExecutor() with permissions 'none' runs tasks without permissions under --unstable-worker-options", async () => {
  const run = await runDeno(
    ["run", "-A", "--unstable-worker-options", script("permissions.ts")],
    EXIT_BOUND_MS,
  );
  assert.equal(run.code, 0, run.stderr);
  const [task, main, modules] = run.stdout.trim().split("\n");
  assert.match(task ?? "", /^denied NotCapable: Requires read access/);
  assert.equal(main, "the main thread can read: yes");
  assert.match(
    modules ?? "",
    /^modules BrokenExecutorError: .*could not be loaded in worker \d+: Requires read access to .*tasks\.ts/,
  );
});

import assert from "node:assert/strict";
import {
  AsyncPoolExecutor,
  CircuitOpenError,
  type Executor,
  WorkerPoolExecutor,
} from "../../mod.ts";
import { fail } from "../fixtures/tasks.ts";

const TASKS = new URL("../fixtures/tasks.ts", import.meta.url);

/** Opens the 'api' circuit with two failures, then checks what the executor does with it. */
async function opensAndBlocks(executor: Executor): Promise<void> {
  const api = executor.with({ domain: "api" });
  for (let i = 0; i < 2; i++) {
    const error = await api.submit(fail, "down").exception();
    assert.ok(error instanceof RangeError, `attempt ${i}: ${error}`);
  }
  const blocked = await api.submit(fail, "never runs").exception();
  assert.ok(blocked instanceof CircuitOpenError);
  assert.equal(blocked.domain, "api");
  assert.ok(blocked.retryAfter > 0 && blocked.retryAfter <= 60_000);
  // Other domains are unaffected.
  const other = await executor.with({ domain: "other" }).submit(fail, "runs").exception();
  assert.ok(other instanceof RangeError);
  assert.equal((other as Error).message, "runs");
}

Deno.test("AsyncPoolExecutor opens a domain's circuit and reports it in circuitStats()", async () => {
  await using pool = new AsyncPoolExecutor({
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  await opensAndBlocks(pool);
  const stats = pool.circuitStats();
  assert.equal(stats.get("api")?.state, "open");
  assert.equal(stats.get("other")?.state, "closed");
  assert.equal(stats.get("api")?.rejected, 1);
});

Deno.test("WorkerPoolExecutor opens a domain's circuit and reports it in circuitStats()", async () => {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: 1,
    modules: [TASKS],
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  await opensAndBlocks(pool);
  assert.equal(pool.circuitStats().get("api")?.state, "open");
  assert.equal(pool.stats().completed + pool.stats().failed, 3, "the blocked task never ran");
});

Deno.test("circuitStats() is empty without a circuitBreaker", async () => {
  await using pool = new AsyncPoolExecutor();
  await pool.submit(() => 1);
  assert.equal(pool.circuitStats().size, 0);
});

Deno.test("with() refuses a 'domain' on an executor without a circuitBreaker", async () => {
  await using pool = new AsyncPoolExecutor();
  assert.throws(
    () => pool.with({ domain: "api" }),
    (e: unknown) => e instanceof TypeError && /'domain'.*'circuitBreaker'.*"api"/.test(e.message),
  );
  assert.throws(() => pool.with({ timeout: 10 }).with({ domain: "api" }), TypeError);
});

Deno.test("CircuitOpenError.cause is the failure that opened the circuit; a retried task reports its own last error", async () => {
  await using pool = new AsyncPoolExecutor({
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  let attempts = 0;
  const flaky = pool.with({
    domain: "api",
    retry: { maxAttempts: 5, backoff: { initial: 1, max: 1 }, retryOn: () => true },
  });
  const error = await flaky.submit(() => {
    attempts++;
    throw new RangeError(`attempt ${attempts}`);
  }).exception();
  // The second failure opened the circuit, which stopped the retries.
  assert.equal(attempts, 2);
  assert.ok(error instanceof RangeError, String(error));
  assert.equal(error.message, "attempt 2");
  const circuit = (error as RangeError & { circuit?: unknown }).circuit;
  assert.ok(circuit instanceof CircuitOpenError);
  assert.equal(circuit.cause, error);
  assert.equal(Object.keys(error).includes("circuit"), false, "not enumerable");
  // A task that never ran rejects with CircuitOpenError, whose cause opened the circuit.
  const blocked = await pool.with({ domain: "api" }).submit(() => "never").exception();
  assert.ok(blocked instanceof CircuitOpenError);
  assert.equal(blocked.cause, error);
});

/** Submits 100 failing 'api' tasks at once; returns how each ended. */
async function backlog(executor: Executor, options = {}): Promise<unknown[]> {
  const api = executor.with({ domain: "api", ...options });
  const futures = Array.from({ length: 100 }, (_, i) => api.submit(fail, `call ${i}`));
  return await Promise.all(futures.map((future) => future.exception()));
}

Deno.test("AsyncPoolExecutor: tasks queued when their circuit opens do not run", async () => {
  await using pool = new AsyncPoolExecutor({
    maxWorkers: 1,
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  const errors = await backlog(pool);
  assert.equal(errors.filter((error) => error instanceof RangeError).length, 2);
  assert.equal(errors.filter((error) => error instanceof CircuitOpenError).length, 98);
  assert.equal(pool.stats().attempts.failed, 2, "only the two that opened the circuit ran");
  const api = pool.circuitStats().get("api")!;
  assert.equal(api.state, "open");
  assert.equal(api.inFlight, 0);
});

Deno.test("WorkerPoolExecutor: tasks queued when their circuit opens do not run", async () => {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: 1,
    modules: [TASKS],
    circuitBreaker: { threshold: 2, halfOpenAfter: 60_000 },
  });
  // Tasks sent ahead of their turn once the worker is known to be quick would take their passes
  // before the first failures came back.
  await Promise.all(Array.from({ length: 50 }, () => pool.submit(() => 1)));
  const errors = await backlog(pool);
  assert.equal(errors.filter((error) => error instanceof RangeError).length, 2);
  assert.equal(errors.filter((error) => error instanceof CircuitOpenError).length, 98);
  assert.equal(pool.stats().attempts.failed, 2, "only the two that opened the circuit ran");
});

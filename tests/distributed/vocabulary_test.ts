// The distributed executor's names shared with the other executors, and its deprecated ones.
import assert from "node:assert/strict";
import { DistributedExecutor, ExecutorBase } from "../../distributed/mod.ts";
import { parseWorkerArgs } from "../../distributed/worker.ts";
import { checkDurations } from "../../distributed/_layout.ts";

Deno.test("DistributedExecutor() reads the deprecated workers, refusing it with maxWorkers", () => {
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", workers: 1, maxWorkers: 1 }),
    (error: unknown) =>
      error instanceof TypeError &&
      /'workers' and 'maxWorkers' are the same option: give one/.test(error.message),
  );
  assert.throws(
    // Embedded mode: with servers, maxWorkers is refused whatever its value.
    () => new DistributedExecutor({ maxWorkers: 0 }),
    /'maxWorkers' must be a positive integer: received 0/,
  );
  assert.throws(
    () => new DistributedExecutor({ workers: 0 }),
    /'workers' must be a positive integer: received 0/,
  );
});

Deno.test("DistributedExecutor.whenStarted(), maxWorkers and stats() use the executors' vocabulary; ready(), inFlight and workers still work", async () => {
  // The deprecated `workers` starts as many local worker processes as `maxWorkers` would.
  await using executor = new DistributedExecutor({ workers: 1, allowSource: true });
  assert.ok(executor instanceof ExecutorBase);
  await executor.whenStarted();
  await executor.ready();
  assert.equal(executor.maxWorkers, 1);
  assert.equal(executor.pids.length, 2, "the server and one worker");
  const view = executor.with({ timeout: 30_000 });
  assert.equal(await view.submit((a: number, b: number) => a + b, 2, 3), 5);
  await view.onIdle();
  const stats = view.stats();
  assert.equal(stats.running, 0);
  assert.equal(stats.inFlight, stats.running);
  assert.deepEqual(stats.futures, { completed: 1, failed: 0, cancelled: 0 });
  assert.deepEqual(stats.attempts, { completed: 1, failed: 0 });
  assert.equal(stats.completed, 1);
  const names = Object.keys(stats.byWorker);
  assert.equal(names.length, 1);
  assert.deepEqual(stats.byWorker[names[0]!], { completed: 1, failed: 0 });
  assert.deepEqual(stats.workers, stats.byWorker);
});

Deno.test("DistributedExecutor() reads the deprecated maxAttempts as poisonAfter, refusing both together", () => {
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", maxAttempts: 2, poisonAfter: 2 }),
    (error: unknown) =>
      error instanceof TypeError &&
      /'maxAttempts' and 'poisonAfter' are the same option: give one/.test(error.message),
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", maxAttempts: 0 }),
    /'maxAttempts' must be a positive integer: received 0/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", poisonAfter: 1.5 }),
    /'poisonAfter' must be a positive integer: received 1.5/,
  );
});

Deno.test("parseWorkerArgs() shows a flag's bad value quoted, as every option message does", () => {
  const base = ["--nats", "nats://127.0.0.1:4222", "--modules", "file:///tasks.ts"];
  const env = () => undefined;
  assert.throws(
    () => parseWorkerArgs([...base, "--concurrency", "0"], env),
    /'--concurrency' must be a positive integer: received "0"$/,
  );
  assert.throws(
    () => parseWorkerArgs([...base, "--isolation", "thread"], env),
    /'--isolation' must be "process", "worker" or "inline": received "thread"$/,
  );
  assert.throws(
    () => parseWorkerArgs([...base, "--replicas", "three"], env),
    /'--replicas' must be a positive integer: received "three"$/,
  );
});

Deno.test("DistributedExecutor() and the worker refuse durations the server or a timer cannot take, naming them", () => {
  const range = (name: string) => (error: unknown) =>
    error instanceof RangeError && error.message.includes(`'${name}' must be from`);
  // The server refuses a max_age under 100 ms; nanoseconds past int64 are not JSON it reads.
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", resultTtl: 10 }),
    range("resultTtl"),
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", ackWait: 1e15 }),
    range("ackWait"),
  );
  const base = ["--nats", "nats://127.0.0.1:4222", "--modules", "file:///tasks.ts"];
  const env = () => undefined;
  assert.throws(() => parseWorkerArgs([...base, "--result-ttl", "10"], env), range("--result-ttl"));
  assert.throws(
    () => parseWorkerArgs([...base, "--ack-wait", "3000000000"], env),
    range("--ack-wait"),
  );
  // A heartbeat interval past a timer's range made the worker beat every millisecond.
  assert.throws(
    () => parseWorkerArgs([...base, "--heartbeat", "3000000000"], env),
    (error) => error instanceof RangeError && error.message.includes("'--heartbeat' must be"),
  );
  assert.equal(
    parseWorkerArgs([...base, "--heartbeat", String(2 ** 31 - 1)], env).heartbeat,
    2 ** 31 - 1,
  );
  // The bounds themselves are taken.
  checkDurations("start", { resultTtl: 100, ackWait: 2 ** 31 - 1 }, (key) => key);
});

Deno.test("DistributedExecutor() refuses in connectOptions what has an option of its own", () => {
  const pairs: [string, string][] = [
    ["servers", "servers"],
    ["token", "token"],
    ["user", "user"],
    ["tls", "tls"],
    ["authenticator", "nkeySeed' or 'credsFile"],
  ];
  for (const [key, own] of pairs) {
    assert.throws(
      () => new DistributedExecutor({ servers: "nats://x", connectOptions: { [key]: "x" } }),
      (error: unknown) =>
        error instanceof TypeError &&
        error.message.includes(`'connectOptions' must not hold '${key}': give it as '${own}'`),
      key,
    );
  }
});

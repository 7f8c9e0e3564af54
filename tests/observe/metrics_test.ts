import assert from "node:assert/strict";
import { AsyncPoolExecutor, ProcessPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import {
  type ExecutorMetrics,
  formatMetrics,
  metricsHandler,
  readMetrics,
} from "../../observe/mod.ts";
import { TimeoutError } from "../../future/errors.ts";
import { recorderOf } from "../../observe/_registry.ts";
import { parsePrometheus, valueOf } from "./_prom_parser.ts";

const NAMES = [
  "concurrent_futures_tasks_total",
  "concurrent_futures_attempts_total",
  "concurrent_futures_tasks_queued",
  "concurrent_futures_tasks_running",
  "concurrent_futures_workers",
  "concurrent_futures_task_duration_seconds",
  "concurrent_futures_task_wait_seconds",
  "concurrent_futures_worker_restarts_total",
  "concurrent_futures_circuit_state",
];

async function scrape(handler: (request: Request) => Response) {
  const response = handler(new Request("http://127.0.0.1/metrics"));
  assert.equal(response.headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  return parsePrometheus(await response.text());
}

/** The metrics of an AsyncPoolExecutor named `executor` that has done nothing, with `circuits`. */
function idleMetrics(
  executor: string,
  circuits: ExecutorMetrics["circuits"] = [],
): ExecutorMetrics {
  return {
    executor,
    kind: "AsyncPoolExecutor",
    tasks: { completed: 0, failed: 0, cancelled: 0 },
    attempts: { completed: 0, failed: 0, cancelled: 0 },
    queued: 0,
    running: 0,
    workers: { starting: 0, idle: 0, busy: 0, retiring: 0, draining: 0, spinning: 0 },
    restarts: 0,
    duration: { buckets: [{ le: "+Inf", count: 0 }], sum: 0, count: 0 },
    wait: { buckets: [{ le: "+Inf", count: 0 }], sum: 0, count: 0 },
    circuits,
  };
}

Deno.test("metricsHandler() serves every metric in the Prometheus text format, and counters move", async () => {
  await using io = new AsyncPoolExecutor({
    name: "io",
    circuitBreaker: { threshold: 1, halfOpenAfter: 60_000 },
  });
  await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 2 });
  const handler = metricsHandler([io, cpu]);
  const before = await scrape(handler);
  for (const name of NAMES) assert.ok(before.has(name), name);
  assert.equal(before.get("concurrent_futures_tasks_total")!.type, "counter");
  assert.equal(before.get("concurrent_futures_task_wait_seconds")!.type, "histogram");
  const completed = { executor: "cpu", outcome: "completed" };
  assert.equal(valueOf(before, "concurrent_futures_tasks_total", completed), 0);

  await Promise.all([1, 2, 3].map((n) => cpu.submit((x: number) => x * 2, n)));
  const retried = io.with({ retry: { maxAttempts: 3, retryOn: () => true, backoff: { max: 1 } } });
  await retried.submit(() => Promise.reject(new Error("flaky"))).exception();
  await io.with({ domain: "api.example" }).submit(() => {
    throw new Error("down");
  }).exception();

  const after = await scrape(handler);
  assert.equal(valueOf(after, "concurrent_futures_tasks_total", completed), 3);
  assert.equal(
    valueOf(after, "concurrent_futures_attempts_total", { executor: "io", outcome: "failed" }),
    4,
  );
  assert.equal(
    valueOf(after, "concurrent_futures_tasks_total", { executor: "io", outcome: "failed" }),
    2,
  );
  assert.equal(
    valueOf(after, "concurrent_futures_task_duration_seconds_count", { executor: "cpu" }),
    3,
  );
  assert.equal(valueOf(after, "concurrent_futures_task_wait_seconds_count", { executor: "io" }), 4);
  assert.equal(
    valueOf(after, "concurrent_futures_circuit_state", {
      executor: "io",
      domain: "api.example",
    }),
    2,
  );
  const workers = after.get("concurrent_futures_workers")!.samples
    .filter((s) => s.labels.executor === "cpu")
    .reduce((sum, s) => sum + s.value, 0);
  assert.ok(workers >= 1 && workers <= 2, `cpu workers: ${workers}`);
});

Deno.test("readMetrics() counts a process pool's tasks and names executors after the record keys", async () => {
  await using proc = new ProcessPoolExecutor({ maxWorkers: 1 });
  readMetrics({ contained: proc });
  await proc.submit((a: number, b: number) => a + b, 2, 3);
  const [m] = readMetrics({ contained: proc });
  assert.equal(m!.executor, "contained");
  assert.equal(m!.kind, "ProcessPoolExecutor");
  assert.equal(m!.tasks.completed, 1);
  assert.equal(m!.attempts.completed, 1);
  assert.equal(m!.duration.count, 1);
  parsePrometheus(formatMetrics([m!]));
});

Deno.test("formatMetrics() escapes label values", () => {
  const text = formatMetrics([idleMetrics('a"b\\c\nd')]);
  const parsed = parsePrometheus(text);
  assert.equal(
    valueOf(parsed, "concurrent_futures_tasks_queued", { executor: 'a"b\\c\nd' }),
    0,
  );
});

Deno.test("formatMetrics() formats a family of 300k lines (a circuit per domain)", () => {
  // Spread as call arguments, a family of some 120k lines overflowed the stack.
  const circuits = Array.from({ length: 300_000 }, (_, i) => ({
    domain: `host${i}.example`,
    state: 0 as const,
  }));
  const text = formatMetrics([idleMetrics("io", circuits)]);
  assert.match(
    text,
    /^concurrent_futures_circuit_state\{executor="io",domain="host299999\.example"\} 0$/m,
  );
});

Deno.test("readMetrics() refuses an object that is not an executor", () => {
  assert.throws(() => readMetrics([{}]), TypeError);
});

Deno.test("readMetrics() times every attempt on a worker pool, one stopped before it reported too", async () => {
  await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 1 });
  const recorder = recorderOf(cpu, "test");
  // These report their run times: the recorder takes each start from them.
  for (const n of [1, 2, 3]) assert.equal(await cpu.submit((x: number) => x * 2, n), n * 2);
  // This one never reports: it is stopped by its timeout.
  const submitted = performance.timeOrigin + performance.now();
  const hung = cpu.with({ timeout: 50 }).submit(() => new Promise<never>(() => {}));
  assert.ok(await hung.exception() instanceof TimeoutError);
  const [m] = readMetrics([cpu]);
  assert.equal(m!.attempts.completed, 3);
  assert.equal(m!.attempts.failed, 1);
  assert.equal(m!.duration.count, 4);
  assert.equal(m!.wait.count, 4);
  for (const h of [m!.duration, m!.wait]) assert.ok(Number.isFinite(h.sum) && h.sum >= 0);
  const bars = recorder.bars;
  assert.deepEqual(bars.map((b) => b.outcome), ["completed", "completed", "completed", "failed"]);
  for (const bar of bars) assert.ok(bar.end >= bar.start, JSON.stringify(bar));
  // Its bar ends when it was stopped, not when it started: its timeout ran from its submit (a
  // timer does not fire early; 1 ms for rounding). Its start may come a little after the submit,
  // on a busy machine.
  assert.ok(bars[3]!.start >= submitted - 1, JSON.stringify(bars[3]));
  assert.ok(bars[3]!.end >= submitted + 49, JSON.stringify(bars[3]));
});

Deno.test("metricsHandler() refuses a host that is not loopback, an IP address nor in allowedHosts with 403", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  await io.submit(() => {
    throw new Error("login failed for admin with password hunter2");
  }).exception();
  // Deno.serve builds the URL from the Host header; a handler mounted elsewhere may see only it.
  const ask = (
    handler: (request: Request) => Response,
    host: string,
    url = `http://${host}/metrics`,
  ) => handler(new Request(url, { headers: { host } }));
  const refused = async (response: Response, host: string) => {
    assert.equal(response.status, 403, host);
    const text = await response.text();
    assert.match(text, /host ".*evil\.example.*".*'allowedHosts'/);
    assert.doesNotMatch(text, /concurrent_futures|hunter2/);
  };
  for (const allowedHosts of [undefined, ["Metrics.Example"]]) {
    const handler = metricsHandler([io], allowedHosts && { allowedHosts });
    for (
      const host of [
        "evil.example",
        "evil.example:9464",
        "127.0.0.1.evil.example:9464",
        "localhost.evil.example",
        "10.0.0.5.evil.example",
      ]
    ) {
      await refused(ask(handler, host, "http://127.0.0.1:9464/metrics"), host);
      await refused(ask(handler, "127.0.0.1:9464", `http://${host}/metrics`), host);
    }
    await refused(ask(handler, "127.0.0.1@evil.example"), "127.0.0.1@evil.example");
    // What a Prometheus server scraping by address or by localhost sends.
    for (
      const host of ["127.0.0.1:9464", "localhost:9464", "[::1]:9464", "10.0.0.5", "[fd00::5]:80"]
    ) {
      const response = ask(handler, host);
      assert.equal(response.status, 200, host);
      assert.match(
        await response.text(),
        /^concurrent_futures_tasks_total\{executor="io",outcome="failed"\} 1$/m,
      );
    }
  }
  // A name is served where allowedHosts lists it (without port, in any case), and "*" any name.
  assert.equal(ask(metricsHandler([io]), "metrics.example:9464").status, 403);
  const listed = metricsHandler([io], { allowedHosts: ["Metrics.Example"] });
  assert.equal(ask(listed, "metrics.example:9464").status, 200);
  assert.equal(ask(metricsHandler([io], { allowedHosts: ["*"] }), "anything.example").status, 200);
  assert.throws(
    () => metricsHandler([io], { allowedHosts: ["metrics.example:80"] }),
    /^TypeError: Cannot serve metrics as 'allowedHosts\[0\]' must be a host name/,
  );
});

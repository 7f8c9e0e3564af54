// The outcome an attempt's span records, read from a tracer provider registered in this test
// (in memory): cancelled when the attempt was called off, failed when it failed, whether or not it
// had started; only a failure is recorded as an error.
import assert from "node:assert/strict";
import {
  type Span,
  type SpanContext,
  type SpanOptions,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { AsyncPoolExecutor, CancelledError } from "../../mod.ts";
import { traceExecutors } from "../../observe/mod.ts";
import { add, cell, spinUntilReleased } from "../fixtures/tasks.ts";
import { release, startedAtLeast, statsUntil, workerPool } from "../executors/_worker_helpers.ts";

interface Recorded {
  name: string;
  attributes: Record<string, unknown>;
  exceptions: number;
  status: number | undefined;
}

const recorded: Recorded[] = [];
let ids = 0;

class RecordedSpan {
  readonly #context: SpanContext;
  constructor(readonly span: Recorded) {
    const id = (++ids).toString(16).padStart(16, "0");
    this.#context = { traceId: id.padStart(32, "0"), spanId: id, traceFlags: 1 };
  }
  spanContext() {
    return this.#context;
  }
  setAttribute(key: string, value: unknown) {
    this.span.attributes[key] = value;
    return this;
  }
  setAttributes(attributes: Record<string, unknown>) {
    Object.assign(this.span.attributes, attributes);
    return this;
  }
  addEvent() {
    return this;
  }
  addLink() {
    return this;
  }
  addLinks() {
    return this;
  }
  setStatus(status: { code: number }) {
    this.span.status = status.code;
    return this;
  }
  updateName(name: string) {
    this.span.name = name;
    return this;
  }
  end() {}
  isRecording() {
    return true;
  }
  recordException() {
    this.span.exceptions++;
  }
}

class RecordingTracer {
  startSpan(name: string, options?: SpanOptions): Span {
    const span = { name, attributes: { ...options?.attributes }, exceptions: 0, status: undefined };
    recorded.push(span);
    return new RecordingTracer.Span(span) as unknown as Span;
  }
  static Span = RecordedSpan;
  startActiveSpan(): never {
    throw new Error("not used by the library");
  }
}

trace.setGlobalTracerProvider(
  { getTracer: () => new RecordingTracer() as unknown as Tracer } satisfies TracerProvider,
);

/** The newest attempt span of `fn`. */
function attempt(fn: string): Recorded {
  const span = recorded.findLast((span) => span.name.endsWith(` ${fn} attempt`));
  assert.ok(span, `no attempt span of ${fn} among ${recorded.map((s) => s.name)}`);
  return span;
}

Deno.test("traceExecutors(): an attempt stopped before it started is failed, not cancelled", async () => {
  await using pool = new AsyncPoolExecutor({ name: "io", maxWorkers: 1 });
  await traceExecutors([pool]);
  const gate = Promise.withResolvers<string>();
  const running = pool.submit(() => gate.promise);
  const controller = new AbortController();
  const waiting = pool.with({ signal: controller.signal }).submit(function stoppedWhileQueued() {
    return 1;
  });
  controller.abort(new Error("stopped by the test"));
  await assert.rejects(waiting, /stopped by the test/);
  gate.resolve("held");
  await running;
  const span = attempt("stoppedWhileQueued");
  assert.equal(span.attributes["concurrent_futures.outcome"], "failed");
  assert.equal(span.exceptions, 1);
});

Deno.test("traceExecutors(): an attempt a worker pool takes back from its worker is cancelled, with no error", async () => {
  await using pool = workerPool({ name: "cpu", maxWorkers: 1 });
  await traceExecutors([pool]);
  // Run times known (tiny): the pool sends a busy worker more tasks.
  for (let i = 0; i < 5; i++) await pool.submit(add, i, 0);
  const c = cell();
  const running = pool.submit(spinUntilReleased, c);
  await startedAtLeast(c, 1);
  const sent = pool.submit(add, 1, 2);
  // Both are on the worker: the second waits there behind the first.
  await statsUntil(pool, (stats) => stats.running === 2);
  assert.equal(sent.cancel(), true);
  await assert.rejects(sent, CancelledError);
  release(c);
  await running;
  const span = attempt("add");
  assert.equal(span.attributes["concurrent_futures.outcome"], "cancelled");
  assert.equal(span.exceptions, 0);
  assert.equal(span.status, undefined);
});

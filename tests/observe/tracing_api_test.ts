// The spans traceExecutors() makes, read from a tracer provider registered in this test (in
// memory, with a synchronous context manager): the outcome of attempts stopped before they
// started or taken back, and the parent of the chunks map() submits after its call.
import assert from "node:assert/strict";
import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
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
  id: string;
  parent: string | undefined;
  attributes: Record<string, unknown>;
  exceptions: number;
  status: number | undefined;
}

const recorded: Recorded[] = [];
let ids = 0;

class RecordedSpan {
  readonly #context: SpanContext;
  constructor(readonly span: Recorded) {
    this.#context = { traceId: span.id.padStart(32, "0"), spanId: span.id, traceFlags: 1 };
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
  startSpan(name: string, options?: SpanOptions, parent?: Context): Span {
    const span: Recorded = {
      name,
      id: (++ids).toString(16).padStart(16, "0"),
      parent: trace.getSpan(parent ?? context.active())?.spanContext().spanId,
      attributes: { ...options?.attributes },
      exceptions: 0,
      status: undefined,
    };
    recorded.push(span);
    return new RecordedSpan(span) as unknown as Span;
  }
  startActiveSpan(): never {
    throw new Error("not used by the library");
  }
}

/** The context set by `with()` while its function runs (nothing follows an await). */
class SyncContextManager implements ContextManager {
  #active = ROOT_CONTEXT;
  active(): Context {
    return this.#active;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const outer = this.#active;
    this.#active = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.#active = outer;
    }
  }
  bind<T>(_context: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

context.setGlobalContextManager(new SyncContextManager());
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

Deno.test("traceExecutors(): a task failing with a value that has no text ends its spans as errors", async () => {
  await using pool = new AsyncPoolExecutor({ name: "io" });
  await traceExecutors([pool]);
  // String() of an object without a prototype throws: the failure was not recorded, and the
  // task's span was dropped unended.
  const bare = Object.create(null);
  await assert.rejects(
    pool.submit(function failsBare() {
      throw bare;
    }),
    (error) => error === bare,
  );
  const span = attempt("failsBare");
  assert.equal(span.exceptions, 1);
  assert.equal(span.status, 2);
  const task = recorded.findLast((s) => s.name === "io failsBare");
  assert.equal(task?.attributes["concurrent_futures.outcome"], "failed");
  assert.equal(task?.status, 2);
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

Deno.test("traceExecutors(): the chunks map() submits as its results are read have the span active at the call as parent", async () => {
  await using pool = new AsyncPoolExecutor({ name: "io", maxWorkers: 1 });
  await traceExecutors([pool]);
  const request = new RecordingTracer().startSpan("request");
  function double(n: number): number {
    return 2 * n;
  }
  // One chunk at a time: the later ones are submitted while the loop reads, outside the span.
  const results = context.with(
    trace.setSpan(context.active(), request),
    () => pool.map(double, [1, 2, 3, 4], { buffersize: 1 }),
  );
  const values = [];
  for await (const value of results) values.push(value);
  assert.deepEqual(values, [2, 4, 6, 8]);
  const tasks = recorded.filter((span) => span.name === "io double");
  assert.equal(tasks.length, 4);
  const requestId = request.spanContext().spanId;
  assert.deepEqual(tasks.map((span) => span.parent), [requestId, requestId, requestId, requestId]);
});

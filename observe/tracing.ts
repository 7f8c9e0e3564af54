/**
 * OpenTelemetry traces for executors, through `@opentelemetry/api`: a no-op unless the program
 * turns OpenTelemetry on (with Deno's own exporter: `OTEL_DENO=true`).
 *
 * @module
 */

import type {
  Context,
  ProxyTracerProvider,
  Span,
  Tracer,
  TracerProvider,
} from "@opentelemetry/api";
import type { Job, Task } from "../executors/_task.ts";
import type { InContext } from "../executors/_observe.ts";
import { outcomeOf } from "../future/_hooks.ts";
import { CancelledError } from "../future/errors.ts";
import { type Executors, observeAll } from "./_registry.ts";
import { fnName, now, type Recorder, type Sink } from "./_recorder.ts";
import { messageOf } from "../future/_text.ts";

/**
 * Options of {@linkcode traceExecutors}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { traceExecutors } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * await traceExecutors([io], { tracerName: "my-app" }); // spans come from tracer "my-app"
 * assert.equal(await io.submit(() => 7), 7);
 * ```
 */
export interface TraceOptions {
  /**
   * The tracer name.
   * @default {"@concurrent/futures"}
   */
  tracerName?: string;
}

interface AttemptState {
  span: Span;
  queuedAt: number;
  worker: string | undefined;
  runMs: number | undefined;
}

/**
 * Traces every task of `executors`: one span per task (from `submit()` to its settled future),
 * the child of the span that is active where `submit()` is called, and under it one span per
 * attempt (from queued to ended, with `concurrent_futures.worker`, `.attempt`, `.queue_ms` and
 * `.outcome`) and, when the worker reports its run time, a `run` span for the time the task ran
 * on that worker. Spans are named after the executor and the task function.
 *
 * Workers do not load `@opentelemetry/api` (an npm import costs each worker ~30 ms of start-up):
 * the worker's part is recorded on the host, from the run time the worker reports.
 *
 * @param executors a record (`{ cpu: pool }`) or a list of executors
 * @param options see {@linkcode TraceOptions}
 * @returns resolves once tracing is on (it loads `@opentelemetry/api`)
 * @throws {TypeError} when an entry is not an executor of this library
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { traceExecutors } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * await traceExecutors([io]); // spans are exported when the program runs with OTEL_DENO=true
 * assert.equal(await io.submit(() => 7), 7);
 * ```
 */
export async function traceExecutors(executors: Executors, options?: TraceOptions): Promise<void> {
  const observed = observeAll(executors, "trace executors");
  const api = await import("@opentelemetry/api");
  const tracer = api.trace.getTracer(options?.tracerName ?? "@concurrent/futures");
  for (const { name, recorder } of observed) {
    if (recorder.sinks.some((sink) => sink instanceof TaskTracer)) continue;
    recorder.addSink(new TaskTracer(api, tracer, name, recorder), true);
  }
}

type Api = typeof import("@opentelemetry/api");

class TaskTracer implements Sink {
  readonly #api: Api;
  readonly #tracer: Tracer;
  readonly #executor: string;
  readonly #tasks = new Map<Task, { span: Span; context: Context }>();
  readonly #jobs = new Map<Job, AttemptState>();
  /** Tasks with a span (`#tasks.size`, in a field of its own: read on every event). */
  #following = 0;
  /** Told of the tasks followed: while none is, it may hold events back (see `addSink()`). */
  readonly #recorder: Recorder;
  /**
   * The API's stand-in provider when none was registered yet (Deno's own, with OTEL_DENO=true,
   * is registered before the program runs); an SDK registered later becomes its delegate.
   */
  readonly #proxy: ProxyTracerProvider | undefined;
  /** What the stand-in delegates to while no provider is registered: the no-op. */
  readonly #noop: TracerProvider;

  constructor(api: Api, tracer: Tracer, executor: string, recorder: Recorder) {
    this.#api = api;
    this.#recorder = recorder;
    this.#tracer = tracer;
    this.#executor = executor;
    const provider = api.trace.getTracerProvider();
    this.#proxy = provider instanceof api.ProxyTracerProvider ? provider : undefined;
    this.#noop = new api.ProxyTracerProvider().getDelegate();
    // The recorder tells it of submits once a provider is registered: before, nothing is done per
    // task, not even a call (looking at the provider on each submit, through lines gone cold
    // between round trips, was a measurable share of what observing a pool cost).
    if (this.#proxy?.getDelegate() !== this.#noop) recorder.wake();
    else {
      const woken = new WeakRef(recorder);
      whenRegistered(this.#proxy!, () => woken.deref()?.wake());
    }
  }

  submitted(task: Task): void {
    // No provider registered: @opentelemetry/api is a no-op, and nothing is made per task (the
    // recorder calls this only once one was, or when another sink wakes it).
    if (this.#proxy?.getDelegate() === this.#noop) return;
    const api = this.#api;
    const parent = api.context.active();
    const span = this.#tracer.startSpan(`${this.#executor} ${fnName(task.fn)}`, {
      kind: api.SpanKind.PRODUCER,
      attributes: {
        "concurrent_futures.executor": this.#executor,
        "concurrent_futures.function": fnName(task.fn),
        "concurrent_futures.kind": task.kind,
      },
    }, parent);
    // A span a sampler dropped records nothing: its task is not followed either.
    if (!span.isRecording()) return span.end();
    this.#tasks.set(task, { span, context: api.trace.setSpan(parent, span) });
    this.#following++;
    this.#recorder.following++;
  }

  context(): InContext | undefined {
    if (this.#proxy?.getDelegate() === this.#noop) return undefined;
    const api = this.#api;
    const active = api.context.active();
    return (run) => api.context.with(active, run);
  }

  queued(job: Job): void {
    // No task followed (tracing off): nothing to look up per event.
    if (this.#following === 0) return;
    const task = this.#tasks.get(job.task);
    if (!task) return;
    const span = this.#tracer.startSpan(`${this.#executor} ${fnName(job.fn)} attempt`, {
      attributes: { "concurrent_futures.attempt": job.attempt },
    }, task.context);
    this.#jobs.set(job, { span, queuedAt: now(), worker: undefined, runMs: undefined });
    // The attempt's context goes with it to the worker (a Web Worker, a process, or over NATS).
    const sc = span.spanContext();
    if (this.#api.trace.isSpanContextValid(sc)) {
      job.task.traceparent = `00-${sc.traceId}-${sc.spanId}-0${sc.traceFlags & 1}`;
    }
  }

  started(job: Job, worker: string | undefined): void {
    if (this.#following === 0) return;
    const state = this.#jobs.get(job);
    if (!state) return;
    if (state.worker === undefined) {
      state.span.setAttribute("concurrent_futures.queue_ms", now() - state.queuedAt);
    }
    state.worker = worker ?? "event loop";
    state.span.setAttribute("concurrent_futures.worker", state.worker);
    state.span.addEvent("started", { "concurrent_futures.worker": state.worker });
  }

  ran(job: Job, ms: number, _end: number): void {
    if (this.#following === 0) return;
    const state = this.#jobs.get(job);
    if (state) state.runMs = ms;
  }

  ended(job: Job, ok: boolean, error: unknown): void {
    if (this.#following === 0) return;
    const state = this.#jobs.get(job);
    if (!state) return;
    this.#jobs.delete(job);
    const api = this.#api;
    const end = now();
    const cancelled = !ok && error instanceof CancelledError;
    const outcome = ok ? "completed" : cancelled ? "cancelled" : "failed";
    state.span.setAttribute("concurrent_futures.outcome", outcome);
    if (state.runMs !== undefined && state.worker !== undefined) {
      // The worker's part, from the run time it reported: workers do not load the OTel API.
      const run = this.#tracer.startSpan(`run ${fnName(job.fn)} on ${state.worker}`, {
        kind: api.SpanKind.CONSUMER,
        startTime: end - state.runMs,
        attributes: {
          "concurrent_futures.worker": state.worker,
          "concurrent_futures.attempt": job.attempt,
        },
      }, api.trace.setSpan(api.context.active(), state.span));
      run.end(end);
    }
    // A cancelled attempt is no error (its task's span says so too).
    if (!ok && !cancelled) fail(api, state.span, error);
    state.span.end(end);
  }

  settled(task: Task, outcome: 0 | 1 | 2): void {
    if (this.#following === 0) return;
    const state = this.#tasks.get(task);
    if (!state) return;
    this.#tasks.delete(task);
    this.#following--;
    this.#recorder.following--;
    state.span.setAttribute(
      "concurrent_futures.outcome",
      outcome === 2 ? "cancelled" : outcome === 1 ? "failed" : "completed",
    );
    if (outcome === 1) fail(this.#api, state.span, outcomeOf(task.future).error);
    state.span.end();
  }
}

/** What waits for a provider to be registered, by the stand-in provider it will delegate to. */
const waiting = new WeakMap<ProxyTracerProvider, (() => void)[]>();

/**
 * Calls `then` once `proxy` is given a provider to delegate to: `trace.setGlobalTracerProvider()`
 * gives it with `setDelegate()`, which is wrapped on this one object for it.
 */
function whenRegistered(proxy: ProxyTracerProvider, then: () => void): void {
  let list = waiting.get(proxy);
  if (!list) {
    waiting.set(proxy, list = []);
    const waiters = list;
    const setDelegate = proxy.setDelegate;
    proxy.setDelegate = function (this: ProxyTracerProvider, delegate: TracerProvider): void {
      setDelegate.call(this, delegate);
      for (const wake of waiters.splice(0)) wake();
    };
  }
  list.push(then);
}

function fail(api: Api, span: Span, error: unknown): void {
  // A thrown value that is not an Error is recorded as its text (an exception event still). The
  // span ends whatever the value does when read (a message getter that throws, a revoked proxy).
  const message = messageOf(error);
  let exception: Error | string = message;
  try {
    if (error instanceof Error) exception = error;
  } catch {
    // A proxy whose prototype cannot be read: its text.
  }
  try {
    span.recordException(exception);
  } catch {
    span.recordException(message);
  }
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
}

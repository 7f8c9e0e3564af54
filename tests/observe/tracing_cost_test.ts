// traceExecutors() in this process, against a tracer provider written here: what it starts with
// none registered, with one registered later, and for a task whose span a sampler dropped.
import assert from "node:assert/strict";
import {
  type Span,
  type SpanContext,
  type SpanOptions,
  trace,
  type Tracer,
  type TracerProvider,
} from "@opentelemetry/api";
import { AsyncPoolExecutor } from "../../mod.ts";
import { traceExecutors } from "../../observe/mod.ts";

/** A span that records nothing but whether it is recording. */
function span(recording: boolean, id: number): Span {
  const context: SpanContext = {
    traceId: "0af7651916cd43dd8448eb211c80319c",
    spanId: id.toString(16).padStart(16, "0"),
    traceFlags: recording ? 1 : 0,
  };
  const self: Span = {
    spanContext: () => context,
    setAttribute: () => self,
    setAttributes: () => self,
    addEvent: () => self,
    addLink: () => self,
    addLinks: () => self,
    setStatus: () => self,
    updateName: () => self,
    end: () => {},
    isRecording: () => recording,
    recordException: () => {},
  };
  return self;
}

/** A provider whose tracer notes the name of each span started; `drop` names are not sampled. */
function notingProvider(started: string[], drop: (name: string) => boolean): TracerProvider {
  const tracer: Tracer = {
    startSpan(name: string, _options?: SpanOptions): Span {
      started.push(name);
      return span(!drop(name), started.length);
    },
    startActiveSpan(): never {
      throw new Error("not used here");
    },
  };
  return { getTracer: () => tracer };
}

Deno.test("traceExecutors() starts spans only once a tracer provider is registered, and not under a dropped task span", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  await traceExecutors([io]);
  // No provider: @opentelemetry/api is a no-op, the tasks run untraced.
  assert.equal(
    await io.submit(function before() {
      return 1;
    }),
    1,
  );
  const started: string[] = [];
  assert.ok(
    trace.setGlobalTracerProvider(notingProvider(started, (name) => name.includes("drop"))),
  );
  try {
    assert.equal(
      await io.submit(function after() {
        return 2;
      }),
      2,
    );
    assert.equal(
      await io.submit(function dropped() {
        return 3;
      }),
      3,
    );
  } finally {
    trace.disable();
  }
  // The sampled-out task span has no attempt span under it.
  assert.deepEqual(started, ["io after", "io after attempt", "io dropped"]);
});

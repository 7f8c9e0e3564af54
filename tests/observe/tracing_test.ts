import assert from "node:assert/strict";
import { attribute, otlpReceiver, type OtlpSpan } from "./_otlp_receiver.ts";

Deno.test("traceExecutors() makes one trace from the submitter's span to the run on a worker", async () => {
  await using receiver = otlpReceiver();
  const stdout = await receiver.run(new URL("./_traced_program.ts", import.meta.url));
  assert.equal(stdout, "49\nthing\n");

  const request = receiver.byName("request");
  const task = receiver.byName("cpu square");
  const attempt = receiver.byName("cpu square attempt");
  const run = receiver.byName("run square on worker 1");
  const io = receiver.byName("io fetchThing");
  for (const span of [task, attempt, run, io]) assert.equal(span.traceId, request.traceId);
  assert.equal(task.parentSpanId, request.spanId);
  assert.equal(io.parentSpanId, request.spanId);
  assert.equal(attempt.parentSpanId, task.spanId);
  assert.equal(run.parentSpanId, attempt.spanId);
  assert.equal(attribute(attempt, "concurrent_futures.worker"), "worker 1");
  assert.equal(attribute(attempt, "concurrent_futures.attempt"), 1);
  assert.equal(attribute(attempt, "concurrent_futures.outcome"), "completed");
  assert.equal(attribute(task, "concurrent_futures.outcome"), "completed");
  assert.equal(typeof attribute(attempt, "concurrent_futures.queue_ms"), "number");
  // Only an Error got an exception event: a thrown string got none.
  const thrown = receiver.byName("io throwsText attempt");
  const exception = thrown.events?.find((event) => event.name === "exception");
  assert.ok(exception, JSON.stringify(thrown.events));
  assert.equal(attribute(exception as OtlpSpan, "exception.message"), "not an Error");
});

Deno.test("traceExecutors() carries the trace context into Web Workers, pool processes and async pool tasks", async () => {
  await using receiver = otlpReceiver();
  await receiver.run(new URL("./_traced_program.ts", import.meta.url));
  const request = receiver.byName("request");
  // Spans started by the task code (which alone imports @opentelemetry/api), exported by Deno
  // from the worker thread, the pool process and the event loop, are children of the attempt's
  // span.
  for (
    const [inner, attempt] of [
      ["inner worker", "cpu innerSpan attempt"],
      ["inner worker later", "cpu innerSpanLater attempt"],
      ["inner process", "proc innerSpan attempt"],
      ["inner event loop", "io innerSpan attempt"],
    ]
  ) {
    const span = receiver.byName(inner!);
    assert.equal(span.traceId, request.traceId, inner);
    assert.equal(span.parentSpanId, receiver.byName(attempt!).spanId, inner);
  }
});

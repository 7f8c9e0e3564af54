import assert from "node:assert/strict";
import { attribute, otlpReceiver } from "../_otlp_receiver.ts";

Deno.test("traceExecutors() carries the trace context to distributed workers in NATS headers", async () => {
  await using receiver = otlpReceiver();
  await receiver.run(new URL("./_traced_program.ts", import.meta.url));
  const request = receiver.byName("request");
  const attempt = receiver.byName("cluster innerSpan attempt");
  // Exported by the worker process, from the Web Worker its local pool ran the task on.
  const inner = receiver.byName("inner distributed");
  assert.equal(attempt.traceId, request.traceId);
  assert.equal(inner.traceId, request.traceId);
  assert.equal(inner.parentSpanId, attempt.spanId);
});

Deno.test("traceExecutors() carries the trace context of a map() chunk to the distributed worker's local pool", async () => {
  await using receiver = otlpReceiver();
  await receiver.run(new URL("./_traced_program.ts", import.meta.url));
  const request = receiver.byName("request");
  const chunk = receiver.spans.find((s) =>
    s.name === "cluster innerSpan" && attribute(s, "concurrent_futures.kind") === "chunk"
  );
  assert.ok(chunk, "the chunk's task span");
  const attempt = receiver.spans.find((s) => s.parentSpanId === chunk.spanId);
  assert.ok(attempt, "the chunk's attempt span");
  // Each item's span, started on the worker's local pool, is a child of the chunk's attempt.
  for (const name of ["inner map 1", "inner map 2"]) {
    const inner = receiver.byName(name);
    assert.equal(inner.traceId, request.traceId, name);
    assert.equal(inner.parentSpanId, attempt.spanId, name);
  }
});

Deno.test("traceExecutors() carries the trace context into a distributed worker that runs tasks inline", async () => {
  await using receiver = otlpReceiver();
  await receiver.run(new URL("./_traced_program.ts", import.meta.url), ["inline"]);
  const request = receiver.byName("request");
  const attempts = receiver.spans.filter((s) => s.name === "cluster innerSpan attempt");
  // Started in the worker process itself, by its local AsyncPoolExecutor, under each attempt.
  for (const name of ["inner distributed", "inner map 1", "inner map 2"]) {
    const inner = receiver.byName(name);
    assert.equal(inner.traceId, request.traceId, name);
    assert.ok(attempts.some((a) => a.spanId === inner.parentSpanId), name);
  }
});

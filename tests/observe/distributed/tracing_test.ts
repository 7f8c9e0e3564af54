import assert from "node:assert/strict";
import { otlpReceiver } from "../_otlp_receiver.ts";

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

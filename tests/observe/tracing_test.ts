import assert from "node:assert/strict";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

const attribute = (span: OtlpSpan, key: string) =>
  span.attributes?.find((a) => a.key === key)?.value &&
  Object.values(span.attributes.find((a) => a.key === key)!.value)[0];

Deno.test("traceExecutors() makes one trace from the submitter's span to the run on a worker", async () => {
  // A local OTLP http/json receiver; the traced program runs as a subprocess with Deno's exporter.
  const spans: OtlpSpan[] = [];
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const body = await req.json();
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) spans.push(...scope.spans);
      }
      return Response.json({});
    },
  );
  const program = new URL("./_traced_program.ts", import.meta.url);
  // Deno exports what is left when the program exits, before the exit: once the child is done,
  // the receiver has every span.
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", program.pathname],
    env: {
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.equal(new TextDecoder().decode(output.stdout), "49\nthing\n");

  const byName = (name: string) => {
    const span = spans.find((s) => s.name === name);
    assert.ok(span, `span ${name} among ${spans.map((s) => s.name).join(", ")}`);
    return span;
  };
  const request = byName("request");
  const task = byName("cpu square");
  const attempt = byName("cpu square attempt");
  const run = byName("run square on worker 1");
  const io = byName("io fetchThing");
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
});

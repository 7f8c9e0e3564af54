// A local OTLP http/json receiver for the tracing tests, and a way to run a traced program as a
// subprocess with Deno's exporter pointed at it. A traced program does not wait for the spans of
// its pools' processes or distributed workers before it shuts them down: they send them as they
// exit, which the tests check.

import assert from "node:assert/strict";

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  events?: { name: string; attributes?: { key: string; value: Record<string, unknown> }[] }[];
}

/** The value of a span's attribute. */
export const attribute = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return value && Object.values(value)[0];
};

/**
 * Starts a receiver; `run(program, args)` runs a program traced to it and returns its stdout.
 */
export function otlpReceiver(): AsyncDisposable & {
  spans: OtlpSpan[];
  run(program: URL, args?: string[]): Promise<string>;
  byName(name: string): OtlpSpan;
} {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const body = await req.json();
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans as OtlpSpan[]) {
            spans.push(span);
          }
        }
      }
      return Response.json({});
    },
  );
  return {
    spans,
    async run(program: URL, args: string[] = []): Promise<string> {
      // Deno exports what is left when a program exits, before the exit: once the child is done,
      // the receiver has every span of the program itself.
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", program.pathname, ...args],
        env: {
          OTEL_DENO: "true",
          OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
          OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${server.addr.port}`,
          // Pool processes and distributed workers send their spans soon after they end.
          OTEL_BSP_SCHEDULE_DELAY: "50",
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
      return new TextDecoder().decode(output.stdout);
    },
    byName(name: string): OtlpSpan {
      const span = spans.find((s) => s.name === name);
      assert.ok(span, `span ${name} among ${spans.map((s) => s.name).join(", ")}`);
      return span;
    },
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

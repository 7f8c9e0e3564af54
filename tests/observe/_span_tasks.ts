// Task module for tracing_test.ts: only the task imports @opentelemetry/api; its span should join
// the trace of whoever submitted the task.
// A full specifier: pool processes load this module without the project's import map.
// deno-lint-ignore no-import-prefix
import { trace } from "npm:@opentelemetry/api@1.9.0";

/** Starts and ends a span named `inner <where>`; returns its trace id. */
export function innerSpan(where: string): string {
  const span = trace.getTracer("tasks").startSpan(`inner ${where}`);
  span.end();
  return span.spanContext().traceId;
}

/** The same, after an await: the context must survive it. */
export async function innerSpanLater(where: string): Promise<string> {
  await new Promise((resolve) => setTimeout(resolve, 1));
  return innerSpan(where);
}

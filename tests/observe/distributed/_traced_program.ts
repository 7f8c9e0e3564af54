// Run by tracing_test.ts with OTEL_DENO=true: a task submitted to a DistributedExecutor (embedded
// server, one local worker process running tasks on Web Workers, or in itself with the argument
// `inline`) inside a `request` span starts a span of its own on the worker, and so do the items of
// a map() chunk; the trace context travels in the messages' NATS headers.
import { trace } from "@opentelemetry/api";
import { DistributedExecutor } from "../../../distributed/mod.ts";
import { traceExecutors } from "../../../observe/mod.ts";

const modules = [new URL("../_span_tasks.ts", import.meta.url)];
await using cluster = new DistributedExecutor({
  name: "cluster",
  modules,
  workers: 1,
  isolation: Deno.args[0] === "inline" ? "inline" : "worker",
});
await traceExecutors([cluster]);
const { innerSpan } = await import("../_span_tasks.ts");
await trace.getTracer("test").startActiveSpan("request", async (span) => {
  const traceId = await cluster.submit(innerSpan, "distributed");
  if (traceId !== span.spanContext().traceId) {
    throw new Error(`trace id ${traceId} is not ${span.spanContext().traceId}`);
  }
  // A map() chunk: its items run on the worker's local pool, in the chunk attempt's context.
  const mapped: string[] = [];
  for await (const id of cluster.map(innerSpan, ["map 1", "map 2"], { chunksize: 2 })) {
    mapped.push(id);
  }
  // Not waited for: the worker process sends its spans as it drains and exits at shutdown.
  span.end();
});

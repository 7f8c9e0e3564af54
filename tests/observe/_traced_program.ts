// Run by tracing_test.ts with OTEL_DENO=true: one request span, under it a task on a worker
// pool and one on an async pool, and tasks that start spans of their own on a worker and in a
// pool process. Deno exports the spans when the program exits.
import { trace } from "@opentelemetry/api";
import { AsyncPoolExecutor, ProcessPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import { traceExecutors } from "../../observe/mod.ts";

const modules = [new URL("./_span_tasks.ts", import.meta.url)];
await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 1, modules });
await using io = new AsyncPoolExecutor({ name: "io" });
await using proc = new ProcessPoolExecutor({ name: "proc", maxWorkers: 1, modules });
await traceExecutors([cpu, io, proc]);
const { innerSpan, innerSpanLater } = await import("./_span_tasks.ts");
const tracer = trace.getTracer("test");
await tracer.startActiveSpan("request", async (span) => {
  function square(x: number) {
    return x * x;
  }
  console.log(await cpu.submit(square, 7));
  console.log(
    await io.submit(async function fetchThing() {
      return await Promise.resolve("thing");
    }),
  );
  // Spans the tasks start on the worker, in the process and on the event loop join this trace.
  const traceId = span.spanContext().traceId;
  const ids = [
    await cpu.submit(innerSpan, "worker"),
    await cpu.submit(innerSpanLater, "worker later"),
    await proc.submit(innerSpan, "process"),
    await io.submit(innerSpan, "event loop"),
  ];
  if (!ids.every((id) => id === traceId)) throw new Error(`trace ids ${ids} are not ${traceId}`);
  // A task that throws a value that is not an Error: its spans still get an exception event.
  await io.submit(function throwsText() {
    throw "not an Error";
  }).exception();
  // Not waited for: the pool process sends the span it started as it exits at shutdown.
  span.end();
});

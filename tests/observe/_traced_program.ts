// Run by tracing_test.ts with OTEL_DENO=true: one request span, under it a task on a worker
// pool and one on an async pool. Deno exports the spans when the program exits.
import { trace } from "@opentelemetry/api";
import { AsyncPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import { traceExecutors } from "../../observe/mod.ts";

await using cpu = new WorkerPoolExecutor({ name: "cpu", maxWorkers: 1 });
await using io = new AsyncPoolExecutor({ name: "io" });
await traceExecutors([cpu, io]);
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
  span.end();
});

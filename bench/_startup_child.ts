// One program of the startup benchmark: runs one tiny task, prints its timings as JSON, exits.
// `raw` does it with a bare Web Worker; `module` and `inline` with WorkerPoolExecutor (a task
// module's export, or an inline function sent by source). The library is imported dynamically so
// that `raw` does not load it; its import time is reported apart.

const mode = Deno.args[0];
const TASKS_URL = new URL("./_worker_tasks.ts", import.meta.url);
// Time from the process's start to this line: the runtime's own start-up and this module.
const bodyAt = performance.now();

if (mode === "raw") {
  const start = performance.now();
  const worker = new Worker(new URL("./_raw_array_worker.ts", import.meta.url), {
    type: "module",
  });
  const reply = new Promise<[number, number]>((resolve) => {
    worker.onmessage = (event: MessageEvent<[number, number]>) => resolve(event.data);
  });
  worker.postMessage([1, 1]);
  const [, value] = await reply;
  const firstMs = performance.now() - start;
  worker.terminate();
  if (value !== 2) throw new Error(`wrong result: ${value}`);
  console.log(JSON.stringify({ bodyAt, importMs: 0, firstMs }));
} else if (mode === "module" || mode === "inline") {
  const importStart = performance.now();
  const { WorkerPoolExecutor } = await import("../mod.ts");
  const { inc } = await import("./_worker_tasks.ts");
  const importMs = performance.now() - importStart;
  const start = performance.now();
  const pool = new WorkerPoolExecutor(mode === "module" ? { modules: [TASKS_URL] } : {});
  const value = mode === "module"
    ? await pool.submit(inc, 1)
    : await pool.submit((x: number) => x + 1, 1);
  const firstMs = performance.now() - start;
  await pool.shutdown();
  if (value !== 2) throw new Error(`wrong result: ${value}`);
  console.log(JSON.stringify({ bodyAt, importMs, firstMs }));
} else {
  throw new RangeError(`the mode must be raw, module or inline: received ${JSON.stringify(mode)}`);
}

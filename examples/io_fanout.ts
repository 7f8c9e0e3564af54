/**
 * # I/O fan-out with `AsyncPoolExecutor`
 *
 * What it shows: work that mostly waits (HTTP calls, database queries, disk) does not need more
 * threads, only more requests in flight. `AsyncPoolExecutor` runs async functions on the event
 * loop with at most `maxWorkers` of them at once, the way Python's `ThreadPoolExecutor` is used
 * for I/O.
 *
 * The example starts a local HTTP server on 127.0.0.1 (a free port) whose every response takes
 * 300 ms, then fetches N URLs from it three ways:
 *
 * 1. one by one, awaiting each response before the next request: N × 0.3 s;
 * 2. through an `AsyncPoolExecutor` with `maxWorkers: 10`: about N / 10 × 0.3 s;
 * 3. through one with `maxWorkers: 20`: about N / 20 × 0.3 s.
 *
 * While a pool runs, a progress line (on stderr) is fed by `asCompleted()`, which yields each
 * future as it finishes. At the end it prints a table of the times and the speedups, and shuts
 * the server down.
 *
 * Run it:
 *
 * ```sh
 * deno run -A examples/io_fanout.ts            # N = 20: about 6 s + 0.6 s + 0.3 s
 * deno run -A examples/io_fanout.ts --n 100    # the classic figure: 30 s one by one, ~3 s with 10 workers
 * deno run --allow-net=127.0.0.1 examples/io_fanout.ts --n 40   # the only permission it needs
 * deno run -A examples/io_fanout.ts --help
 * ```
 *
 * Example output (N = 20):
 *
 * ```text
 * mode        workers  seconds  speedup
 * sequential        1     6.03     1.0x
 * pool             10     0.61     9.9x
 * pool             20     0.31    19.5x
 * ```
 *
 * @module
 */

import { asCompleted, AsyncPoolExecutor, type Future, taskSignal } from "../mod.ts";
import { commandLine, Progress, table } from "./_cli.ts";

/** How long the server takes to answer each request. */
const RESPONSE_DELAY_MS = 300;
const POOL_SIZES = [10, 20];

const COMMAND = {
  name: "io_fanout.ts",
  summary:
    `Fetches N URLs from a local server whose responses take ${RESPONSE_DELAY_MS} ms: one by one, then
with an AsyncPoolExecutor of ${POOL_SIZES.join(" and ")} workers, and prints how long each took.`,
  flags: {
    n: { type: "integer", min: 1, default: 20, help: "how many URLs to fetch" },
  },
} as const;

interface Row {
  mode: string;
  workers: number;
  seconds: number;
}

/** A server whose every response takes `RESPONSE_DELAY_MS`; it echoes the path. */
function startServer(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    await new Promise((resolve) => setTimeout(resolve, RESPONSE_DELAY_MS));
    return new Response(new URL(request.url).pathname);
  });
}

/** Fetches one URL and returns its body; the signal lets a pool timeout stop the request. */
async function fetchText(url: string, signal?: AbortSignal): Promise<string> {
  const response = await fetch(url, { signal });
  const body = await response.text();
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return body;
}

/** The progress bar's label, as wide for every run so that the bars line up. */
function label(mode: string, workers: number): string {
  const digits = String(Math.max(...POOL_SIZES)).length;
  return `${mode.padEnd("sequential".length)}  x${String(workers).padEnd(digits)}`;
}

async function sequential(urls: string[]): Promise<string[]> {
  const bodies: string[] = [];
  const bar = new Progress(label("sequential", 1), urls.length);
  for (const url of urls) {
    bodies.push(await fetchText(url));
    bar.tick();
  }
  return bodies;
}

async function pooled(urls: string[], maxWorkers: number): Promise<string[]> {
  await using pool = new AsyncPoolExecutor({ maxWorkers });
  // A task reads its own signal with taskSignal(); here a pool timeout would abort the fetch.
  const io = pool.with({ timeout: 10_000 });
  const futures: Future<string>[] = urls.map((url) =>
    io.submit((url: string) => fetchText(url, taskSignal()), url)
  );
  const bar = new Progress(label("pool", maxWorkers), urls.length);
  for await (const _future of asCompleted(futures)) bar.tick();
  return Promise.all(futures.map((future) => future.result()));
}

function report(rows: Row[]): string {
  const base = rows[0]!.seconds;
  return table(
    ["mode", "workers", "seconds", "speedup"],
    rows.map(({ mode, workers, seconds }) => [
      mode,
      workers,
      seconds.toFixed(2),
      `${(base / seconds).toFixed(1)}x`,
    ]),
  );
}

async function main(args: string[]): Promise<number> {
  const { n } = commandLine(COMMAND, args);
  const server = startServer();
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    const urls = Array.from({ length: n }, (_, i) => `${base}/item/${i}`);
    const expected = urls.map((url) => new URL(url).pathname);
    console.log(
      `Fetching ${n} URLs from ${base}, each response takes ${RESPONSE_DELAY_MS} ms.`,
    );

    const rows: Row[] = [];
    const runs: [string, number, () => Promise<string[]>][] = [
      ["sequential", 1, () => sequential(urls)],
      ...POOL_SIZES.map((size): [string, number, () => Promise<string[]>] => [
        "pool",
        size,
        () => pooled(urls, size),
      ]),
    ];
    for (const [mode, workers, run] of runs) {
      const started = performance.now();
      const bodies = await run();
      const seconds = (performance.now() - started) / 1000;
      if (bodies.join() !== expected.join()) {
        throw new Error(`${mode} x${workers}: the responses do not match the URLs`);
      }
      rows.push({ mode, workers, seconds });
    }
    console.log(`\n${report(rows)}`);
    return 0;
  } finally {
    await server.shutdown();
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}

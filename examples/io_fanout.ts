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

import { parseArgs } from "node:util";
import { asCompleted, AsyncPoolExecutor, type Future, taskSignal } from "../mod.ts";

/** How long the server takes to answer each request. */
const RESPONSE_DELAY_MS = 300;
const DEFAULT_N = 20;
const POOL_SIZES = [10, 20];

const USAGE = `Usage: deno run -A examples/io_fanout.ts [--n N]

Fetches N URLs from a local server whose responses take ${RESPONSE_DELAY_MS} ms: one by one, then
with an AsyncPoolExecutor of ${POOL_SIZES.join(" and ")} workers, and prints how long each took.

Options:
  --n N       how many URLs to fetch (default ${DEFAULT_N}: about ${
  (DEFAULT_N * RESPONSE_DELAY_MS / 1000).toFixed(0)
} s one by one)
  -h, --help  show this help`;

interface Row {
  mode: string;
  workers: number;
  seconds: number;
}

const encoder = new TextEncoder();
const live = Deno.stderr.isTerminal();

/** Rewrites the progress line on stderr; when stderr is not a terminal, only the last state. */
function progress(text: string, last = false): void {
  if (!live && !last) return;
  Deno.stderr.writeSync(encoder.encode(`\r${text}${last ? "\n" : ""}`));
}

function bar(done: number, total: number, width = 20): string {
  const filled = Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
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

async function sequential(urls: string[]): Promise<string[]> {
  const bodies: string[] = [];
  const label = "sequential  x1 ";
  progress(`${label} ${bar(0, urls.length)}`);
  for (const url of urls) {
    bodies.push(await fetchText(url));
    progress(`${label} ${bar(bodies.length, urls.length)}`, bodies.length === urls.length);
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
  const label = `pool        x${String(maxWorkers).padEnd(3)}`;
  let done = 0;
  progress(`${label} ${bar(0, urls.length)}`);
  for await (const _future of asCompleted(futures)) {
    done++;
    progress(`${label} ${bar(done, urls.length)}`, done === urls.length);
  }
  return Promise.all(futures.map((future) => future.result()));
}

function table(rows: Row[]): string {
  const base = rows[0]!.seconds;
  const lines = ["mode        workers  seconds  speedup"];
  for (const { mode, workers, seconds } of rows) {
    lines.push(
      `${mode.padEnd(10)} ${String(workers).padStart(8)} ${seconds.toFixed(2).padStart(8)} ${
        `${(base / seconds).toFixed(1)}x`.padStart(8)
      }`,
    );
  }
  return lines.join("\n");
}

function parseN(value: string | undefined): number {
  if (value === undefined) return DEFAULT_N;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`'--n' must be a positive integer: received ${JSON.stringify(value)}`);
  }
  return n;
}

async function main(args: string[]): Promise<number> {
  let n: number;
  try {
    const { values } = parseArgs({
      args,
      options: {
        n: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    n = parseN(values.n);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : error}\n\n${USAGE}`);
    return 2;
  }

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
    console.log(`\n${table(rows)}`);
    return 0;
  } finally {
    await server.shutdown();
  }
}

if (import.meta.main) {
  Deno.exitCode = await main(Deno.args);
}

/**
 * # Scatter / gather: many requests to a slow, flaky server, results as they complete
 *
 * What it shows: scatter N requests on an `AsyncPoolExecutor` (a bounded number in flight), give
 * each a `timeout`, and gather the results with `asCompleted()` in the order they finish, not the
 * order they were sent. A failure or a timeout is one more result to count, not the end of the
 * run: `Promise.all` would stop at the first one, and Python's `as_completed` loop is the model.
 *
 * The example starts its own HTTP server on 127.0.0.1 (a free port) and stops it at the end.
 * Request `i` (from 1):
 *
 * - fails with HTTP 503 when `i` is a multiple of `--fail-every`;
 * - otherwise never answers when `i` is a multiple of `--hang-every` (the client's timeout ends it);
 * - otherwise answers after a pseudo-random delay of up to `--delay` ms.
 *
 * A line is printed per request as it completes, then a table per outcome.
 *
 * ```sh
 * deno run -A examples/scatter_gather.ts
 * deno run -A examples/scatter_gather.ts --requests 200 --concurrency 50 --timeout 250
 * deno run -A examples/scatter_gather.ts --help
 * ```
 *
 * Example output (the end of it):
 *
 * ```text
 * [ 99/100] item  95: ok        after  273 ms
 * [100/100] item  99: ok        after  218 ms
 *
 * outcome   requests  share  p50 ms  max ms
 * ok              87    87%     144     301
 * HTTP 503        10    10%      47      75
 * timeout          3     3%     501     501
 *
 * 100 requests, 10 at a time, in 1.58 s: 87 ok, 10 failed, 3 timed out.
 * ```
 *
 * @module
 */

import { asCompleted, AsyncPoolExecutor, type Future, taskSignal, TimeoutError } from "../mod.ts";
import { commandLine, Progress, table } from "./_cli.ts";

const COMMAND = {
  name: "scatter_gather.ts",
  summary:
    "Sends N requests to a local slow, flaky server on an AsyncPoolExecutor with a timeout\n" +
    "each, prints each result as it completes, and sums them up by outcome.",
  flags: {
    requests: { type: "integer", min: 1, default: 100, help: "how many requests" },
    concurrency: { type: "integer", min: 1, default: 10, help: "requests in flight at most" },
    timeout: { type: "integer", min: 1, default: 500, arg: "MS", help: "timeout of a request" },
    delay: { type: "integer", min: 0, default: 300, arg: "MS", help: "longest normal answer" },
    "fail-every": {
      type: "integer",
      min: 0,
      default: 10,
      help: "every Nth request fails (0: none)",
    },
    "hang-every": {
      type: "integer",
      min: 0,
      default: 15,
      help: "every Nth never answers (0: none)",
    },
  },
} as const;

/** An answer that was not a success. */
class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
    this.name = "HttpError";
  }
}

/** Resolves after `ms` (never when it is `Infinity`), or as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = ms === Infinity ? undefined : setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/**
 * The slow, flaky server. A request that hangs is held until `close()`: the client's timeout has
 * long given up on it by then.
 */
function startServer(flags: { delay: number; "fail-every": number; "hang-every": number }) {
  const closing = new AbortController();
  const every = (i: number, n: number) => n > 0 && i % n === 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (request) => {
      const item = Number(new URL(request.url).pathname.split("/").at(-1));
      // The same item always waits the same time: a hash of its number, not Math.random().
      const delay = (Math.imul(item, 2654435761) >>> 0) % (flags.delay + 1);
      if (every(item, flags["fail-every"])) {
        await sleep(delay / 4, closing.signal);
        return new Response("busy", { status: 503 });
      }
      await sleep(every(item, flags["hang-every"]) ? Infinity : delay, closing.signal);
      return new Response(JSON.stringify({ item }));
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      closing.abort();
      await server.shutdown();
    },
  };
}

/** One request; `taskSignal()` aborts the fetch when the pool's timeout fires. */
async function getItem(url: string): Promise<{ item: number }> {
  const response = await fetch(url, { signal: taskSignal() });
  if (!response.ok) {
    await response.body?.cancel();
    throw new HttpError(response.status);
  }
  return await response.json();
}

function outcomeOf(error: unknown): string {
  if (error === undefined) return "ok";
  if (error instanceof TimeoutError) return "timeout";
  if (error instanceof HttpError) return error.message;
  return `error: ${error instanceof Error ? error.message : String(error)}`;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const flags = commandLine(COMMAND);
  const server = startServer(flags);
  try {
    await using pool = new AsyncPoolExecutor({ maxWorkers: flags.concurrency });
    const io = pool.with({ timeout: flags.timeout });
    const started = performance.now();

    // Scatter: every request is queued at once; the pool keeps `concurrency` of them in flight.
    const startedAt = new Map<number, number>();
    const items = new Map<Future<{ item: number }>, number>();
    for (let item = 1; item <= flags.requests; item++) {
      const future = io.submit(() => {
        startedAt.set(item, performance.now());
        return getItem(`${server.url}/item/${item}`);
      });
      items.set(future, item);
    }

    // Gather: each future as it completes, whatever its outcome.
    const bar = new Progress("requests", flags.requests);
    const latencies = new Map<string, number[]>();
    const width = String(flags.requests).length;
    // `next()` rather than `for await`, which TypeScript would type as the values, not the futures
    // (see asCompleted in README).
    const completed = asCompleted(items.keys());
    for (let next = await completed.next(); !next.done; next = await completed.next()) {
      const future = next.value;
      const item = items.get(future)!;
      const outcome = outcomeOf(await future.exception());
      const ms = performance.now() - startedAt.get(item)!;
      latencies.set(outcome, [...latencies.get(outcome) ?? [], ms]);
      bar.log(
        `[${String(bar.done + 1).padStart(width)}/${flags.requests}] item ${
          String(item).padStart(width)
        }: ${outcome.padEnd(9)} after ${ms.toFixed(0).padStart(4)} ms`,
      );
      bar.tick();
    }
    const seconds = (performance.now() - started) / 1000;

    const rows = [...latencies].sort(([, a], [, b]) => b.length - a.length).map(
      ([outcome, times]) => {
        const sorted = times.sort((a, b) => a - b);
        return [
          outcome,
          times.length,
          `${Math.round((times.length / flags.requests) * 100)}%`,
          percentile(sorted, 0.5).toFixed(0),
          sorted.at(-1)!.toFixed(0),
        ];
      },
    );
    console.log(`\n${table(["outcome", "requests", "share", "p50 ms", "max ms"], rows)}`);
    const n = (outcome: string) => latencies.get(outcome)?.length ?? 0;
    const failed = flags.requests - n("ok") - n("timeout");
    console.log(
      `\n${flags.requests} requests, ${flags.concurrency} at a time, in ${seconds.toFixed(2)} s: ${
        n("ok")
      } ok, ${failed} failed, ${n("timeout")} timed out.`,
    );
  } finally {
    await server.close();
  }
}

if (import.meta.main) await main();

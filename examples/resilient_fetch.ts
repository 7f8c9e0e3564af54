/**
 * Fetches URLs from a flaky service with retries and a circuit breaker per route.
 *
 * A local HTTP server on 127.0.0.1 has three routes: `/healthy/*` always answers 200, `/flaky/*`
 * fails about half the time with 503, and `/dead/*` always answers 500. Every fetch runs on an
 * `AsyncPoolExecutor` with up to 3 attempts (capped exponential backoff with full jitter) and the
 * route as its circuit-breaker `domain`: 3 failures in a row open that route's circuit, after
 * which its requests are refused at once with `CircuitOpenError` instead of hammering it.
 *
 * ```sh
 * deno run -A examples/resilient_fetch.ts
 * deno run -A examples/resilient_fetch.ts --urls 10 --seed 7
 * deno run -A examples/resilient_fetch.ts --help
 * ```
 *
 * Example output (the end of it; which flaky requests fail depends on timing, the seed only
 * fixes the route's luck):
 *
 * ```text
 * route    ok  failed  blocked  requests
 * healthy   6       0        0         6
 * flaky     3       1        2         9
 * dead      0       2        4         4
 *
 * Summary: 9 ok, 3 failed, 6 blocked, 19 requests for 18 URLs
 * ```
 *
 * @module
 */

import { AsyncPoolExecutor, CircuitOpenError, taskSignal } from "../mod.ts";
import { commandLine, Progress, table } from "./_cli.ts";

const COMMAND = {
  name: "resilient_fetch.ts",
  summary:
    "Fetches URLs from a local server with a healthy, a flaky and a dead route, with retries\n" +
    "and a circuit breaker per route, and shows what each URL got.",
  flags: {
    urls: { type: "integer", min: 1, default: 6, help: "URLs per route" },
    interval: { type: "integer", min: 0, default: 100, help: "ms between two URLs of a route" },
    seed: { type: "integer", default: 1, help: "seed of the flaky route's luck" },
  },
} as const;

/** An HTTP answer that was not a success; retried when the server is at fault (5xx). */
class HttpError extends Error {
  constructor(readonly status: number, url: string) {
    super(`${url} answered ${status}`);
    this.name = "HttpError";
  }
}

/** A small deterministic generator (mulberry32), so that a seed replays the same run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function serve(seed: number): Deno.HttpServer<Deno.NetAddr> {
  const luck = random(seed);
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const route = new URL(request.url).pathname.split("/")[1];
    if (route === "healthy") return new Response("ok");
    if (route === "flaky" && luck() < 0.5) return new Response("lucky");
    if (route === "flaky") return new Response("busy", { status: 503 });
    return new Response("broken", { status: 500 });
  });
}

async function main(): Promise<void> {
  const { urls: perRoute, seed, interval } = commandLine(COMMAND);

  await using server = serve(seed);
  const base = `http://127.0.0.1:${server.addr.port}`;
  const routes = ["healthy", "flaky", "dead"];
  const urls = routes.flatMap((route) =>
    Array.from({ length: perRoute }, (_, i) => `${base}/${route}/${i + 1}`)
  );
  const attempts = new Map<string, number>();
  const events: string[] = [];

  await using pool = new AsyncPoolExecutor({
    maxWorkers: 4,
    circuitBreaker: {
      threshold: 3,
      halfOpenAfter: 250,
      onStateChange: ({ domain, from, to }) =>
        events.push(`  circuit '${domain}': ${from} → ${to}`),
    },
  });

  async function get(url: string): Promise<string> {
    const signal = taskSignal();
    attempts.set(url, (attempts.get(url) ?? 0) + 1);
    const response = await fetch(url, { signal });
    const body = await response.text();
    if (!response.ok) throw new HttpError(response.status, url);
    return body;
  }

  // Each route's URLs arrive one every `interval` ms, so that an open circuit's half-open probe
  // shows: the flaky route recovers, the dead one opens again. Routes run side by side.
  const bar = new Progress("fetching", urls.length);
  const results = await Promise.all(routes.map(async (route) => {
    const lines: string[] = [];
    for (const url of urls.filter((u) => u.includes(`/${route}/`))) {
      if (lines.length > 0) await new Promise((resolve) => setTimeout(resolve, interval));
      const future = pool.with({
        domain: route,
        timeout: 2_000,
        retry: {
          maxAttempts: 3,
          backoff: { initial: 20, max: 200 },
          retryOn: (error) => error instanceof HttpError && error.status >= 500,
        },
      }).submit(get, url);
      const error = await future.exception();
      const n = attempts.get(url) ?? 0;
      const path = url.slice(base.length);
      const tries = `${n} attempt${n === 1 ? "" : "s"}`;
      if (error === undefined) lines.push(`OK       ${path} (${tries})`);
      else if (error instanceof CircuitOpenError) {
        lines.push(
          `BLOCKED  ${path} by the open circuit of '${error.domain}' after ${tries} (retry in ${
            Math.ceil(error.retryAfter)
          } ms)`,
        );
      } else lines.push(`FAILED   ${path} after ${tries}: ${(error as Error).message}`);
      bar.tick();
    }
    return lines;
  }));

  const lines = results.flat();
  for (const line of lines) console.log(line);
  console.log("\nCircuit changes:");
  for (const event of events) console.log(event);
  const count = (word: string, route = "") =>
    lines.filter((line) => line.startsWith(word) && line.includes(`/${route}`)).length;
  const requests = (route = "") =>
    [...attempts].filter(([url]) => url.includes(`/${route}`)).reduce((a, [, n]) => a + n, 0);
  console.log(
    `\n${
      table(
        ["route", "ok", "failed", "blocked", "requests"],
        routes.map((route) => [
          route,
          count("OK", route),
          count("FAILED", route),
          count("BLOCKED", route),
          requests(route),
        ]),
      )
    }`,
  );
  console.log(
    `\nSummary: ${count("OK")} ok, ${count("FAILED")} failed, ${
      count("BLOCKED")
    } blocked, ${requests()} requests for ${urls.length} URLs`,
  );
}

await main();

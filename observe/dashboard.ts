/**
 * A live dashboard for executors, served by the program itself: `/` is the page (no build step,
 * no CDN: it works offline), `/events` streams snapshots as server-sent events, `/metrics` serves
 * the Prometheus metrics.
 *
 * @module
 */

import { type Executors, observeAll, type Observed } from "./_registry.ts";
import { checkMetricsOptions, formatMetrics, type MetricsOptions, snapshotOf } from "./metrics.ts";
import { checkOptionsArgument, refuse } from "../future/_options.ts";

const DASHBOARD_KEYS = ["interval", "window", "workerExpiry"] as const;
const SERVE_KEYS = [...DASHBOARD_KEYS, "port", "hostname", "signal", "onListen"] as const;
import { PAGE } from "./_page.ts";

/** Options of {@linkcode dashboardHandler} and {@linkcode serveDashboard}. */
export interface DashboardOptions extends MetricsOptions {
  /**
   * How often a snapshot is sent to each open page, in ms.
   * @default {1000}
   */
  interval?: number;
  /**
   * How many seconds of task bars the task stream shows.
   * @default {30}
   */
  window?: number;
}

/** Options of {@linkcode serveDashboard}. */
export interface ServeDashboardOptions extends DashboardOptions {
  /**
   * The port; 0 picks a free one.
   * @default {8080}
   */
  port?: number;
  /**
   * The address to listen on. Anyone who can reach it sees task names and error messages, so it
   * is the loopback address unless you choose otherwise (e.g. `"0.0.0.0"` behind a proxy that
   * authenticates).
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Stops the server when it aborts. */
  signal?: AbortSignal;
  /** Called once the server listens. */
  onListen?: (address: Deno.NetAddr) => void;
}

/** The dashboard's request handler; `close()` ends the open event streams (before a shutdown). */
export interface DashboardHandler {
  (request: Request): Response;
  /** Ends every open event stream: a server waits for them when it shuts down. */
  close(): void;
}

/** A running dashboard server. */
export interface DashboardServer extends AsyncDisposable {
  /** Where it listens. */
  readonly addr: Deno.NetAddr;
  /** Resolves once the server has stopped. */
  readonly finished: Promise<void>;
  /** Ends the event streams and stops the server. */
  shutdown(): Promise<void>;
}

function snapshot(observed: Observed[], options: DashboardOptions | undefined): string {
  const window = (options?.window ?? 30) * 1000;
  const since = performance.timeOrigin + performance.now() - window;
  return JSON.stringify({
    now: performance.timeOrigin + performance.now(),
    window,
    executors: observed.map((o) => {
      const r = o.recorder;
      const metrics = snapshotOf(o, options);
      return {
        ...metrics,
        duration: undefined,
        wait: undefined,
        p50: r.duration.quantile(0.5),
        p95: r.duration.quantile(0.95),
        waitP95: r.wait.quantile(0.95),
        workerList: [...r.workers.values()].sort((a, b) =>
          a.name.localeCompare(b.name, "en", { numeric: true })
        ),
        bars: r.bars.filter((b) => b.end >= since).slice(-400),
        failures: r.failures.slice(-8).reverse(),
        timeline: r.recent(120),
      };
    }),
  });
}

/**
 * A request handler that serves the dashboard page at `/`, its event stream at `/events` and the
 * Prometheus metrics at `/metrics`; recording starts when it is created. Use it to mount the
 * dashboard in a server you already run; {@linkcode serveDashboard} starts one.
 *
 * @param executors a record (`{ cpu: pool }`) or a list of executors
 * @param options see {@linkcode DashboardOptions}
 * @returns the handler
 * @throws {TypeError} when an entry is not an executor of this library
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { dashboardHandler } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const handler = dashboardHandler([io]);
 * const page = await handler(new Request("http://127.0.0.1/")).text();
 * assert.match(page, /<title>/);
 * ```
 */
export function dashboardHandler(
  executors: Executors,
  options?: DashboardOptions,
): DashboardHandler {
  const what = "serve the dashboard";
  checkMetricsOptions(what, options, DASHBOARD_KEYS);
  const interval = options?.interval ?? 1000;
  if (!(typeof interval === "number" && interval >= 10 && interval < 2 ** 31)) {
    refuse({ action: what, path: "interval" }, "a number of ms from 10 to 2^31 - 1", interval);
  }
  const window = options?.window;
  if (window !== undefined && !(typeof window === "number" && window > 0)) {
    refuse({ action: what, path: "window" }, "a positive number of seconds", window);
  }
  const observed = observeAll(executors, what);
  const streams = new Set<() => void>();
  const handler = (request: Request): Response => {
    const { pathname } = new URL(request.url);
    if (pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (pathname === "/metrics") {
      return new Response(formatMetrics(observed.map((o) => snapshotOf(o, options))), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (pathname !== "/events") return new Response("Not found", { status: 404 });
    const encoder = new TextEncoder();
    let timer: ReturnType<typeof setInterval> | undefined;
    let end = () => clearInterval(timer);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        end = () => {
          clearInterval(timer);
          streams.delete(end);
          try {
            controller.close();
          } catch {
            // Already closed.
          }
        };
        streams.add(end);
        const send = () => {
          // A client that does not read keeps one snapshot waiting, not one per interval: the
          // next is sent once it has taken that one.
          if ((controller.desiredSize ?? 1) <= 0) return;
          try {
            controller.enqueue(encoder.encode(`data: ${snapshot(observed, options)}\n\n`));
          } catch {
            end();
          }
        };
        send();
        // A client that goes away cancels the stream (request.signal is no guide: Deno aborts it
        // once the response has started).
        timer = setInterval(send, interval);
      },
      cancel: () => end(),
    }, { highWaterMark: 1 });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  };
  return Object.assign(handler, {
    close() {
      for (const end of [...streams]) end();
    },
  });
}

/**
 * Serves the dashboard of `executors` (see {@linkcode dashboardHandler}) on 127.0.0.1 unless
 * told otherwise. Opt-in: nothing listens until this is called.
 *
 * @param executors a record (`{ cpu: pool }`) or a list of executors
 * @param options see {@linkcode ServeDashboardOptions}
 * @returns the server: `await server.shutdown()` (or `await using`) stops it
 * @throws {TypeError} when an entry is not an executor of this library
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPoolExecutor } from "@concurrent/futures";
 * import { serveDashboard } from "@concurrent/futures/observe";
 *
 * await using cpu = new WorkerPoolExecutor({ name: "cpu" });
 * await using server = serveDashboard([cpu], { port: 0, onListen() {} });
 * const response = await fetch(`http://127.0.0.1:${server.addr.port}/metrics`);
 * assert.match(await response.text(), /executor="cpu"/);
 * ```
 */
export function serveDashboard(
  executors: Executors,
  options?: ServeDashboardOptions,
): DashboardServer {
  checkOptionsArgument("serve the dashboard", options, SERVE_KEYS, "port");
  const handler = dashboardHandler(
    executors,
    options && {
      interval: options.interval,
      window: options.window,
      workerExpiry: options.workerExpiry,
    },
  );
  const server = Deno.serve({
    hostname: options?.hostname ?? "127.0.0.1",
    port: options?.port ?? 8080,
    ...(options?.signal ? { signal: options.signal } : {}),
    onListen: options?.onListen ?? ((address) => {
      const host = address.hostname.includes(":") ? `[${address.hostname}]` : address.hostname;
      console.error(`Dashboard: http://${host}:${address.port}/`);
    }),
  }, handler);
  options?.signal?.addEventListener("abort", () => handler.close(), { once: true });
  const shutdown = () => {
    handler.close();
    return server.shutdown();
  };
  return {
    addr: server.addr,
    finished: server.finished,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}

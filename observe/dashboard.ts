/**
 * A live dashboard for executors, served by the program itself: `/` is the page (no build step,
 * no CDN: it works offline), `/events` streams snapshots as server-sent events, `/metrics` serves
 * the Prometheus metrics.
 *
 * It answers only requests addressed to a loopback name (`localhost`, `127.x.y.z`, `[::1]`) unless
 * `allowedHosts` lists more: a page on another site could otherwise read it through the user's
 * browser by pointing a name of its own at 127.0.0.1 (DNS rebinding). All open event streams share
 * one snapshot per interval, and at most `maxStreams` are open at once.
 *
 * @module
 */

import { type Executors, observeAll, type Observed } from "./_registry.ts";
import {
  checkMetricsOptions,
  claimExpiry,
  formatMetrics,
  type MetricsOptions,
  snapshotOf,
} from "./metrics.ts";
import { checkOptionsArgument, refuse } from "../future/_options.ts";
import { allowedHostsOf, refusedHost } from "./_hosts.ts";

const DASHBOARD_KEYS = [
  "interval",
  "window",
  "workerExpiry",
  "allowedHosts",
  "maxStreams",
] as const;
const SERVE_KEYS = [...DASHBOARD_KEYS, "port", "hostname", "signal", "onListen"] as const;
import { PAGE } from "./_page.ts";

/**
 * Options of {@linkcode dashboardHandler} and {@linkcode serveDashboard}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { dashboardHandler } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const handler = dashboardHandler([io], { interval: 500, window: 60, maxStreams: 4 });
 * assert.equal(handler(new Request("http://localhost/")).status, 200);
 * handler.close();
 * ```
 */
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
  /**
   * Host names (or addresses) the dashboard answers besides the loopback ones (`localhost`,
   * `127.x.y.z`, `[::1]`, always answered), for a dashboard exposed on purpose. The name of
   * each request (its `Host` header and URL) is compared without its port and case-insensitively;
   * any other is refused with 403. This stops a web page from reading the dashboard through the
   * user's browser by pointing a name of its own at the dashboard's address (DNS rebinding).
   * `"*"` answers any name: only behind a reverse proxy that checks it.
   *
   * @default {[]}
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * import { dashboardHandler } from "@concurrent/futures/observe";
   *
   * await using io = new AsyncPoolExecutor({ name: "io" });
   * const handler = dashboardHandler([io], { allowedHosts: ["dash.example.com"] });
   * const ok = handler(new Request("https://dash.example.com:8443/metrics"));
   * assert.equal(ok.status, 200);
   * await ok.body?.cancel();
   * const refused = handler(new Request("http://attacker.example/metrics"));
   * assert.equal(refused.status, 403);
   * assert.match(await refused.text(), /attacker\.example.*allowedHosts/);
   * ```
   */
  allowedHosts?: readonly string[];
  /**
   * How many event streams (`/events`, one per open page) may be open at once; past it `/events`
   * answers 503. All of them are sent the same snapshot, built once per `interval`.
   *
   * @default {16}
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { AsyncPoolExecutor } from "@concurrent/futures";
   * import { dashboardHandler } from "@concurrent/futures/observe";
   *
   * await using io = new AsyncPoolExecutor({ name: "io" });
   * const handler = dashboardHandler([io], { maxStreams: 1 });
   * const first = handler(new Request("http://127.0.0.1/events"));
   * const second = handler(new Request("http://127.0.0.1/events"));
   * assert.equal(second.status, 503);
   * await second.body?.cancel();
   * await first.body?.cancel();
   * handler.close();
   * ```
   */
  maxStreams?: number;
}

/**
 * Options of {@linkcode serveDashboard}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { serveDashboard } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const stop = new AbortController();
 * const server = serveDashboard([io], {
 *   hostname: "127.0.0.1",
 *   port: 0, // any free port
 *   signal: stop.signal,
 *   onListen: ({ port }) => assert(port > 0),
 * });
 * stop.abort();
 * await server.finished;
 * ```
 */
export interface ServeDashboardOptions extends DashboardOptions {
  /**
   * The port; 0 picks a free one.
   * @default {8080}
   */
  port?: number;
  /**
   * The address to listen on. Anyone who can reach it sees task names and error messages, so it
   * is the loopback address unless you choose otherwise (e.g. `"0.0.0.0"` behind a proxy that
   * authenticates, with the name it is reached by in `allowedHosts`).
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** Stops the server when it aborts. */
  signal?: AbortSignal;
  /** Called once the server listens. */
  onListen?: (address: Deno.NetAddr) => void;
}

/**
 * The dashboard's request handler; `close()` ends the open event streams (before a shutdown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { type DashboardHandler, dashboardHandler } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const handler: DashboardHandler = dashboardHandler([io]);
 * const events = handler(new Request("http://localhost/events"));
 * assert.equal(events.headers.get("content-type"), "text/event-stream");
 * handler.close(); // ends the stream, as before a server's shutdown
 * await events.body?.cancel();
 * ```
 */
export interface DashboardHandler {
  (request: Request): Response;
  /** Ends every open event stream: a server waits for them when it shuts down. */
  close(): void;
}

/**
 * A running dashboard server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AsyncPoolExecutor } from "@concurrent/futures";
 * import { type DashboardServer, serveDashboard } from "@concurrent/futures/observe";
 *
 * await using io = new AsyncPoolExecutor({ name: "io" });
 * const server: DashboardServer = serveDashboard([io], { port: 0, onListen() {} });
 * assert.equal(server.addr.hostname, "127.0.0.1");
 * await server.shutdown();
 * await server.finished;
 * ```
 */
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
      const metrics = snapshotOf(o);
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
 * dashboard in a server you already run; {@linkcode serveDashboard} starts one. Requests for a
 * host that is not a loopback name nor in `allowedHosts` get 403, and `/events` gets 503 while
 * `maxStreams` streams are open.
 *
 * @param executors a record (`{ cpu: pool }`) or a list of executors
 * @param options see {@linkcode DashboardOptions}
 * @returns the handler
 * @throws {TypeError} when an entry is not an executor of this library, or an option is unknown
 * or of the wrong type
 * @throws {RangeError} when a number option is out of range
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
  const allowed = allowedHostsOf(what, options?.allowedHosts);
  const maxStreams = options?.maxStreams ?? 16;
  if (!(Number.isInteger(maxStreams) && maxStreams >= 1)) {
    refuse({ action: what, path: "maxStreams" }, "a positive integer", maxStreams);
  }
  const observed = observeAll(executors, what);
  claimExpiry(observed, options, what);

  // The open event streams share one timer and one snapshot per interval: it is built once,
  // encoded once, and the same bytes are queued on each stream that has room.
  const streams = new Set<EventStream>();
  const encoder = new TextEncoder();
  let timer: ReturnType<typeof setInterval> | undefined;
  let latest: { bytes: Uint8Array; at: number } | undefined;
  // A snapshot that cannot be built ends the streams it was for (as it always did), rather than
  // throwing in a timer.
  const build = (): Uint8Array | undefined => {
    try {
      const bytes = encoder.encode(`data: ${snapshot(observed, options)}\n\n`);
      latest = { bytes, at: performance.now() };
      return bytes;
    } catch {
      return undefined;
    }
  };
  const tick = () => {
    const ready = [...streams].filter(hasRoom);
    if (ready.length === 0) return;
    const bytes = build();
    for (const stream of ready) {
      if (bytes) offer(stream, bytes);
      else stream.end();
    }
  };
  const open = (): Response => {
    if (streams.size >= maxStreams) {
      return text(
        503,
        `${maxStreams} dashboard event streams are open already (the 'maxStreams' option): ` +
          "close a page or raise it",
      );
    }
    let stream!: EventStream;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        stream = {
          controller,
          end() {
            if (streams.delete(stream) && streams.size === 0) {
              clearInterval(timer);
              timer = undefined;
            }
            try {
              controller.close();
            } catch {
              // Already closed.
            }
          },
        };
        streams.add(stream);
        // A client that goes away cancels the stream (request.signal is no guide: Deno aborts it
        // once the response has started).
        timer ??= setInterval(tick, interval);
        // A new page is sent the last snapshot if it is from this interval, else a new one: pages
        // that connect again and again cost at most one more snapshot per interval.
        const bytes = latest && performance.now() - latest.at < interval ? latest.bytes : build();
        if (bytes) offer(stream, bytes);
        else stream.end();
      },
      cancel: () => stream.end(),
    }, { highWaterMark: 1 });
    return new Response(body, {
      headers: { "content-type": "text/event-stream", "cache-control": "no-store" },
    });
  };

  const handler = (request: Request): Response => {
    const refused = allowed === "*" ? undefined : refusedHost(request, allowed);
    if (refused !== undefined) {
      return text(
        403,
        `This dashboard does not answer requests for host ${
          JSON.stringify(refused.slice(0, 100))
        }: it answers loopback names only unless the 'allowedHosts' option lists the host`,
      );
    }
    const { pathname } = new URL(request.url);
    if (pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (pathname === "/metrics") {
      return new Response(formatMetrics(observed.map((o) => snapshotOf(o))), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (pathname === "/events") return open();
    return new Response("Not found", { status: 404 });
  };
  return Object.assign(handler, {
    close() {
      for (const stream of [...streams]) stream.end();
    },
  });
}

/** An open `/events` stream. */
interface EventStream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Closes it and forgets it (the timer stops with the last one). */
  end(): void;
}

// A client that does not read keeps one snapshot waiting, not one per interval: the next is sent
// once it has taken that one (the streams' highWaterMark is 1).
const hasRoom = (stream: EventStream) => (stream.controller.desiredSize ?? 1) > 0;

function offer(stream: EventStream, bytes: Uint8Array): void {
  if (!hasRoom(stream)) return;
  try {
    stream.controller.enqueue(bytes);
  } catch {
    stream.end();
  }
}

function text(status: number, body: string): Response {
  return new Response(body + "\n", {
    status,
    headers: { "content-type": "text/plain; charset=utf-8", "x-content-type-options": "nosniff" },
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
      allowedHosts: options.allowedHosts,
      maxStreams: options.maxStreams,
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

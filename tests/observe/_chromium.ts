// Headless Chromium driven over the DevTools protocol (a WebSocket from Deno): open a page, wait
// for something in it (a promise evaluated in the page), read its DOM, take a screenshot. The
// dashboard's event stream never ends, so `--dump-dom` with a virtual time budget would wait for
// it forever; the protocol lets the test wait for exactly what it needs instead.

const CHROMIUM = Deno.env.get("CHROMIUM") ?? "chromium";

/** Whether the Chromium binary is there: `CHROMIUM` (a path) or `chromium` on PATH. */
export function chromiumFound(): boolean {
  const candidates = CHROMIUM.includes("/")
    ? [CHROMIUM]
    : (Deno.env.get("PATH") ?? "").split(":").filter(Boolean).map((dir) => `${dir}/${CHROMIUM}`);
  return candidates.some((path) => {
    try {
      return Deno.statSync(path).isFile;
    } catch {
      return false;
    }
  });
}

/** An open page. */
export interface Page {
  /** Evaluates `expression` in the page; a promise is awaited. Returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** A PNG of the viewport. */
  screenshot(): Promise<Uint8Array>;
}

/** Opens `url` in headless Chromium, runs `use` with it, and always ends Chromium. */
export async function withPage<T>(url: string, use: (page: Page) => Promise<T>): Promise<T> {
  const profile = await Deno.makeTempDir();
  const child = new Deno.Command(CHROMIUM, {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--hide-scrollbars",
      "--remote-debugging-port=0",
      "--remote-debugging-address=127.0.0.1",
      `--user-data-dir=${profile}`,
      "about:blank",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let socket: WebSocket | undefined;
  // Chromium's own child processes inherit its stderr, so the pipe may stay open after Chromium
  // has exited: the reader is cancelled at the end rather than read to its end.
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let draining: Promise<void> | undefined;
  try {
    // Chromium prints its DevTools address on stderr once it listens.
    let text = "";
    let endpoint: string | undefined;
    while (!endpoint) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`chromium exited before it listened: ${text}`);
      text += value;
      endpoint = /DevTools listening on (ws:\/\/\S+)/.exec(text)?.[1];
    }
    // Keep draining stderr so that Chromium never blocks on a full pipe.
    draining = (async () => {
      while (!(await reader.read()).done) { /* discard */ }
    })().catch(() => {});
    const ws = socket = new WebSocket(endpoint);
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = reject;
    });
    let nextId = 1;
    const pending = new Map<number, PromiseWithResolvers<Record<string, unknown>>>();
    const waiters: { method: string; resolve: () => void }[] = [];
    ws.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id !== undefined) {
        const p = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) p?.reject(new Error(JSON.stringify(message.error)));
        else p?.resolve(message.result);
        return;
      }
      for (const w of waiters.filter((w) => w.method === message.method)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    };
    const send = (method: string, params: object = {}, sessionId?: string) => {
      const id = nextId++;
      const p = Promise.withResolvers<Record<string, unknown>>();
      pending.set(id, p);
      ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
      return p.promise;
    };
    const { targetId } = await send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true }) as {
      sessionId: string;
    };
    await send("Page.enable", {}, sessionId);
    await send("Emulation.setDeviceMetricsOverride", {
      width: 1280,
      height: 900,
      deviceScaleFactor: 1,
      mobile: false,
    }, sessionId);
    const loaded = new Promise<void>((resolve) =>
      waiters.push({ method: "Page.loadEventFired", resolve })
    );
    await send("Page.navigate", { url }, sessionId);
    await loaded;
    return await use({
      async evaluate<T>(expression: string): Promise<T> {
        const { result, exceptionDetails } = await send("Runtime.evaluate", {
          expression,
          awaitPromise: true,
          returnByValue: true,
        }, sessionId) as { result: { value: T }; exceptionDetails?: unknown };
        if (exceptionDetails) throw new Error(JSON.stringify(exceptionDetails));
        return result.value;
      },
      async screenshot(): Promise<Uint8Array> {
        const { data } = await send("Page.captureScreenshot", { format: "png" }, sessionId);
        return Uint8Array.from(atob(data as string), (c) => c.charCodeAt(0));
      },
    });
  } finally {
    socket?.close();
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
    await child.status;
    await reader.cancel().catch(() => {});
    await draining;
    await Deno.remove(profile, { recursive: true }).catch(() => {});
  }
}

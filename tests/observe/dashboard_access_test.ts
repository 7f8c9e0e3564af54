// Who the dashboard answers, and what its event streams cost: requests for a host that is not a
// loopback name (a page on another site that points a name of its own at 127.0.0.1, DNS
// rebinding) are refused unless `allowedHosts` lists it; open streams share one snapshot per
// interval and are capped by `maxStreams`.

import assert from "node:assert/strict";
import { AsyncPoolExecutor } from "../../mod.ts";
import { dashboardHandler, serveDashboard } from "../../observe/mod.ts";
import { recorderOf } from "../../observe/_registry.ts";

const ROUTES = ["/", "/events", "/metrics", "/nope"];

/** The handler's answer to `url` (with a `Host` header when given); the body is read or dropped. */
async function ask(
  handler: (request: Request) => Response,
  url: string,
  host?: string,
): Promise<{ status: number; type: string | null; text: string }> {
  const response = handler(new Request(url, host ? { headers: { host } } : {}));
  const type = response.headers.get("content-type");
  // An event stream never ends: only its status matters here.
  if (type === "text/event-stream") {
    await response.body!.cancel();
    return { status: response.status, type, text: "" };
  }
  return { status: response.status, type, text: await response.text() };
}

/**
 * Sends one HTTP/1.1 request with this `Host` header over TCP (fetch() writes its own) and returns
 * the status and body; the server closes the connection after it.
 */
async function rawGet(port: number, path: string, host: string) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode(
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      ),
    );
    let out = "";
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(1 << 16);
    for (let n; (n = await conn.read(buffer)) !== null;) {
      out += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    const [head = "", ...body] = out.split("\r\n\r\n");
    return { status: Number(head.split(" ")[1]), text: body.join("\r\n\r\n") };
  } finally {
    conn.close();
  }
}

Deno.test("the dashboard answers loopback hosts and refuses any other with 403, on every route", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  await io.submit(() => {
    throw new Error("login failed for admin with password hunter2");
  }).exception();
  const handler = dashboardHandler([io], { interval: 60_000 });
  try {
    for (const path of ROUTES) {
      for (
        const [url, host] of [
          [`http://attacker.example:8080${path}`, undefined],
          // The URL is what Deno.serve builds from the Host header; a handler mounted elsewhere
          // may see only the header.
          [`http://127.0.0.1:8080${path}`, "attacker.example:8080"],
          [`http://attacker.example:8080${path}`, "127.0.0.1:8080"],
          [`http://127.0.0.1.attacker.example${path}`, undefined],
          [`http://localhost.attacker.example${path}`, undefined],
          [`http://127.0.0.1${path}`, "127.0.0.1@attacker.example"],
        ]
      ) {
        const answer = await ask(handler, url!, host);
        assert.equal(answer.status, 403, `${url} (Host: ${host})`);
        assert.match(answer.type!, /^text\/plain/);
        assert.match(answer.text, /host ".*attacker\.example.*".*'allowedHosts'/);
        assert.doesNotMatch(answer.text, /hunter2/);
      }
      for (
        const [url, host] of [
          [`http://127.0.0.1:8080${path}`, undefined],
          [`http://127.0.0.1:8080${path}`, "127.0.0.1:8080"],
          [`http://localhost${path}`, "LocalHost:9000"],
          [`http://127.3.2.1${path}`, undefined],
          [`http://[::1]:9000${path}`, "[::1]:9000"],
        ]
      ) {
        const answer = await ask(handler, url!, host);
        assert.equal(answer.status, path === "/nope" ? 404 : 200, `${url} (Host: ${host})`);
      }
    }
  } finally {
    handler.close();
  }
});

Deno.test("serveDashboard() refuses a foreign Host header with 403 and serves the hosts allowedHosts lists", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  for (const allowedHosts of [undefined, ["Dash.Example"]]) {
    const listening = Promise.withResolvers<Deno.NetAddr>();
    await using server = serveDashboard([io], {
      port: 0,
      allowedHosts,
      onListen: (address) => listening.resolve(address),
    });
    const { port } = await listening.promise;
    for (const path of ROUTES) {
      const refused = await rawGet(port, path, `attacker.example:${port}`);
      assert.equal(refused.status, 403, path);
      assert.match(refused.text, /"attacker\.example:\d+".*'allowedHosts'/);
    }
    for (const host of ["127.0.0.1", "localhost", "[::1]"]) {
      const metrics = await rawGet(port, "/metrics", `${host}:${port}`);
      assert.equal(metrics.status, 200, host);
      assert.match(metrics.text, /concurrent_futures_tasks_queued\{executor="io"\} 0/);
    }
    const listed = await rawGet(port, "/metrics", `dash.example:${port}`);
    assert.equal(listed.status, allowedHosts ? 200 : 403);
    await server.shutdown();
  }
});

Deno.test("allowedHosts admits the names it lists, without port and in any case, and '*' any name", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const handler = dashboardHandler([io], {
    allowedHosts: ["Dash.Example.com", "10.0.0.5", "[fd00::5]", "dash.example.org."],
  });
  const any = dashboardHandler([io], { allowedHosts: ["*"] });
  try {
    for (
      const url of [
        "https://dash.example.com:8443/metrics",
        "http://DASH.EXAMPLE.COM/metrics",
        "http://dash.example.com./metrics",
        "http://dash.example.org/metrics",
        "http://10.0.0.5:8080/metrics",
        "http://[fd00::5]:8080/metrics",
        "http://127.0.0.1:8080/metrics",
      ]
    ) {
      assert.equal((await ask(handler, url)).status, 200, url);
    }
    for (
      const url of [
        "http://example.com/metrics",
        "http://sub.dash.example.com/metrics",
        "http://dash.example.com.attacker.example/metrics",
        "http://10.0.0.6/metrics",
      ]
    ) {
      assert.equal((await ask(handler, url)).status, 403, url);
    }
    assert.equal((await ask(handler, "http://127.0.0.1/", "dash.example.com:80")).status, 200);
    assert.equal((await ask(handler, "http://127.0.0.1/", "other.example")).status, 403);
    assert.equal((await ask(any, "http://anything.example/metrics")).status, 200);
    assert.equal((await ask(any, "http://127.0.0.1/", "anything.example")).status, 200);
  } finally {
    handler.close();
    any.close();
  }
});

Deno.test("dashboardHandler() refuses allowedHosts and maxStreams values it cannot use, naming them", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const refused = (type: typeof TypeError, pattern: RegExp) => (e: unknown) =>
    e instanceof type && pattern.test(e.message);
  assert.throws(
    () => dashboardHandler([io], { allowedHosts: "dash.example.com" as never }),
    refused(
      TypeError,
      /^Cannot serve the dashboard as 'allowedHosts' must be an array of host names.*received "dash\.example\.com"$/,
    ),
  );
  for (
    const hosts of [
      [""],
      ["dash.example.com:8080"],
      ["http://dash.example.com"],
      ["dash.example.com/"],
      [42],
      ["ok.example", null],
      ["ok.example", "fd00::5"],
      // "*" does not spare the other entries their check.
      ["*", "user@dash.example.com"],
    ]
  ) {
    const i = hosts.length - 1;
    assert.throws(
      () => dashboardHandler([io], { allowedHosts: hosts as never }),
      refused(
        TypeError,
        new RegExp(
          `'allowedHosts\\[${i}\\]' must be a host name or address without scheme nor port.*received ${
            hosts[i] === null ? "null" : JSON.stringify(hosts[i])
          }$`,
        ),
      ),
      String(hosts),
    );
  }
  for (const bad of [0, -1, 1.5, "16", Infinity, NaN]) {
    assert.throws(
      () => dashboardHandler([io], { maxStreams: bad as never }),
      refused(
        typeof bad === "number" ? RangeError : TypeError,
        /'maxStreams' must be a positive integer/,
      ),
      String(bad),
    );
  }
  assert.throws(
    () => dashboardHandler([io], { allowHosts: ["x"] } as never),
    refused(TypeError, /'allowHosts' is not an option \(did you mean 'allowedHosts'\?\)/),
  );
  assert.throws(
    () => serveDashboard([io], { port: 0, maxStreams: 0, onListen() {} }),
    refused(RangeError, /'maxStreams' must be a positive integer/),
  );
});

Deno.test("the event stream past maxStreams is refused with 503, and admitted once another closes", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const handler = dashboardHandler([io], { interval: 60_000, maxStreams: 2 });
  try {
    const events = () => handler(new Request("http://127.0.0.1/events"));
    const first = events();
    const second = events();
    assert.equal(first.status, 200);
    assert.equal(second.status, 200);
    const third = events();
    assert.equal(third.status, 503);
    assert.match(await third.text(), /2 dashboard event streams are open.*'maxStreams'/);
    // The page and the metrics are not streams.
    assert.equal((await ask(handler, "http://127.0.0.1/metrics")).status, 200);
    // A page that goes away cancels its stream.
    await first.body!.cancel();
    const fourth = events();
    assert.equal(fourth.status, 200);
    assert.equal(events().status, 503);
    // close() ends them all: the streams can be opened again.
    handler.close();
    const again = [events(), events()];
    assert.deepEqual(again.map((r) => r.status), [200, 200]);
    for (const response of [second, fourth, ...again]) await response.body!.cancel();
  } finally {
    handler.close();
  }
});

Deno.test("a page that connects within the interval is sent the same snapshot bytes, built once", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  await io.submit(() => 1);
  // Each snapshot reads the recorder's timeline once.
  const recorder = recorderOf(io, "test");
  const recent = recorder.recent;
  let builds = 0;
  recorder.recent = function (seconds: number) {
    builds++;
    return recent.call(this, seconds);
  };
  const handler = dashboardHandler([io], { interval: 60_000 });
  try {
    const a = handler(new Request("http://127.0.0.1/events")).body!.getReader();
    const b = handler(new Request("http://127.0.0.1/events")).body!.getReader();
    const [first, second] = [(await a.read()).value!, (await b.read()).value!];
    assert.equal(builds, 1);
    assert.deepEqual(second, first);
    assert.match(new TextDecoder().decode(first), /^data: \{"now":.*"executor":"io"/);
    await a.cancel();
    await b.cancel();
  } finally {
    handler.close();
    recorder.recent = recent;
  }
});

Deno.test("at each interval every open event stream with room is sent the same snapshot bytes", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const handler = dashboardHandler([io], { interval: 10 });
  try {
    const readers = [1, 2, 3].map(() =>
      handler(new Request("http://127.0.0.1/events")).body!.getReader()
    );
    // The snapshot each was sent when it opened.
    for (const reader of readers) await reader.read();
    for (let round = 0; round < 3; round++) {
      // All three wait for the next interval's snapshot: one build, the same bytes to each (each
      // stream built its own, a few µs apart, so `now` differed).
      const chunks = await Promise.all(readers.map(async (r) => (await r.read()).value!));
      assert.deepEqual(chunks[1], chunks[0]);
      assert.deepEqual(chunks[2], chunks[0]);
    }
    for (const reader of readers) await reader.cancel();
  } finally {
    handler.close();
  }
});

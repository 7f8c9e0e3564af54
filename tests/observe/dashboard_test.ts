import assert from "node:assert/strict";
import { AsyncPoolExecutor, WorkerPoolExecutor } from "../../mod.ts";
import { serveDashboard } from "../../observe/mod.ts";
import { chromiumFound, withPage } from "./_chromium.ts";

// Without Chromium the two browser tests are skipped, saying so loudly, except in CI (CI=true,
// as .ci/run sets it after installing Debian's chromium), where a missing browser fails them.
const noBrowser = !chromiumFound() && Deno.env.get("CI") !== "true";
if (noBrowser) {
  console.error(
    "!!! SKIPPED 2 dashboard tests that need Chromium: it is not installed (apt-get install " +
      "chromium, or name the binary in CHROMIUM) !!!",
  );
}

// Resolves with the page's HTML once it has drawn a snapshot in which `ready` holds.
const afterSnapshot = (ready: string) =>
  `new Promise((resolve) => {
  const check = () => document.body.dataset.updates && (${ready})
    ? resolve(document.documentElement.outerHTML) : false;
  if (!check()) new MutationObserver(check).observe(document.body, { attributes: true });
})`;

async function withDashboard(
  run: (url: string) => Promise<void>,
): Promise<void> {
  await using cpu = new WorkerPoolExecutor({
    name: "cpu",
    maxWorkers: 2,
    // Workers stay, so that the page has them to show whenever it loads.
    idleTimeout: Infinity,
  });
  await using io = new AsyncPoolExecutor({
    name: "io",
    circuitBreaker: { threshold: 1, halfOpenAfter: 60_000 },
  });
  const listening = Promise.withResolvers<Deno.NetAddr>();
  await using server = serveDashboard([cpu, io], {
    port: 0,
    onListen: (address) => listening.resolve(address),
  });
  const { port } = await listening.promise;
  // Tasks done before the page loads: the first snapshot already has their bars.
  await Promise.all([1, 2, 3, 4].map((n) => cpu.submit((x: number) => x * x, n)));
  await Promise.all([1, 2, 3].map((n) => io.submit(async (x: number) => await x, n)));
  await io.with({ domain: "down.example" }).submit(() => {
    throw new Error("503 from down.example");
  }).exception();
  await run(`http://127.0.0.1:${port}/`);
  await server.shutdown();
}

Deno.test({
  name: "serveDashboard() renders executors, workers and task bars in headless Chromium",
  ignore: noBrowser,
}, async () => {
  await withDashboard(async (url) => {
    const dom = await withPage(
      url,
      (page) => page.evaluate<string>(afterSnapshot(`document.querySelector("rect.bar")`)),
    );
    assert.match(dom, /<section class="executor" data-name="cpu">/);
    assert.match(dom, /<section class="executor" data-name="io">/);
    assert.match(dom, /WorkerPoolExecutor/);
    assert.match(dom, /data-updates="\d+"/, "the page drew at least one snapshot");
    // Two lanes of workers, and bars for the tasks.
    const cpu = dom.slice(dom.indexOf('data-name="cpu"'), dom.indexOf('data-name="io"'));
    const chips = cpu.match(/class="chip worker /g) ?? [];
    assert.ok(chips.length >= 1 && chips.length <= 2, `worker chips: ${chips.length}`);
    assert.equal((cpu.match(/class="bar completed"/g) ?? []).length, 4);
    const io = dom.slice(dom.indexOf('data-name="io"'));
    assert.equal((io.match(/class="bar completed"/g) ?? []).length, 3);
    assert.equal((io.match(/class="bar failed"/g) ?? []).length, 1);
    assert.match(io, /down\.example: open/);
    assert.match(io, /503 from down\.example/);
  });
});

Deno.test({
  name: "serveDashboard() page can be captured as a screenshot by headless Chromium",
  ignore: noBrowser,
}, async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withDashboard(async (url) => {
      const file = `${dir}/dashboard.png`;
      const png = await withPage(url, async (page) => {
        await page.evaluate(afterSnapshot(`document.querySelector("rect.bar")`));
        return await page.screenshot();
      });
      await Deno.writeFile(file, png);
      assert.deepEqual([...png.slice(1, 4)], [0x50, 0x4e, 0x47], "a PNG file");
      assert.ok(png.length > 10_000, `${png.length} bytes`);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serveDashboard() serves metrics, 404 elsewhere, and listens on 127.0.0.1 by default", async () => {
  await using io = new AsyncPoolExecutor({ name: "io" });
  const listening = Promise.withResolvers<Deno.NetAddr>();
  await using server = serveDashboard([io], {
    port: 0,
    onListen: (address) => listening.resolve(address),
  });
  const { hostname, port } = await listening.promise;
  assert.equal(hostname, "127.0.0.1");
  const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.match(await metrics.text(), /concurrent_futures_tasks_queued\{executor="io"\} 0/);
  const missing = await fetch(`http://127.0.0.1:${port}/nope`);
  assert.equal(missing.status, 404);
  await missing.body?.cancel();
  const events = await fetch(`http://127.0.0.1:${port}/events`);
  const reader = events.body!.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  assert.match(value!, /^data: \{"now":/);
  await reader.cancel();
  await server.shutdown();
});

// The dashboard page: one HTML document with its style and script inline, drawn with SVG by hand
// (no chart library: the page needs bars in lanes and two small series, ~200 lines of script).

/** The page served at `/`. */
export const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>concurrent futures</title>
<style>
:root { --ok: #2e9d5b; --bad: #d64545; --off: #9aa0a6; --busy: #3b7dd8; --warn: #e3a008;
  --ink: #1f2328; --soft: #656d76; --line: #d0d7de; --bg: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: var(--ink); background: var(--bg); }
header { padding: 10px 16px; background: #fff; border-bottom: 1px solid var(--line);
  display: flex; gap: 12px; align-items: baseline; }
header h1 { font-size: 16px; margin: 0; }
#status { color: var(--soft); }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(600px, 1fr)); gap: 12px;
  padding: 12px; }
section.executor { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 10px 12px; }
h2 { font-size: 15px; margin: 0 0 6px; }
h2 small { color: var(--soft); font-weight: normal; }
h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .04em; color: var(--soft);
  margin: 8px 0 3px; }
.numbers { display: flex; flex-wrap: wrap; gap: 4px 14px; }
.numbers b { font-variant-numeric: tabular-nums; }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { border-radius: 10px; padding: 1px 8px; font-size: 12px; color: #fff; background: var(--off); }
.chip.busy { background: var(--busy); } .chip.idle { background: var(--ok); }
.chip.starting { background: var(--warn); }
.chip.retiring, .chip.draining { background: var(--soft); }
.chip.closed { background: var(--ok); } .chip.half-open { background: var(--warn); }
.chip.open { background: var(--bad); }
svg { display: block; width: 100%; background: #fbfcfd; border: 1px solid #eaeef2; }
.lane-label { font-size: 10px; fill: var(--soft); }
rect.completed { fill: var(--ok); } rect.failed { fill: var(--bad); }
rect.cancelled { fill: var(--off); }
.legend span::before { content: ""; display: inline-block; width: 9px; height: 9px;
  margin: 0 3px 0 8px; background: var(--c); }
ul.failures { margin: 0; padding: 0; list-style: none; font-size: 12px; max-height: 120px;
  overflow: auto; }
ul.failures li { border-top: 1px solid #eaeef2; padding: 2px 0; }
ul.failures code { color: var(--bad); }
.empty { color: var(--soft); font-style: italic; }
</style>
</head>
<body>
<header><h1>concurrent futures</h1><span id="status">connecting…</span></header>
<main id="executors"></main>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg";
const main = document.getElementById("executors");
const status = document.getElementById("status");
const cards = new Map();

function el(tag, attrs, ...children) {
  const node = tag === "svg" || tag === "rect" || tag === "text" || tag === "line" ||
      tag === "polyline" || tag === "g" || tag === "title"
    ? document.createElementNS(NS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}
const ms = (s) => s < 1 ? (s * 1000).toFixed(s < 0.01 ? 2 : 0) + " ms" : s.toFixed(2) + " s";
const CIRCUIT = ["closed", "half-open", "open"];

function card(name) {
  let c = cards.get(name);
  if (!c) {
    c = el("section", { class: "executor", "data-name": name });
    main.append(c);
    cards.set(name, c);
  }
  return c;
}

function numbers(e) {
  const w = e.workers;
  const items = [
    ["queued", e.queued], ["running", e.running], ["completed", e.tasks.completed],
    ["failed", e.tasks.failed], ["cancelled", e.tasks.cancelled],
    ["attempts", e.attempts.completed + e.attempts.failed + e.attempts.cancelled],
    ["p50", ms(e.p50)], ["p95", ms(e.p95)], ["wait p95", ms(e.waitP95)],
  ];
  if (e.kind !== "AsyncPoolExecutor") items.push(["restarts", e.restarts]);
  const div = el("div", { class: "numbers" });
  for (const [k, v] of items) div.append(el("span", { "data-stat": k }, k + " ", el("b", {}, String(v))));
  return div;
}

function workers(e) {
  const w = e.workers;
  const counts = e.kind === "AsyncPoolExecutor" ? "event-loop slots in use"
    : "busy " + w.busy + " · idle " + w.idle + " · starting " + w.starting +
      " · retiring " + w.retiring + " (draining " + w.draining + ") · spinning " + w.spinning;
  const chips = el("div", { class: "chips" });
  for (const v of e.workerList) {
    chips.append(el("span", { class: "chip worker " + v.state, title: v.state + ", " + v.running +
      " in flight" }, v.name));
  }
  if (e.workerList.length === 0) chips.append(el("span", { class: "empty" }, "none yet"));
  return [el("h3", {}, "Workers ", el("span", { class: "worker-counts" }, counts)), chips];
}

function stream(e, now, windowMs) {
  const lanes = [...new Set([...e.workerList.map((w) => w.name), ...e.bars.map((b) => b.lane)])]
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
  const W = 1000, LH = 14, H = Math.max(1, lanes.length) * LH + 14, L = 64;
  const svg = el("svg", { class: "stream", viewBox: "0 0 " + W + " " + H,
    preserveAspectRatio: "none", height: H });
  const x = (t) => L + (W - L) * (1 - (now - t) / windowMs);
  lanes.forEach((lane, i) => {
    svg.append(el("text", { class: "lane-label", x: 2, y: i * LH + 11 }, lane));
    svg.append(el("line", { x1: L, x2: W, y1: i * LH + LH, y2: i * LH + LH, stroke: "#eef1f4" }));
  });
  for (const b of e.bars) {
    const i = lanes.indexOf(b.lane);
    const x0 = Math.max(L, x(b.start)), x1 = Math.max(x0 + 1.5, x(b.end));
    const r = el("rect", { class: "bar " + b.outcome, x: x0.toFixed(1), y: i * LH + 2,
      width: (x1 - x0).toFixed(1), height: LH - 3 });
    r.append(el("title", {}, b.fn + " (attempt " + b.attempt + ") " + b.outcome + ", " +
      ms((b.end - b.start) / 1000)));
    svg.append(r);
  }
  svg.append(el("text", { class: "lane-label", x: W - 4, y: H - 2, "text-anchor": "end" }, "now"));
  svg.append(el("text", { class: "lane-label", x: L, y: H - 2 }, "-" + windowMs / 1000 + " s"));
  return [el("h3", {}, "Task stream ", el("span", { class: "legend" },
    el("span", { style: "--c: var(--ok)" }, "completed"), el("span", { style: "--c: var(--bad)" },
    "failed"), el("span", { style: "--c: var(--off)" }, "cancelled"))), svg];
}

function chart(e) {
  const t = e.timeline, W = 1000, H = 70, n = t.length;
  const max = Math.max(1, ...t.map((s) => s.completed + s.failed));
  const lat = t.map((s) => s.runs ? s.runMs / s.runs : null);
  const maxLat = Math.max(1, ...lat.filter((v) => v !== null));
  const svg = el("svg", { class: "chart", viewBox: "0 0 " + W + " " + H,
    preserveAspectRatio: "none", height: H });
  const bw = W / n;
  t.forEach((s, i) => {
    const hOk = (s.completed / max) * (H - 12), hBad = (s.failed / max) * (H - 12);
    if (hOk) svg.append(el("rect", { class: "completed", x: i * bw, y: H - hOk, width: bw * 0.9, height: hOk }));
    if (hBad) svg.append(el("rect", { class: "failed", x: i * bw, y: H - hOk - hBad, width: bw * 0.9, height: hBad }));
  });
  const pts = lat.map((v, i) => v === null ? null : (i * bw + bw / 2) + "," + (H - (v / maxLat) * (H - 12)))
    .filter(Boolean).join(" ");
  if (pts) svg.append(el("polyline", { points: pts, fill: "none", stroke: "#6f42c1", "stroke-width": 1.5 }));
  const total = t.slice(-10).reduce((a, s) => a + s.completed + s.failed, 0) / 10;
  return [el("h3", {}, "Throughput (bars, peak " + max + "/s) and mean run time (line, peak " +
    ms(maxLat / 1000) + "), last " + n + " s · now " + total.toFixed(1) + "/s"), svg];
}

function extras(e) {
  const out = [];
  if (e.circuits.length) {
    const chips = el("div", { class: "chips" });
    for (const c of e.circuits) {
      chips.append(el("span", { class: "chip circuit " + CIRCUIT[c.state] }, c.domain + ": " + CIRCUIT[c.state]));
    }
    out.push(el("h3", {}, "Circuits"), chips);
  }
  if (e.cluster) {
    out.push(el("h3", {}, "Cluster"), el("div", { class: "numbers cluster" },
      el("span", {}, "workers ", el("b", {}, String(e.cluster.workers.length))),
      el("span", {}, "stream depth ", el("b", {}, String(e.cluster.streamDepth))),
      el("span", {}, "redeliveries ", el("b", {}, String(e.cluster.redeliveries)))));
  }
  const list = el("ul", { class: "failures" });
  for (const f of e.failures) {
    list.append(el("li", {}, new Date(f.at).toLocaleTimeString() + " ", el("b", {}, f.fn),
      " attempt " + f.attempt + ": ", el("code", {}, f.error)));
  }
  if (!e.failures.length) list.append(el("li", { class: "empty" }, "no failures"));
  out.push(el("h3", {}, "Recent failures"), list);
  return out;
}

function render(snapshot) {
  for (const e of snapshot.executors) {
    const c = card(e.executor);
    c.replaceChildren(el("h2", {}, e.executor + " ", el("small", {}, e.kind)), numbers(e),
      ...workers(e), ...stream(e, snapshot.now, snapshot.window), ...chart(e), ...extras(e));
  }
  status.textContent = "live · " + new Date(snapshot.now).toLocaleTimeString();
  document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
}

const events = new EventSource("events");
events.onmessage = (event) => render(JSON.parse(event.data));
events.onerror = () => {
  // Closed: the server answered with an error (403: a host it does not serve; 503: too many
  // pages open), and the browser does not retry that.
  status.textContent = events.readyState === EventSource.CLOSED
    ? "refused by the server (reload to retry)" : "disconnected, retrying…";
};
</script>
</body>
</html>
`;

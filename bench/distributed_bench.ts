/**
 * The distributed executor on loopback against its floor (bare NATS request/reply on the same
 * server) and its peer (BullMQ on Redis with AOF everysec, one worker process at concurrency 8),
 * in one run: contenders take turns in each round, in an order rotated per round, and the table
 * gives medians over rounds with their spread (min–max) and per-round ratios. Measured: sequential
 * round trip p50 (next to the stream's own floor: a bare JetStream publish, pulled by a bare
 * consumer that answers on core NATS and acknowledges), tiny tasks/s with one worker at concurrency 8, tiny tasks/s unchunked on two
 * workers, round trip with 200k outcomes in the results bucket against an empty one, `map` with
 * `chunksize` items/s, and the time from a worker's SIGKILL to its task's redelivered completion.
 *
 * ```sh
 * deno run -A bench/distributed_bench.ts [--rounds 5] [--json] [--only floor,one,proc,two,bullmq,full,map,sigkill]
 * ```
 *
 * `--only` runs the parts named (contenders of the rounds: `floor`, `jsfloor`, `one`, `proc`, `two`,
 * `bullmq`; after them: `full`, the 200k-outcome bucket; `map`; `sigkill`); all by default.
 *
 * @module
 */

import { connect, headers } from "@nats-io/transport-node";
import {
  AckPolicy,
  type ConsumerMessages,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
} from "@nats-io/jetstream";
import { DistributedExecutor } from "../distributed/mod.ts";
import { NatsServer, type Spawned, spawnWorker } from "../distributed/_processes.ts";
import type { Isolation } from "../distributed/_local_pool.ts";
import { add, blockFirst, inc } from "./_distributed_tasks.ts";
import { BullPeer } from "./_bullmq_client.ts";
import { p50, rate } from "./_measure.ts";
import { median } from "./_rounds.ts";

const TASKS = new URL("./_distributed_tasks.ts", import.meta.url).href;
const arg = (name: string, fallback: number) => {
  const at = Deno.args.indexOf(name);
  return at >= 0 ? Number(Deno.args[at + 1]) : fallback;
};
const ROUNDS = arg("--rounds", 5);
const ONLY = Deno.args.includes("--only")
  ? new Set(Deno.args[Deno.args.indexOf("--only") + 1]!.split(","))
  : undefined;
const part = (name: string) => !ONLY || ONLY.has(name);
const TINY = 3_000;
const TINY_TWO = 6_000;
const FILL = 200_000;
const MAP_ITEMS = 400_000;
const CHUNK = 2_000;
const ACK_WAIT = 2_000;
const log = (line: string) => console.error(line);

const server = await NatsServer.start();
const spawned: Spawned[] = [];
const workers = (queue: string, count: number, isolation: Isolation) => {
  for (let i = 0; i < count; i++) {
    spawned.push(spawnWorker({
      url: server.url,
      queue,
      modules: [TASKS],
      concurrency: 8,
      isolation,
      allowSource: false,
      name: `${queue}-${i + 1}`,
      ackWait: ACK_WAIT,
      quiet: true,
    }));
  }
};
const executor = (queue: string) =>
  new DistributedExecutor({
    servers: server.url,
    queue,
    modules: [TASKS],
    ackWait: ACK_WAIT,
    clientId: `bench-${queue}`,
  });
const samples: Record<string, number[]> = {};
const keep = (name: string, value: number): void => {
  (samples[name] ??= []).push(value);
};
let bull: BullPeer | undefined;
let jsConsumed: ConsumerMessages | undefined;
const responder = await connect({ servers: server.url });
const requester = await connect({ servers: server.url });
try {
  responder.subscribe("bench.echo", { callback: (_e, msg) => void msg.respond(msg.data) });
  // The stream's own floor: a bare work-queue stream on file storage, a bare pull consumer on the
  // responder's connection that answers each message on core NATS (to the subject in its header)
  // and acknowledges it, as a worker does, without the executor's envelope, store or notices.
  const jsm = await jetstreamManager(requester);
  await jsm.streams.add({
    name: "BENCH_FLOOR",
    subjects: ["bench.floor.>"],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
  });
  await jsm.consumers.add("BENCH_FLOOR", { durable_name: "floor", ack_policy: AckPolicy.Explicit });
  const floorConsumer = await jetstream(responder).consumers.get("BENCH_FLOOR", "floor");
  const consumed = jsConsumed = await floorConsumer.consume({ max_messages: 8 });
  void (async () => {
    for await (const msg of consumed) {
      responder.publish(msg.headers!.get("reply"), msg.data);
      msg.ack();
    }
  })();
  const floorJs = jetstream(requester);
  let answered: (() => void) | undefined;
  requester.subscribe("bench.floor-reply", { callback: () => answered?.() });
  const jsTrip = () =>
    new Promise<void>((resolve) => {
      answered = resolve;
      const h = headers();
      h.set("reply", "bench.floor-reply");
      floorJs.publish("bench.floor.task", "x", { headers: h }).catch(() => {});
    });
  await responder.flush();
  await requester.flush();
  workers("one", 1, "inline");
  workers("two", 2, "inline");
  workers("proc", 1, "process");
  await using one = executor("one");
  await using two = executor("two");
  await using proc = executor("proc");
  await Promise.all([one.ready(), two.ready(), proc.ready()]);
  if (part("bullmq")) bull = await BullPeer.start(log);

  const contenders: [string, () => Promise<void>][] = [
    ["floor", async () => keep("rt floor", await p50(() => requester.request("bench.echo", "x")))],
    ["jsfloor", async () => keep("rt jetstream", await p50(jsTrip))],
    ["one", async () => {
      keep("rt inline", await p50(() => one.submit(add, 1, 2)));
      keep(
        "tiny one",
        await rate(
          TINY,
          () => Promise.all(Array.from({ length: TINY }, (_, i) => one.submit(add, i, 1))),
        ),
      );
    }],
    ["proc", async () => keep("rt process", await p50(() => proc.submit(add, 1, 2)))],
    ["two", async () => {
      keep(
        "tiny two",
        await rate(
          TINY_TWO,
          () => Promise.all(Array.from({ length: TINY_TWO }, (_, i) => two.submit(add, i, 1))),
        ),
      );
    }],
  ];
  if (bull && part("bullmq")) {
    const peer = bull;
    contenders.push(["bullmq", async () => {
      keep("rt bullmq", await peer.p50());
      keep("tiny bullmq", await peer.rate(TINY));
    }]);
  }
  const runRounds = async (rounds: number) => {
    const list = contenders.filter(([name]) => part(name));
    for (let round = -1; round < rounds; round++) {
      const saved = structuredClone(samples);
      for (let k = 0; k < list.length; k++) {
        const [name, run] = list[(k + Math.max(0, round)) % list.length]!;
        await run();
        if (round < 0) log(`warm-up ${name} done`);
      }
      // The warm-up round is not kept.
      if (round < 0) { for (const key of Object.keys(samples)) samples[key] = saved[key] ?? []; }
      else log(`round ${round + 1}/${rounds} done`);
    }
  };
  await runRounds(ROUNDS);

  // The results bucket with FILL outcomes of the same client, then the round trips again.
  if (part("full")) {
    log(`filling the results bucket with ${FILL} outcomes`);
    const nc = await connect({ servers: server.url });
    const js = jetstream(nc);
    const body = new Uint8Array(40);
    for (let i = 0; i < FILL; i += 2_000) {
      await Promise.all(
        Array.from(
          { length: 2_000 },
          (_, k) => js.publish(`$KV.futs_results.bench-one.fill${i + k}`, body),
        ),
      );
    }
    await nc.close();
    for (let round = 0; round < ROUNDS; round++) {
      keep("rt floor full", await p50(() => requester.request("bench.echo", "x")));
      keep("rt inline full", await p50(() => one.submit(add, 1, 2)));
    }
  }

  // Chunked map and a SIGKILL, once each.
  const items = Array.from({ length: MAP_ITEMS }, (_, i) => i);
  if (part("map")) {
    keep(
      "map",
      await rate(MAP_ITEMS, async () => {
        let n = 0;
        for await (const _ of two.map(inc, items, { chunksize: CHUNK })) n++;
        if (n !== MAP_ITEMS) throw new Error(`map gave ${n} items`);
      }),
    );
  }
  if (part("sigkill")) {
    const dir = await Deno.makeTempDir({ prefix: "futures-bench-" });
    try {
      const future = proc.submit(blockFirst, dir, 7);
      let ran: string | undefined;
      while (ran === undefined) {
        try {
          ran = Deno.readTextFileSync(`${dir}/ran`);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }
      const [child, worker] = ran.split(" ").map(Number) as [number, number];
      const killedAt = performance.now();
      Deno.kill(worker, "SIGKILL");
      Deno.kill(child, "SIGKILL");
      workers("proc", 1, "process");
      if (await future !== 7) throw new Error("wrong value after redelivery");
      keep("sigkill", (performance.now() - killedAt) / 1000);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }
} finally {
  await bull?.close();
  await jsConsumed?.close();
  await requester.close();
  await responder.close();
  await Promise.all(spawned.map((worker) => worker.stop("SIGTERM").catch(() => {})));
  await server.destroy();
}

// --- the table ---
const s = (name: string) => samples[name] ?? [];
const spread = (values: number[], digits: number) =>
  values.length === 0
    ? "–"
    : `${median(values).toFixed(digits)} (${Math.min(...values).toFixed(digits)}–${
      Math.max(...values).toFixed(digits)
    })`;
// Rounds where both were measured (a part left out with --only has no samples).
const perRound = (a: number[], b: number[]) =>
  a.slice(0, b.length).map((value, i) => value / b[i]!);
const rows: string[][] = [];
const row = (
  measure: string,
  contender: string,
  values: number[],
  unit: string,
  ratio = "",
  goal = "",
  met?: boolean,
) =>
  // A part not run (--only) has no row; a goal is judged only on what was measured.
  values.length > 0 && rows.push([
    measure,
    contender,
    unit === "/s" ? `${spread(values, 0)}/s` : `${spread(values, unit === "s" ? 2 : 3)} ${unit}`,
    ratio,
    goal,
    met === undefined || ratio.startsWith("–") ? "" : met ? "yes" : "no",
  ]);
const rtRatio = perRound(s("rt inline"), s("rt floor"));
row("round trip p50", "NATS request/reply (floor)", s("rt floor"), "ms");
if (s("rt jetstream").length) {
  row(
    "round trip p50",
    "bare JetStream publish → pull → reply (the stream's own floor)",
    s("rt jetstream"),
    "ms",
    `${spread(perRound(s("rt jetstream"), s("rt floor")), 2)}× floor`,
  );
}
row(
  "round trip p50",
  "DistributedExecutor, inline",
  s("rt inline"),
  "ms",
  `${spread(rtRatio, 2)}× floor`,
  "≤ 3× floor",
  median(rtRatio) <= 3,
);
if (s("rt jetstream").length) {
  rows.push([
    "round trip p50",
    "DistributedExecutor inline / bare JetStream",
    "",
    `${spread(perRound(s("rt inline"), s("rt jetstream")), 2)}×`,
    "",
    "",
  ]);
}
row(
  "round trip p50",
  "DistributedExecutor, process",
  s("rt process"),
  "ms",
  `${spread(perRound(s("rt process"), s("rt floor")), 2)}× floor`,
);
if (s("rt bullmq").length) {
  row(
    "round trip p50",
    "BullMQ on Redis",
    s("rt bullmq"),
    "ms",
    `${spread(perRound(s("rt bullmq"), s("rt floor")), 2)}× floor`,
  );
  const vs = perRound(s("rt bullmq"), s("rt inline"));
  rows.push([
    "round trip p50",
    "BullMQ / DistributedExecutor inline",
    "",
    `${spread(vs, 2)}×`,
    "> 1",
    vs.length === 0 ? "" : median(vs) > 1 ? "yes" : "no",
  ]);
}
row("tiny tasks/s, 1 worker × 8", "DistributedExecutor, inline", s("tiny one"), "/s");
if (s("tiny bullmq").length) {
  row("tiny tasks/s, 1 worker × 8", "BullMQ on Redis", s("tiny bullmq"), "/s");
  const vs = perRound(s("tiny one"), s("tiny bullmq"));
  rows.push([
    "tiny tasks/s, 1 worker × 8",
    "DistributedExecutor / BullMQ",
    "",
    `${spread(vs, 2)}×`,
    "> 1",
    vs.length === 0 ? "" : median(vs) > 1 ? "yes" : "no",
  ]);
}
row(
  "tiny tasks/s unchunked, 2 workers × 8",
  "DistributedExecutor, inline",
  s("tiny two"),
  "/s",
  "",
  "≥ 5,000/s",
  median(s("tiny two")) >= 5_000,
);
const full = perRound(s("rt inline full"), s("rt inline").slice(-s("rt inline full").length));
row(
  `round trip p50, ${FILL / 1000}k outcomes stored`,
  "DistributedExecutor, inline",
  s("rt inline full"),
  "ms",
  `${spread(full, 2)}× empty bucket`,
  "≤ 1.5×",
  median(full) <= 1.5,
);
row(
  `map items/s (chunksize ${CHUNK}), 2 workers`,
  "DistributedExecutor, inline",
  s("map"),
  "/s",
  "",
  "> 100k/s",
  median(s("map")) > 100_000,
);
row(
  `SIGKILL → redelivered completion (ack_wait ${ACK_WAIT / 1000} s)`,
  "DistributedExecutor, process",
  s("sigkill"),
  "s",
  "",
  "≤ ack_wait + 1 s",
  median(s("sigkill")) <= ACK_WAIT / 1000 + 1,
);

if (Deno.args.includes("--json")) {
  console.log(JSON.stringify({ rounds: ROUNDS, samples }, null, 2));
} else {
  console.log(
    `${ROUNDS} rounds; median (min–max) over rounds; ratios are per round, then their median`,
  );
  console.log("| measure | contender | result | ratio | goal | met |");
  console.log("| --- | --- | --- | --- | --- | --- |");
  for (const r of rows) console.log(`| ${r.join(" | ")} |`);
}

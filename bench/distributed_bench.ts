/**
 * The distributed executor on loopback, against its floor (bare NATS request/reply) and against
 * the local ProcessPoolExecutor, in one run: tiny tasks/s, sequential round trip p50, `map` with
 * `chunksize` items/s, and the time from a worker's SIGKILL to its task's redelivered completion.
 *
 * ```sh
 * deno run -A bench/distributed_bench.ts [--json]
 * ```
 *
 * @module
 */

import { connect } from "@nats-io/transport-node";
import { ProcessPoolExecutor } from "../mod.ts";
import { DistributedExecutor } from "../distributed/mod.ts";
import { NatsServer } from "../distributed/_processes.ts";
import { add, blockFirst, inc } from "./_distributed_tasks.ts";

const TASKS = new URL("./_distributed_tasks.ts", import.meta.url);
const WORKERS = 2;
const TINY = 3_000;
const SEQUENTIAL = 500;
const MAP_ITEMS = 400_000;
const CHUNK = 2_000;
const ACK_WAIT = 2_000;

interface Row {
  measure: string;
  contender: string;
  value: number;
  unit: string;
  goal?: string;
  met?: boolean;
}
const rows: Row[] = [];
const log = (line: string) => console.error(line);

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function roundTrips(once: () => PromiseLike<unknown>, n: number): Promise<number> {
  for (let i = 0; i < 50; i++) await once();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await once();
    samples.push(performance.now() - start);
  }
  return p50(samples);
}

async function throughput(submitAll: () => Promise<unknown>, n: number): Promise<number> {
  const start = performance.now();
  await submitAll();
  return n / ((performance.now() - start) / 1000);
}

// The floor: bare request/reply through a nats-server.
const server = await NatsServer.start();
let floor: number;
try {
  const responder = await connect({ servers: server.url });
  const requester = await connect({ servers: server.url });
  responder.subscribe("bench.echo", {
    callback: (_e, msg) => {
      msg.respond(msg.data);
    },
  });
  await responder.flush();
  floor = await roundTrips(() => requester.request("bench.echo", "x"), SEQUENTIAL * 4);
  rows.push({
    measure: "round trip p50",
    contender: "NATS request/reply",
    value: floor,
    unit: "ms",
  });
  await requester.close();
  await responder.close();
} finally {
  await server.destroy();
}
log(`floor ${floor.toFixed(3)} ms`);

// The local process pool.
{
  await using pool = new ProcessPoolExecutor({ maxWorkers: WORKERS, modules: [TASKS] });
  const rt = await roundTrips(() => pool.submit(add, 1, 2), SEQUENTIAL);
  rows.push({ measure: "round trip p50", contender: "ProcessPoolExecutor", value: rt, unit: "ms" });
  const rate = await throughput(
    () => Promise.all(Array.from({ length: TINY }, (_, i) => pool.submit(add, i, 1))),
    TINY,
  );
  rows.push({ measure: "tiny tasks/s", contender: "ProcessPoolExecutor", value: rate, unit: "/s" });
  log(`process pool ${rt.toFixed(3)} ms, ${rate.toFixed(0)}/s`);
}

// The distributed executor: embedded server, WORKERS local worker processes.
{
  await using executor = new DistributedExecutor({
    modules: [TASKS],
    workers: WORKERS,
    ackWait: ACK_WAIT,
  });
  await executor.ready();
  const rt = await roundTrips(() => executor.submit(add, 1, 2), SEQUENTIAL);
  rows.push({
    measure: "round trip p50",
    contender: "DistributedExecutor",
    value: rt,
    unit: "ms",
    goal: `≤ 3x floor (${(3 * floor).toFixed(2)} ms)`,
    met: rt <= 3 * floor,
  });
  const rate = await throughput(
    () => Promise.all(Array.from({ length: TINY }, (_, i) => executor.submit(add, i, 1))),
    TINY,
  );
  rows.push({ measure: "tiny tasks/s", contender: "DistributedExecutor", value: rate, unit: "/s" });
  log(`distributed ${rt.toFixed(3)} ms, ${rate.toFixed(0)}/s`);

  const items = Array.from({ length: MAP_ITEMS }, (_, i) => i);
  const mapRate = await throughput(async () => {
    let n = 0;
    for await (const _ of executor.map(inc, items, { chunksize: CHUNK })) n++;
    if (n !== MAP_ITEMS) throw new Error(`map gave ${n} items`);
  }, MAP_ITEMS);
  rows.push({
    measure: `map items/s (chunksize ${CHUNK})`,
    contender: "DistributedExecutor",
    value: mapRate,
    unit: "/s",
    goal: "> 100k/s on 2 workers",
    met: mapRate > 100_000,
  });
  log(`map ${mapRate.toFixed(0)} items/s`);

  // A worker SIGKILLed while it runs a task: time until the redelivered run completes.
  const dir = await Deno.makeTempDir({ prefix: "futures-bench-" });
  try {
    const future = executor.submit(blockFirst, dir, 7);
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
    if (await future !== 7) throw new Error("wrong value after redelivery");
    const seconds = (performance.now() - killedAt) / 1000;
    rows.push({
      measure: `SIGKILL → redelivered completion (ack_wait ${ACK_WAIT / 1000} s)`,
      contender: "DistributedExecutor",
      value: seconds,
      unit: "s",
      goal: `≤ ack_wait + 1 s`,
      met: seconds <= ACK_WAIT / 1000 + 1,
    });
    log(`redelivery ${seconds.toFixed(2)} s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

if (Deno.args.includes("--json")) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  console.log("| measure | contender | result | goal | met |");
  console.log("| --- | --- | --- | --- | --- |");
  for (const row of rows) {
    const value = row.unit === "/s"
      ? `${Math.round(row.value).toLocaleString("en")}/s`
      : `${row.value.toFixed(row.unit === "s" ? 2 : 3)} ${row.unit}`;
    console.log(
      `| ${row.measure} | ${row.contender} | ${value} | ${row.goal ?? ""} | ${
        row.met === undefined ? "" : row.met ? "yes" : "no"
      } |`,
    );
  }
}

#!/usr/bin/env -S deno run -A
/**
 * Reading a large payload back from the distributed executor's object store: chunk by chunk with
 * direct gets (`Blobs.get()`, what the executor and its workers do) against the object store's own
 * reader (`getBlob()`, an ordered push consumer per read), taking turns on one nats-server with
 * file storage. Figures are medians in ms over the rounds; the ratio is taken per round.
 *
 * This is the measure behind reading payloads with direct gets: each step is a request with a
 * timeout, so a payload deleted while it is read fails the read instead of leaving it waiting,
 * and it must not cost more than the reader it replaces.
 *
 * ```sh
 * deno run -A bench/payload_bench.ts                 # 0.3, 1, 16 and 64 MiB
 * deno run -A bench/payload_bench.ts --rounds 5 --sizes 1,16
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { NatsServer } from "../distributed/_processes.ts";
import { Blobs } from "../distributed/_stores.ts";
import { BLOBS, defaultLayout } from "../distributed/_layout.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "9" },
    sizes: { type: "string", default: "0.3,1,16,64" },
  },
});
const rounds = Number(values.rounds);
const sizes = values.sizes.split(",").map(Number);
if (!(rounds >= 1) || sizes.some((size) => !(size > 0))) {
  throw new RangeError("--rounds must be a positive number and --sizes positive MiB, by commas");
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const server = await NatsServer.start();
const nc = await connect({ servers: server.url });
try {
  const blobs = new Blobs(jetstream(nc), defaultLayout);
  console.log(`${rounds} rounds on nats-server ${nc.info?.version}, file storage`);
  console.log("size      direct gets   getBlob()   ratio (min–max)");
  for (const mib of sizes) {
    const name = `payload-${mib}`;
    await blobs.put(name, new Uint8Array(Math.floor(mib * (1 << 20))).fill(7));
    const store = await new Objm(jetstream(nc)).open(BLOBS);
    const direct: number[] = [];
    const reader: number[] = [];
    // One read of each first: connections and code warm.
    await blobs.get(name);
    await store.getBlob(name);
    for (let round = 0; round < rounds; round++) {
      // The order alternates per round.
      for (const which of round % 2 ? ["reader", "direct"] : ["direct", "reader"]) {
        const start = performance.now();
        if (which === "direct") await blobs.get(name);
        else await store.getBlob(name);
        (which === "direct" ? direct : reader).push(performance.now() - start);
      }
    }
    const ratios = direct.map((ms, i) => ms / reader[i]!);
    console.log(
      `${String(mib).padEnd(4)} MiB  ${median(direct).toFixed(1).padStart(8)} ms  ${
        median(reader).toFixed(1).padStart(7)
      } ms   ${median(ratios).toFixed(2)}× (${Math.min(...ratios).toFixed(2)}–${
        Math.max(...ratios).toFixed(2)
      })`,
    );
  }
} finally {
  await nc.close();
  await server.destroy();
}

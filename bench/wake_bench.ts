#!/usr/bin/env -S deno run -A --no-config
/**
 * What it costs to wake an idle worker thread, the floor under any sequential round trip: one
 * round trip through `postMessage`, through shared memory with the worker asleep in
 * `Atomics.wait` (the host waits with `Atomics.waitAsync`, and each side wakes the other with
 * `Atomics.notify`), and through shared memory with the worker spinning (it never sleeps, so it
 * burns a core while idle). Rounds alternate the three; figures are p50 and p99 in µs.
 *
 * This is the measure behind the decision not to build an `Atomics.waitAsync` fast path for an
 * idle pool worker: if waking a sleeping thread costs what a message costs, only a spinning
 * worker is faster, and a pool cannot spin a core per idle worker.
 *
 * ```sh
 * deno run -A bench/wake_bench.ts               # 7 rounds of 5,000 trips
 * deno run -A bench/wake_bench.ts --rounds 3 --trips 2000
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";

// The worker's side, as source: a data URL keeps the bench in one file.
const WORKER_SOURCE = `
self.onmessage = (event) => {
  const { mode, buffer } = event.data;
  if (mode === "message") {
    self.onmessage = (e) => self.postMessage(e.data + 1);
    self.postMessage("ready");
    return;
  }
  // [0]: the host's request count, [1]: the worker's answer count, [2]: 1 to stop.
  const ia = new Int32Array(buffer);
  self.postMessage("ready");
  let seen = 0;
  for (;;) {
    if (mode === "sleep") Atomics.wait(ia, 0, seen);
    else while (Atomics.load(ia, 0) === seen && Atomics.load(ia, 2) === 0);
    if (Atomics.load(ia, 2) !== 0) break;
    seen = Atomics.load(ia, 0);
    Atomics.store(ia, 1, seen);
    Atomics.notify(ia, 1);
  }
  self.close();
};
`;
const WORKER_URL = `data:application/javascript,${encodeURIComponent(WORKER_SOURCE)}`;

type Mode = "message" | "sleep" | "spin";
const MODES: Mode[] = ["message", "sleep", "spin"];

interface Side {
  trip(): Promise<void>;
  close(): void;
}

async function start(mode: Mode): Promise<Side> {
  const worker = new Worker(WORKER_URL, { type: "module" });
  const ia = new Int32Array(new SharedArrayBuffer(12));
  const ready = new Promise<void>((resolve) => {
    worker.onmessage = () => resolve();
  });
  worker.postMessage({ mode, buffer: ia.buffer });
  await ready;
  if (mode === "message") {
    let next: (() => void) | undefined;
    worker.onmessage = () => next?.();
    return {
      trip: () =>
        new Promise<void>((resolve) => {
          next = resolve;
          worker.postMessage(1);
        }),
      close: () => worker.terminate(),
    };
  }
  let count = 0;
  return {
    async trip() {
      count++;
      Atomics.store(ia, 0, count);
      Atomics.notify(ia, 0);
      // Waits until the answer count moves past the previous one.
      while (Atomics.load(ia, 1) !== count) {
        const wait = Atomics.waitAsync(ia, 1, count - 1);
        if (wait.async) await wait.value;
      }
    },
    close() {
      Atomics.store(ia, 2, 1);
      Atomics.store(ia, 0, -1);
      Atomics.notify(ia, 0);
      worker.terminate();
    },
  };
}

async function latencies(side: Side, trips: number): Promise<{ p50: number; p99: number }> {
  const micros = new Float64Array(trips);
  for (let i = 0; i < trips; i++) {
    const t = performance.now();
    await side.trip();
    micros[i] = (performance.now() - t) * 1000;
  }
  micros.sort();
  return { p50: micros[trips >> 1]!, p99: micros[Math.floor(trips * 0.99)]! };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "7" },
      trips: { type: "string", default: "5000" },
    },
  });
  const rounds = Number(values.rounds);
  const trips = Number(values.trips);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(trips) || trips < 100) {
    console.error("Usage: deno run -A bench/wake_bench.ts [--rounds N >= 1] [--trips N >= 100]");
    Deno.exit(2);
  }
  const samples: Record<Mode, { p50: number; p99: number }[]> = {
    message: [],
    sleep: [],
    spin: [],
  };
  for (let round = -1; round < rounds; round++) {
    for (let k = 0; k < MODES.length; k++) {
      const mode = MODES[(k + Math.max(round, 0)) % MODES.length]!;
      // One side at a time: a spinning worker would take a core from the others.
      const side = await start(mode);
      try {
        const result = await latencies(side, trips);
        if (round >= 0) samples[mode].push(result);
      } finally {
        side.close();
      }
    }
  }
  const p50 = (mode: Mode) => median(samples[mode].map((s) => s.p50));
  const p99 = (mode: Mode) => median(samples[mode].map((s) => s.p99));
  const ratio = (mode: Mode) =>
    median(samples[mode].map((s, i) => s.p50 / samples.message[i]!.p50));
  console.log(
    `Deno ${Deno.version.deno}, ${rounds} rounds of ${trips} trips, load average ${
      Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
    }; medians, ratio to postMessage per round`,
  );
  const labels: Record<Mode, string> = {
    message: "postMessage, worker idle in its event loop",
    sleep: "shared memory, worker asleep in Atomics.wait",
    spin: "shared memory, worker spinning",
  };
  for (const mode of MODES) {
    console.log(
      `${labels[mode].padEnd(46)} p50 ${p50(mode).toFixed(1).padStart(6)} µs  p99 ${
        p99(mode).toFixed(1).padStart(7)
      } µs  ${ratio(mode).toFixed(2)}x`,
    );
  }
}

if (import.meta.main) await main();

/**
 * # Fan-out / fan-in: a checksum of a large file in slices
 *
 * What it shows: one big job split into independent pieces (fan-out), each piece run on a
 * `WorkerPoolExecutor`, and the partial results joined into the answer (fan-in).
 *
 * The job is the CRC-32 of a file (by default a generated one of 128 MiB). It is computed twice:
 *
 * 1. in one pass on the main thread, reading the file from start to end;
 * 2. in 1 MiB slices on a pool of workers: each task gets a path, an offset and a length, reads
 *    its own slice (no file data crosses the worker boundary) and returns the slice's CRC. The
 *    CRCs are then joined in file order with `crc32Combine`, which shifts a CRC past the bytes
 *    that follow it (zlib's `crc32_combine`).
 *
 * Both must give the same CRC: the table says how long each took, and the program exits with
 * code 1 if they differ. Python users know the pattern as `executor.map` over chunk offsets.
 *
 * ```sh
 * deno run -A examples/fan_out_fan_in.ts                       # 128 MiB generated file
 * deno run -A examples/fan_out_fan_in.ts --size 512 --workers 4
 * deno run -A examples/fan_out_fan_in.ts --file ./some.iso     # any file of yours
 * deno run -A examples/fan_out_fan_in.ts --help
 * ```
 *
 * Example output (128 MiB, a shared 2-core machine; one-pass reading competes with nothing, the
 * workers share the cores with the main thread that reads their results):
 *
 * ```text
 * mode        workers  slices  seconds  MiB/s  speedup
 * one pass          1       1     0.46  276.7    1.00x
 * fan-out/in        2     128     0.32  402.3    1.45x
 *
 * CRC-32 in one pass:        0x0d5d83b5
 * CRC-32 from 128 slices:    0x0d5d83b5 (match)
 * ```
 *
 * @module
 */

import { asCompleted, WorkerPoolExecutor } from "../mod.ts";
import { commandLine, Progress, refuse, table, tempDir } from "./_cli.ts";
import { crc32, crc32Combine, crc32OfSlice } from "./fan_out_fan_in_tasks.ts";

const COMMAND = {
  name: "fan_out_fan_in.ts",
  summary:
    "Computes the CRC-32 of a large file in one pass on the main thread, then in slices on a\n" +
    "WorkerPoolExecutor joined with crc32Combine, and compares the two.",
  flags: {
    size: { type: "integer", min: 1, default: 128, arg: "MiB", help: "size of the generated file" },
    slice: { type: "integer", min: 1, default: 1024, arg: "KiB", help: "size of one slice" },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "workers in the pool",
    },
    file: { type: "string", default: "", arg: "PATH", help: "checksum this file instead" },
  },
} as const;

const MiB = 1024 * 1024;

/** Writes `mib` MiB of pseudo-random bytes (xorshift32, so every run writes the same file). */
async function generate(path: string, mib: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  const block = new Uint32Array(MiB / 4);
  let state = 2463534242;
  const bar = new Progress("generating", mib);
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < block.length; j++) {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      block[j] = state;
    }
    const bytes = new Uint8Array(block.buffer);
    for (let written = 0; written < bytes.length;) {
      written += await file.write(bytes.subarray(written));
    }
    bar.tick();
  }
}

/** The CRC of the whole file, read once from start to end on this thread. */
async function onePass(path: string, size: number): Promise<number> {
  using file = await Deno.open(path);
  const buffer = new Uint8Array(MiB);
  const bar = new Progress("one pass  ", Math.ceil(size / MiB));
  let crc = 0;
  for (let n; (n = await file.read(buffer)) !== null;) {
    crc = crc32(buffer.subarray(0, n), crc);
    bar.tick();
  }
  return crc;
}

/** The CRC of the whole file from the CRCs of its slices, computed on `workers` workers. */
async function fanOutFanIn(
  path: string,
  size: number,
  sliceBytes: number,
  workers: number,
): Promise<{ crc: number; slices: number; ms: number }> {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: workers,
    modules: [new URL("./fan_out_fan_in_tasks.ts", import.meta.url)],
  });
  // Start the workers before the clock, so that the timing is the checksum's alone.
  await Promise.all(Array.from({ length: workers }, () => pool.submit(crc32, new Uint8Array())));

  const started = performance.now();
  const slices: { offset: number; length: number }[] = [];
  for (let offset = 0; offset < size; offset += sliceBytes) {
    slices.push({ offset, length: Math.min(sliceBytes, size - offset) });
  }
  // Fan out: one task per slice.
  const futures = slices.map(({ offset, length }) =>
    pool.submit(crc32OfSlice, path, offset, length)
  );
  const bar = new Progress("fan-out/in", futures.length);
  for await (const _ of asCompleted(futures)) bar.tick();
  // Fan in: in file order, each slice's CRC is appended to the CRC of everything before it.
  let crc = 0;
  for (const [i, future] of futures.entries()) {
    crc = crc32Combine(crc, await future, slices[i]!.length);
  }
  return { crc, slices: slices.length, ms: performance.now() - started };
}

const hex = (crc: number) => `0x${crc.toString(16).padStart(8, "0")}`;

async function main(): Promise<number> {
  const flags = commandLine(COMMAND);
  if (flags.file !== "") {
    const info = await Deno.stat(flags.file).catch((error: Error) => error);
    if (info instanceof Error) refuse(COMMAND, `--file ${flags.file}: ${info.message}`);
    if (!info.isFile) refuse(COMMAND, `--file ${flags.file}: not a file`);
  }
  const temp = flags.file === "" ? await tempDir("fan_out_fan_in_") : undefined;
  const dir = temp?.path ?? "";
  try {
    const path = flags.file === "" ? `${dir}/data.bin` : flags.file;
    if (flags.file === "") await generate(path, flags.size);
    const { size } = await Deno.stat(path);
    console.log(`CRC-32 of ${path} (${(size / MiB).toFixed(1)} MiB)\n`);

    const started = performance.now();
    const single = await onePass(path, size);
    const singleMs = performance.now() - started;
    const fanned = await fanOutFanIn(path, size, flags.slice * 1024, flags.workers);

    const rate = (ms: number) => (size / MiB / (ms / 1000)).toFixed(1);
    console.log(table(
      ["mode", "workers", "slices", "seconds", "MiB/s", "speedup"],
      [
        ["one pass", 1, 1, (singleMs / 1000).toFixed(2), rate(singleMs), "1.00x"],
        [
          "fan-out/in",
          flags.workers,
          fanned.slices,
          (fanned.ms / 1000).toFixed(2),
          rate(fanned.ms),
          `${(singleMs / fanned.ms).toFixed(2)}x`,
        ],
      ],
    ));
    const match = single === fanned.crc;
    console.log(`\nCRC-32 in one pass:        ${hex(single)}`);
    console.log(
      `CRC-32 from ${`${fanned.slices} slices:`.padEnd(14)} ${hex(fanned.crc)} (${
        match ? "match" : "MISMATCH"
      })`,
    );
    return match ? 0 : 1;
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true });
    temp?.release();
  }
}

if (import.meta.main) Deno.exitCode = await main();

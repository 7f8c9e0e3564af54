/**
 * # Map-reduce: a word count over many files
 *
 * What it shows: the map step runs in parallel on a `WorkerPoolExecutor` (`pool.map` over the
 * file paths, one file per task: each worker reads its file and counts its words), and the reduce
 * step merges the per-file counts on the main thread as the results arrive, in input order. Then
 * the ten most frequent words.
 *
 * By default it writes 100 text files of 20,000 words each (a made-up vocabulary whose word
 * frequencies fall off like a natural language's) to a temporary folder and removes them at the
 * end; `--input DIR` counts the `.txt` files of a folder of yours instead (a folder without any
 * is reported as having nothing to count). The same count on the main thread alone gives the
 * baseline, and both counts must agree.
 *
 * ```sh
 * deno run -A examples/map_reduce.ts
 * deno run -A examples/map_reduce.ts --files 400 --workers 4
 * deno run -A examples/map_reduce.ts --input ./books
 * deno run -A examples/map_reduce.ts --help
 * ```
 *
 * Example output (the start of it), from a shared 2-core machine where another program was using
 * one of the cores: the map step gains little when there is no free core for the second worker.
 *
 * ```text
 * 2,000,000 words, 2,000 distinct, in 100 files
 *
 * count on     seconds  files/s  speedup
 * main thread     0.64      157    1.00x
 * 2 workers       0.57      176    1.12x
 *
 * rank  word   count   share
 *    1  kalo  244208  12.21%
 *    2  lolo  122729   6.14%
 * ```
 *
 * @module
 */

import { WorkerPoolExecutor } from "../mod.ts";
import { commandLine, count, Progress, refuse, table, tempDir } from "./_cli.ts";
import { countWordsInFile } from "./map_reduce_tasks.ts";

const COMMAND = {
  name: "map_reduce.ts",
  summary:
    "Counts the words of many text files: the map step on a WorkerPoolExecutor, the reduce\n" +
    "step on the main thread, then the top words; compared with the same count on the main thread.",
  flags: {
    files: { type: "integer", min: 1, default: 100, help: "how many files to generate" },
    words: { type: "integer", min: 1, default: 20_000, help: "words per generated file" },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "workers in the pool",
    },
    top: { type: "integer", min: 1, default: 10, help: "how many of the top words to show" },
    input: { type: "string", default: "", arg: "DIR", help: "count the .txt files of DIR instead" },
  },
} as const;

/** A made-up vocabulary: word `k` is spelled from syllables, so no word list is needed. */
function vocabulary(size: number): string[] {
  const syllables = ["ka", "lo", "mi", "ne", "ru", "ta", "po", "se", "di", "vu", "an", "el"];
  return Array.from({ length: size }, (_, k) => {
    let word = "";
    for (let n = k + syllables.length; n > 0; n = Math.floor(n / syllables.length)) {
      word += syllables[n % syllables.length];
    }
    return word;
  });
}

/** Writes `files` files of `words` words; word `k` comes up about `1 / (k + 1)` as often. */
async function generate(dir: string, files: number, words: number): Promise<string[]> {
  const vocab = vocabulary(2_000);
  const weights = vocab.map((_, k) => 1 / (k + 1));
  const total = weights.reduce((a, b) => a + b);
  const cumulative: number[] = [];
  weights.reduce((sum, w) => (cumulative.push((sum + w) / total), sum + w), 0);
  let state = 12345;
  const random = () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32;
  };
  const pick = () => {
    const r = random();
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! < r) low = mid + 1;
      else high = mid;
    }
    return vocab[low]!;
  };

  const bar = new Progress("generating", files);
  const paths: string[] = [];
  for (let f = 0; f < files; f++) {
    const lines: string[] = [];
    for (let w = 0; w < words; w += 12) {
      const line = Array.from({ length: Math.min(12, words - w) }, pick);
      // Sentences start with a capital and end with a full stop: the count must see past both.
      line[0] = line[0]!.charAt(0).toUpperCase() + line[0]!.slice(1);
      lines.push(`${line.join(" ")}.`);
    }
    const path = `${dir}/text_${String(f).padStart(4, "0")}.txt`;
    await Deno.writeTextFile(path, lines.join("\n"));
    paths.push(path);
    bar.tick();
  }
  return paths;
}

/** Adds the counts of one file to the running total: the reduce step. */
function merge(total: Map<string, number>, counts: Map<string, number>): void {
  for (const [word, n] of counts) total.set(word, (total.get(word) ?? 0) + n);
}

/** The count on the main thread alone: the baseline. */
async function countHere(paths: string[]): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  const bar = new Progress("main thread", paths.length);
  for (const path of paths) {
    merge(total, await countWordsInFile(path));
    bar.tick();
  }
  return total;
}

/**
 * The map step on `workers` workers, reduced as the results come back in order; with the time it
 * took, once the workers had started (as the main thread's run has no start-up either).
 */
async function countOnPool(
  paths: string[],
  workers: number,
): Promise<[Map<string, number>, number]> {
  await using pool = new WorkerPoolExecutor({
    maxWorkers: workers,
    modules: [new URL("./map_reduce_tasks.ts", import.meta.url)],
  });
  await Promise.all(Array.from({ length: workers }, () => pool.submit(() => 0)));
  return await timed(async () => {
    const total = new Map<string, number>();
    const bar = new Progress(`${workers} workers`.padEnd(11), paths.length);
    for await (const counts of pool.map(countWordsInFile, paths)) {
      merge(total, counts);
      bar.tick();
    }
    return total;
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

async function main(): Promise<number> {
  const flags = commandLine(COMMAND);
  if (flags.input !== "") {
    const info = await Deno.stat(flags.input).catch((error: Error) => error);
    if (info instanceof Error) refuse(COMMAND, `--input ${flags.input}: ${info.message}`);
    if (!info.isDirectory) refuse(COMMAND, `--input ${flags.input}: not a folder`);
  }
  const temp = flags.input === "" ? await tempDir("map_reduce_") : undefined;
  const dir = temp?.path ?? "";
  try {
    let paths: string[];
    if (dir) paths = await generate(dir, flags.files, flags.words);
    else {
      paths = [];
      for await (const entry of Deno.readDir(flags.input)) {
        if (entry.isFile && entry.name.endsWith(".txt")) paths.push(`${flags.input}/${entry.name}`);
      }
      paths.sort();
      if (paths.length === 0) {
        // Timing a count of nothing would print a meaningless speedup.
        console.log(`No .txt files in ${flags.input}: nothing to count.`);
        return 0;
      }
    }

    const [here, hereMs] = await timed(() => countHere(paths));
    const [pooled, poolMs] = await countOnPool(paths, flags.workers);

    const words = [...pooled.values()].reduce((a, b) => a + b, 0);
    const same = here.size === pooled.size &&
      [...here].every(([word, n]) => pooled.get(word) === n);
    console.log(
      `${count(words)} words, ${count(pooled.size)} distinct, in ${count(paths.length)} files\n`,
    );
    console.log(table(
      ["count on", "seconds", "files/s", "speedup"],
      [
        ["main thread", (hereMs / 1000).toFixed(2), count(paths.length / (hereMs / 1000)), "1.00x"],
        [
          `${flags.workers} workers`,
          (poolMs / 1000).toFixed(2),
          count(paths.length / (poolMs / 1000)),
          `${(hereMs / poolMs).toFixed(2)}x`,
        ],
      ],
    ));

    // Most frequent first; ties in alphabetical order, so that the list is the same every run.
    const top = [...pooled].sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0))
      .slice(0, flags.top);
    console.log(`\n${
      table(
        ["rank", "word", "count", "share"],
        top.map(([word, n], i) => [i + 1, word, n, `${((n / words) * 100).toFixed(2)}%`]),
      )
    }`);
    if (!same) console.error("The two counts differ: this is a bug.");
    return same ? 0 : 1;
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true });
    temp?.release();
  }
}

if (import.meta.main) Deno.exitCode = await main();

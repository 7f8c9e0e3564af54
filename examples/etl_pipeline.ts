/**
 * # ETL pipeline: read on an I/O pool, transform on workers, write on the I/O pool
 *
 * What it shows: a hybrid pipeline of two executors joined by a task graph. Each file gets three
 * tasks, submitted all at once: `io.submit(read, path)`, then `cpu.submit(summarize, read)`, then
 * `io.submit(write, out, summary)`. A future passed as an argument is awaited by the executor
 * before the task is queued, so each file moves to the next stage as soon as its own input is
 * ready: the workers start on the first file while the others are still being read, and writing
 * starts before the last file is parsed. A task waiting for its inputs holds no slot.
 *
 * The input is `--files` CSV files of `--rows` sales each, generated in a temporary folder that is
 * removed at the end; the transform totals each file by region. `--missing N` adds N paths that do
 * not exist: their read fails, and the transform and write that depend on it reject with
 * `DependencyError` (its `cause` is the error of the input that failed: the read's for the
 * transform, the transform's for the write), reported at the end while the other files
 * go through. The same work done one file and one step at a time gives the baseline; both must
 * write the same files.
 *
 * ```sh
 * deno run -A examples/etl_pipeline.ts
 * deno run -A examples/etl_pipeline.ts --files 40 --rows 20000 --missing 1
 * deno run -A examples/etl_pipeline.ts --out ./totals   # keep the output files
 * deno run -A examples/etl_pipeline.ts --help
 * ```
 *
 * Example output, from a shared 2-core machine that other programs were loading (the workers got
 * less of a core each than the main thread did alone, hence the small speedup):
 *
 * ```text
 * 20 files of 50,000 sales, 1 missing
 *
 * stage      executor   tasks  failed  task time s  first start s  last end s
 * read       async         21       1         1.67           0.01        0.25
 * transform  2 workers     20       0         2.87           0.16        1.72
 * write      async         20       0         0.12           0.33        1.72
 *
 * run         seconds  speedup
 * sequential     2.07    1.00x
 * pipeline       1.72    1.20x
 *
 * 20 of 21 files written to a temporary folder; 1 failed:
 *   missing-1.csv: read failed: NotFound: No such file or directory (os error 2): readfile '/tmp/etl_pipeline_9679c93ce7893c48/missing-1.csv'; transform: DependencyError (cause: NotFound); write: DependencyError (cause: DependencyError)
 * ```
 *
 * The transform starts (0.16 s) before the last read ends (0.25 s), and the writes long before the
 * last transform: no stage waits for the whole of the one before. The pipeline's time includes
 * starting the workers (about 0.2 s here), so on small inputs it comes out slower than the
 * sequential run.
 *
 * @module
 */

import { AsyncPoolExecutor, DependencyError, type Future, WorkerPoolExecutor } from "../mod.ts";
import { commandLine, count, Progress, refuse, seconds, table, tempDir } from "./_cli.ts";
import { formatSummary, generateCsv, summarize, type Summary } from "./etl_tasks.ts";

const COMMAND = {
  name: "etl_pipeline.ts",
  summary:
    "Reads CSV files on an AsyncPoolExecutor, totals them on a WorkerPoolExecutor and writes the\n" +
    "totals on the AsyncPoolExecutor, stages joined by futures; compared with a sequential run.",
  flags: {
    files: { type: "integer", min: 1, default: 20, help: "how many input files to generate" },
    rows: { type: "integer", min: 1, default: 50_000, help: "sales per input file" },
    missing: { type: "integer", min: 0, default: 0, help: "paths that do not exist, to read too" },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "workers in the transform pool",
    },
    io: { type: "integer", min: 1, default: 8, help: "reads and writes in flight at most" },
    out: { type: "string", default: "", arg: "DIR", help: "keep the output files in DIR" },
  },
} as const;

/** The time one stage took: the sum of its tasks' times, and when its first and last ran. */
class Stage {
  tasks = 0;
  failed = 0;
  busyMs = 0;
  firstStart = Infinity;
  lastEnd = 0;

  record(start: number, end: number, ok: boolean): void {
    this.tasks++;
    if (!ok) this.failed++;
    this.busyMs += end - start;
    this.firstStart = Math.min(this.firstStart, start);
    this.lastEnd = Math.max(this.lastEnd, end);
  }
}

/** `fn`, recording each call's time in `stage`: for the tasks that run on this thread. */
function timed<A extends unknown[], R>(stage: Stage, fn: (...args: A) => Promise<R>) {
  return async (...args: A): Promise<R> => {
    const start = performance.now();
    let ok = false;
    try {
      const value = await fn(...args);
      ok = true;
      return value;
    } finally {
      stage.record(start, performance.now(), ok);
    }
  };
}

const read = (path: string) => Deno.readTextFile(path);
const write = (path: string, summary: Summary) => Deno.writeTextFile(path, formatSummary(summary));
const outName = (path: string) => path.replace(/^.*\//, "").replace(/\.csv$/, ".totals.csv");

async function pipeline(paths: string[], out: string, flags: { workers: number; io: number }) {
  await using io = new AsyncPoolExecutor({ maxWorkers: flags.io });
  await using cpu = new WorkerPoolExecutor({
    maxWorkers: flags.workers,
    modules: [new URL("./etl_tasks.ts", import.meta.url)],
  });
  const stages = { read: new Stage(), transform: new Stage(), write: new Stage() };
  const started = performance.now();
  const bar = new Progress("pipeline", paths.length);
  const files = paths.map((path) => {
    const text = io.submit(timed(stages.read, read), path);
    const summary: Future<Summary> = cpu.submit(summarize, text);
    // A worker's task time is measured in the worker; it ended about when its future settled.
    summary.then(
      ({ ms }) => stages.transform.record(performance.now() - ms, performance.now(), true),
      (error) => {
        if (!(error instanceof DependencyError)) {
          stages.transform.record(performance.now(), performance.now(), false);
        }
      },
    );
    const written = io.submit(timed(stages.write, write), `${out}/${outName(path)}`, summary);
    written.then(() => bar.tick(), () => bar.tick());
    return { path, text, summary, written };
  });
  // The futures settle whatever happens: a failed file does not stop the others.
  await Promise.allSettled(files.map((file) => file.written));
  const wallMs = performance.now() - started;
  for (const stage of Object.values(stages)) {
    stage.firstStart -= started;
    stage.lastEnd -= started;
  }
  return { stages, wallMs, files };
}

/** The same work, one file and one step at a time, on this thread. */
async function sequential(paths: string[], out: string): Promise<number> {
  const started = performance.now();
  const bar = new Progress("sequential", paths.length);
  for (const path of paths) {
    try {
      await write(`${out}/${outName(path)}`, summarize(await read(path)));
    } catch {
      // Reported by the pipeline run.
    }
    bar.tick();
  }
  return performance.now() - started;
}

async function main(): Promise<number> {
  const flags = commandLine(COMMAND);
  if (flags.out) {
    // Checked before anything is made: a folder that cannot be made is a bad flag.
    try {
      await Deno.mkdir(flags.out, { recursive: true });
    } catch (error) {
      refuse(COMMAND, `--out ${flags.out}: ${(error as Error).message}`);
    }
  }
  const temp = await tempDir("etl_pipeline_");
  const dir = temp.path;
  try {
    const paths = [];
    for (let f = 0; f < flags.files; f++) {
      const path = `${dir}/sales-${String(f).padStart(4, "0")}.csv`;
      await Deno.writeTextFile(path, generateCsv(f, flags.rows));
      paths.push(path);
    }
    // The missing paths go first: the files behind them must not wait for them.
    for (let m = flags.missing; m > 0; m--) paths.unshift(`${dir}/missing-${m}.csv`);
    const out = flags.out || `${dir}/out`;
    const baseline = `${dir}/sequential`;
    await Deno.mkdir(out, { recursive: true });
    await Deno.mkdir(baseline);

    const { stages, wallMs, files } = await pipeline(paths, out, flags);
    const sequentialMs = await sequential(paths, baseline);

    console.log(
      `${count(flags.files)} files of ${count(flags.rows)} sales, ${flags.missing} missing\n`,
    );
    console.log(table(
      ["stage", "executor", "tasks", "failed", "task time s", "first start s", "last end s"],
      Object.entries(stages).map(([name, s]) => [
        name,
        name === "transform" ? `${flags.workers} workers` : "async",
        s.tasks,
        s.failed,
        seconds(s.busyMs),
        s.tasks ? seconds(s.firstStart) : "-",
        s.tasks ? seconds(s.lastEnd) : "-",
      ]),
    ));
    console.log(`\n${
      table(["run", "seconds", "speedup"], [
        ["sequential", seconds(sequentialMs), "1.00x"],
        ["pipeline", seconds(wallMs), `${(sequentialMs / wallMs).toFixed(2)}x`],
      ])
    }`);

    const failed = [];
    let same = true;
    for (const { path, text, summary, written } of files) {
      const error = await written.exception();
      if (error === undefined) {
        const name = outName(path);
        same &&= await Deno.readTextFile(`${out}/${name}`) ===
          await Deno.readTextFile(`${baseline}/${name}`);
        continue;
      }
      // Each stage's own outcome: the first to fail says why, the ones after it say how.
      const outcomes = [];
      const stages: [string, Future<unknown>][] = [
        ["read", text],
        ["transform", summary],
        ["write", written],
      ];
      for (const [stage, future] of stages) {
        const failure = await future.exception();
        if (failure instanceof DependencyError) {
          outcomes.push(`${stage}: ${failure.name} (cause: ${(failure.cause as Error).name})`);
        } else if (failure instanceof Error) {
          outcomes.push(`${stage} failed: ${failure.name}: ${failure.message}`);
        } else if (failure !== undefined) outcomes.push(`${stage} failed: ${String(failure)}`);
      }
      failed.push(`${path.replace(/^.*\//, "")}: ${outcomes.join("; ")}`);
    }
    console.log(
      `\n${files.length - failed.length} of ${files.length} files written to ${
        flags.out || "a temporary folder"
      }; ${failed.length} failed${failed.length ? ":" : "."}`,
    );
    for (const line of failed) console.log(`  ${line}`);
    if (!same) console.error("The pipeline and the sequential run wrote different files: a bug.");
    return same && failed.length === flags.missing ? 0 : 1;
  } finally {
    await Deno.remove(dir, { recursive: true });
    temp.release();
  }
}

if (import.meta.main) Deno.exitCode = await main();

/**
 * # Password hashing: when a worker pool helps, and when it does not
 *
 * What it shows: PBKDF2-SHA-256 over thousands of passwords, five ways, with the time and the
 * longest stall of the main thread's event loop (how long a timer, a request handler or a
 * progress bar would have had to wait):
 *
 * | mode | API | what runs where |
 * | --- | --- | --- |
 * | main, one by one | `crypto.subtle` | each hash awaited before the next |
 * | main, all at once | `crypto.subtle` | all in flight (an `AsyncPoolExecutor` of 64) |
 * | worker pool | `crypto.subtle` | `WorkerPoolExecutor.map`, in chunks |
 * | main, blocking | `pbkdf2Sync` | one by one on the main thread |
 * | worker pool | `pbkdf2Sync` | `WorkerPoolExecutor.map`, in chunks |
 *
 * What the numbers say: Web Crypto's `deriveBits` already runs off the main thread in Deno, on
 * threads of Deno's own. Awaited one by one it keeps one core busy; with many in flight it keeps
 * every core busy and the event loop stays free (its stalls are the time spent settling thousands
 * of promises). A worker pool has little to add there: within a `map` chunk a worker awaits its
 * hashes one after another, so the pool keeps fewer in flight than the main thread alone does, and
 * it adds the cost of its messages; whether it comes out a little ahead or a little behind the
 * main thread depends on the run and the machine's load. A synchronous
 * hash (`pbkdf2Sync` here; a pure-JavaScript bcrypt or argon2 in practice) is another matter: on
 * the main thread it freezes the event loop for the whole run; on a worker pool the main thread
 * stays responsive, and the hashes use as many cores as are free. Use a pool for work that holds
 * a thread, not for work that is already off it.
 *
 * One run on a shared 2-core machine while another program kept about one core busy (so the pool
 * had little spare CPU to gain speed from; the stalls are the point):
 *
 * ```text
 * mode               API            seconds  hashes/s  longest stall ms
 * main, one by one   crypto.subtle     1.34     1,495                 5
 * main, all at once  crypto.subtle     0.72     2,787                52
 * 2 workers          crypto.subtle     1.27     1,574                64
 * main, blocking     pbkdf2Sync        2.91       686              2914
 * 2 workers          pbkdf2Sync        2.47       810                29
 * ```
 *
 * Every mode must give the same hashes; the program checks it and exits with code 1 otherwise.
 *
 * ```sh
 * deno run -A examples/password_hashing.ts
 * deno run -A examples/password_hashing.ts --passwords 5000 --iterations 10000
 * deno run -A examples/password_hashing.ts --help
 * ```
 *
 * @module
 */

import { AsyncPoolExecutor, type Executor, WorkerPoolExecutor } from "../mod.ts";
import { commandLine, count, Progress, table } from "./_cli.ts";
import { type HashJob, hashPassword, hashPasswordSync } from "./password_hashing_tasks.ts";

const COMMAND = {
  name: "password_hashing.ts",
  summary:
    "Hashes many passwords with PBKDF2 on the main thread and on a WorkerPoolExecutor, with\n" +
    "Web Crypto (already off the main thread) and with pbkdf2Sync (blocking), and compares.",
  flags: {
    passwords: { type: "integer", min: 1, default: 2000, help: "how many passwords" },
    iterations: { type: "integer", min: 1, default: 2000, help: "PBKDF2 iterations per password" },
    workers: {
      type: "integer",
      min: 1,
      default: navigator.hardwareConcurrency || 1,
      help: "workers in the pool",
    },
  },
} as const;

/** Measures the longest gap between two turns of the event loop while it runs. */
function stallMeter(): () => number {
  let longest = 0;
  let last = performance.now();
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
  };
  const timer = setInterval(tick, 1);
  return () => {
    tick();
    clearInterval(timer);
    return longest;
  };
}

interface Mode {
  mode: string;
  api: string;
  run: (jobs: HashJob[], bar: Progress) => Promise<string[]>;
}

/** Maps `fn` over the jobs on `executor`, in input order. */
async function mapOn(
  executor: Executor,
  fn: (job: HashJob) => string | Promise<string>,
  jobs: HashJob[],
  bar: Progress,
  chunksize: number,
): Promise<string[]> {
  const hashes: string[] = [];
  for await (const hash of executor.map(fn, jobs, { chunksize })) {
    hashes.push(hash);
    bar.tick();
  }
  return hashes;
}

async function main(): Promise<number> {
  const flags = commandLine(COMMAND);
  const jobs: HashJob[] = Array.from({ length: flags.passwords }, (_, i) => ({
    password: `password-${i}`,
    salt: `salt-${i}`,
    iterations: flags.iterations,
  }));
  await using pool = new WorkerPoolExecutor({
    maxWorkers: flags.workers,
    modules: [new URL("./password_hashing_tasks.ts", import.meta.url)],
  });
  // Start the workers (and load node:crypto in them) before any clock runs.
  const warmUp = { password: "", salt: "", iterations: 1 };
  await Promise.all(
    Array.from({ length: flags.workers }, () => pool.submit(hashPasswordSync, warmUp)),
  );
  const chunksize = Math.max(1, Math.ceil(jobs.length / (flags.workers * 8)));

  const modes: Mode[] = [
    {
      mode: "main, one by one",
      api: "crypto.subtle",
      run: async (jobs, bar) => {
        const hashes: string[] = [];
        for (const job of jobs) {
          hashes.push(await hashPassword(job));
          bar.tick();
        }
        return hashes;
      },
    },
    {
      mode: "main, all at once",
      api: "crypto.subtle",
      run: async (jobs, bar) => {
        await using inFlight = new AsyncPoolExecutor({ maxWorkers: 64 });
        return mapOn(inFlight, hashPassword, jobs, bar, 1);
      },
    },
    {
      mode: `${flags.workers} workers`,
      api: "crypto.subtle",
      run: (jobs, bar) => mapOn(pool, hashPassword, jobs, bar, chunksize),
    },
    {
      mode: "main, blocking",
      api: "pbkdf2Sync",
      run: (jobs, bar) => {
        const hashes = jobs.map((job) => {
          const hash = hashPasswordSync(job);
          bar.tick();
          return hash;
        });
        return Promise.resolve(hashes);
      },
    },
    {
      mode: `${flags.workers} workers`,
      api: "pbkdf2Sync",
      run: (jobs, bar) => mapOn(pool, hashPasswordSync, jobs, bar, chunksize),
    },
  ];

  console.log(
    `PBKDF2-SHA-256, ${count(flags.iterations)} iterations, ${
      count(jobs.length)
    } passwords, ${navigator.hardwareConcurrency} cores\n`,
  );
  const rows = [];
  const results: string[][] = [];
  for (const { mode, api, run } of modes) {
    const bar = new Progress(`${mode} (${api})`.padEnd(36), jobs.length);
    const stall = stallMeter();
    const started = performance.now();
    const hashes = await run(jobs, bar);
    const ms = performance.now() - started;
    const stalled = stall();
    results.push(hashes);
    rows.push([
      mode,
      api,
      (ms / 1000).toFixed(2),
      count(jobs.length / (ms / 1000)),
      stalled.toFixed(0),
    ]);
  }
  console.log(table(["mode", "API", "seconds", "hashes/s", "longest stall ms"], rows));

  const agree = results.every((hashes) => hashes.join() === results[0]!.join());
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(results[0]!.join("\n")),
  );
  console.log(`\n${jobs[0]!.password} with ${jobs[0]!.salt}: ${results[0]![0]}`);
  console.log(`SHA-256 of all hashes, one per line: ${hex(new Uint8Array(digest))}`);
  console.log(
    agree ? "All five modes gave the same hashes." : "The modes DISAGREE: this is a bug.",
  );
  return agree ? 0 : 1;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) Deno.exitCode = await main();

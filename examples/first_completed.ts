/**
 * # First completed: ask every mirror, keep the first answer, stop the rest
 *
 * What it shows: the same download is asked of several mirrors at once on an
 * `AsyncPoolExecutor`; `wait(pending, { returnWhen: FIRST_COMPLETED })` wakes up at each finished
 * download, a failed one is set aside and the wait goes on, and the first successful one wins.
 * The others are then stopped: `cancel()` drops a task that has not started, and a running one is
 * aborted through the `signal` it was submitted with, which aborts its `fetch` (the task reads it
 * with `taskSignal()`). Each mirror reports what it saw, so the table shows that the losing
 * downloads really stopped on the server side, not just on the client's.
 *
 * The mirrors are local HTTP servers on 127.0.0.1 (free ports), each sending the same file in 20
 * pieces spread over its delay; `--broken N` makes mirror N answer 503 instead.
 *
 * ```sh
 * deno run -A examples/first_completed.ts
 * deno run -A examples/first_completed.ts --delays 900,120,300,40 --broken 4
 * deno run -A examples/first_completed.ts --help
 * ```
 *
 * Example output:
 *
 * ```text
 * Asking 4 mirrors for the same file (20 KiB).
 *    88 ms  mirror 2 failed (HTTP 503); waiting for the others
 *   191 ms  mirror 3 sent the file (20480 bytes): keeping it
 *   196 ms  stopped mirror 1, mirror 4
 *
 * mirror    delay ms  outcome                    at ms  the mirror saw
 * mirror 1       600  aborted while downloading    194  client left after 5/20 pieces
 * mirror 2        60  failed: HTTP 503              88  answered 503
 * mirror 3       150  first complete: kept         191  sent the whole file
 * mirror 4       400  aborted while downloading    196  client left after 8/20 pieces
 * ```
 *
 * @module
 */

import { AsyncPoolExecutor, FIRST_COMPLETED, type Future, taskSignal, wait } from "../mod.ts";
import { commandLine, refuse, table } from "./_cli.ts";

const COMMAND = {
  name: "first_completed.ts",
  summary:
    "Downloads the same file from several local mirrors at once, keeps the first complete\n" +
    "download, and stops the others (cancel() if queued, abort if running).",
  flags: {
    delays: {
      type: "integers",
      min: 0,
      default: [600, 60, 150, 400],
      arg: "MS,…",
      help: "how long each mirror takes to send the file",
    },
    broken: { type: "integer", min: 0, default: 2, help: "mirror N answers 503 (0: none)" },
  },
} as const;

const PIECES = 20;
const PIECE = new Uint8Array(1024).fill(42);

/** A mirror: a server that sends the file in pieces, and what it saw of the request. */
interface Mirror {
  url: string;
  /** What the server saw: the whole file sent, or the client gone after some pieces. */
  seen(): Promise<string>;
  close(): Promise<void>;
}

function startMirror(delay: number, broken: boolean): Mirror {
  let seen: Promise<string> | undefined;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async () => {
    if (broken) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      seen = Promise.resolve("answered 503");
      return new Response("down for maintenance", { status: 503 });
    }
    const { promise, resolve } = Promise.withResolvers<string>();
    seen = promise;
    let sent = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        return new Promise<void>((next) => {
          timer = setTimeout(() => {
            controller.enqueue(PIECE);
            if (++sent === PIECES) {
              controller.close();
              resolve("sent the whole file");
            }
            next();
          }, delay / PIECES);
        });
      },
      // Called when the client goes away before the end: the server stops sending.
      cancel() {
        clearTimeout(timer);
        resolve(`client left after ${sent}/${PIECES} pieces`);
      },
    });
    return new Response(body);
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/file`,
    seen: () => seen ?? Promise.resolve("no request"),
    close: () => server.shutdown(),
  };
}

/** Downloads the file; the task's signal aborts the request when the task is stopped. */
async function download(url: string): Promise<number> {
  const response = await fetch(url, { signal: taskSignal() });
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`HTTP ${response.status}`);
  }
  return (await response.arrayBuffer()).byteLength;
}

async function main(): Promise<void> {
  const flags = commandLine(COMMAND);
  const { delays } = flags;
  // The default (the second mirror) names none when there is one mirror.
  const given = Deno.args.some((arg) => arg === "--broken" || arg.startsWith("--broken="));
  const broken = !given && flags.broken > delays.length ? 0 : flags.broken;
  if (broken > delays.length) {
    refuse(COMMAND, `--broken must name one of the ${delays.length} mirrors: received ${broken}`);
  }
  const mirrors = delays.map((delay, i) => startMirror(delay, broken === i + 1));
  const started = performance.now();
  const at = () => `${(performance.now() - started).toFixed(0).padStart(5)} ms`;
  try {
    await using pool = new AsyncPoolExecutor({ maxWorkers: mirrors.length });
    const controllers = new Map<Future<number>, AbortController>();
    const names = new Map<Future<number>, string>();
    const outcomes = new Map<string, { outcome: string; ms: number }>();
    for (const [i, mirror] of mirrors.entries()) {
      const controller = new AbortController();
      const future = pool.with({ signal: controller.signal }).submit(download, mirror.url);
      controllers.set(future, controller);
      names.set(future, `mirror ${i + 1}`);
    }
    console.log(`Asking ${mirrors.length} mirrors for the same file (${PIECES} KiB).`);

    let pending = new Set(controllers.keys());
    let winner: Future<number> | undefined;
    while (winner === undefined && pending.size > 0) {
      const { done, notDone } = await wait(pending, { returnWhen: FIRST_COMPLETED });
      pending = notDone;
      for (const future of done) {
        const name = names.get(future)!;
        const error = await future.exception();
        const ms = performance.now() - started;
        if (error === undefined && winner === undefined) {
          winner = future;
          outcomes.set(name, { outcome: "first complete: kept", ms });
          console.log(`${at()}  ${name} sent the file (${await future} bytes): keeping it`);
        } else if (error === undefined) {
          outcomes.set(name, { outcome: "complete, too late", ms });
        } else {
          outcomes.set(name, { outcome: `failed: ${(error as Error).message}`, ms });
          console.log(
            `${at()}  ${name} failed (${(error as Error).message}); waiting for the others`,
          );
        }
      }
    }

    // Stop the rest: cancel() works while a task is queued; a running one needs its signal.
    for (const future of pending) {
      const name = names.get(future)!;
      const how = future.cancel() ? "cancelled before it started" : "aborted while downloading";
      if (!future.cancelled()) controllers.get(future)!.abort();
      outcomes.set(name, { outcome: how, ms: performance.now() - started });
    }
    if (pending.size > 0) {
      console.log(`${at()}  stopped ${[...pending].map((f) => names.get(f)).join(", ")}`);
    }
    if (winner === undefined) console.log("No mirror sent the file.");

    const seen = await Promise.all(mirrors.map((mirror) => mirror.seen()));
    console.log(`\n${
      table(
        ["mirror", "delay ms", "outcome", "at ms", "the mirror saw"],
        mirrors.map((_, i) => {
          const { outcome, ms } = outcomes.get(`mirror ${i + 1}`)!;
          return [`mirror ${i + 1}`, delays[i]!, outcome, ms.toFixed(0), seen[i]!];
        }),
      )
    }`);
  } finally {
    await Promise.all(mirrors.map((mirror) => mirror.close()));
  }
}

if (import.meta.main) await main();

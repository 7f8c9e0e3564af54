// The peer of bench/distributed_bench.ts: BullMQ on Redis, in a process of its own with its own
// configuration and lockfile (`config.json`, `deno.lock` here), so that BullMQ's packages are not
// in the project's lockfile, which Deno installs whole for any program of the project. It starts
// Debian's redis-server on 127.0.0.1 with a temporary directory and AOF (appendfsync everysec, the
// durability closest to JetStream's file store) and one BullMQ worker process at concurrency 8,
// measures what the bench asks on its stdin, and kills both when its stdin ends.
//
// Lines in: `p50` (the median round trip, ms) or `rate N` (N jobs at once, per second). Lines out:
// `ready` or `skip <why>` once, then one number per line in. See bench/_bullmq_client.ts.

import { Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { p50, rate } from "../_measure.ts";

const WORKER = new URL("./worker.ts", import.meta.url);
const CONFIG = new URL("./config.json", import.meta.url);

/** Redis, a BullMQ worker process, and the client side that the bench measures. */
class BullPeer {
  readonly #redis: Deno.ChildProcess;
  readonly #worker: Deno.ChildProcess;
  readonly #dir: string;
  readonly #queue: Queue;
  readonly #events: QueueEvents;
  readonly #clients: Redis[];
  #done = 0;
  #trips = 0;
  readonly #waiting = new Map<string, () => void>();
  #wake: (() => void) | undefined;

  private constructor(
    redis: Deno.ChildProcess,
    worker: Deno.ChildProcess,
    dir: string,
    queue: Queue,
    events: QueueEvents,
    clients: Redis[],
  ) {
    this.#clients = clients;
    this.#redis = redis;
    this.#worker = worker;
    this.#dir = dir;
    this.#queue = queue;
    this.#events = events;
    events.on("completed", ({ jobId }: { jobId: string }) => {
      this.#done++;
      this.#wake?.();
      this.#waiting.get(jobId)?.();
    });
  }

  /** Starts Redis and the worker; undefined (with the reason logged) when redis-server is missing. */
  static async start(log: (line: string) => void): Promise<BullPeer | undefined> {
    const binary = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].find((path) => {
      try {
        return Deno.statSync(path).isFile;
      } catch {
        return false;
      }
    });
    if (!binary) {
      log("BullMQ peer skipped: redis-server is not installed (apt-get install redis-server)");
      return undefined;
    }
    const dir = await Deno.makeTempDir({ prefix: "futures-redis-" });
    // A port the system says is free (a random one once fell on a port in use).
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (probe.addr as Deno.NetAddr).port;
    probe.close();
    const redis = new Deno.Command(binary, {
      args: [
        "--bind",
        "127.0.0.1",
        "--port",
        String(port),
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--save",
        "",
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    // Clients made before it listens would log a refused connection and retry: wait for its line.
    const lines = redis.stdout.pipeThrough(new TextDecoderStream()).getReader();
    for (let seen = ""; !seen.includes("Ready to accept connections");) {
      const { value, done } = await lines.read();
      if (done) {
        throw new Error(`${binary} exited before it accepted connections: ${seen.slice(-200)}`);
      }
      seen = seen.slice(-400) + value;
    }
    // The rest of its log is read and dropped.
    void (async () => {
      while (!(await lines.read()).done);
    })().catch(() => {});
    // BullMQ takes ioredis clients (its optional dependency does not load through npm: here).
    const clients: Redis[] = [];
    const client = () => {
      const made = new Redis({ host: "127.0.0.1", port, maxRetriesPerRequest: null });
      clients.push(made);
      return made;
    };
    const queue = new Queue("bench", { connection: client() });
    await queue.waitUntilReady();
    const events = new QueueEvents("bench", { connection: client() });
    await events.waitUntilReady();
    const worker = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        "--config",
        CONFIG.pathname,
        WORKER.href,
        String(port),
        "bench",
      ],
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const reader = worker.stdout.pipeThrough(new TextDecoderStream()).getReader();
    while (!(await reader.read()).value?.includes("ready"));
    reader.releaseLock();
    worker.stdout.cancel().catch(() => {});
    return new BullPeer(redis, worker, dir, queue, events, clients);
  }

  /** One job, from add to its completion seen through the queue events. */
  async roundTrip(a: number, b: number): Promise<void> {
    const jobId = `trip-${++this.#trips}`;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#waiting.set(jobId, resolve);
    await this.#queue.add("add", { a, b }, { jobId, removeOnComplete: true });
    await promise;
    this.#waiting.delete(jobId);
  }

  /** `n` jobs added at once; resolves when all completed. */
  async burst(n: number): Promise<void> {
    const target = this.#done + n;
    const jobs = Array.from({ length: n }, (_, i) => ({
      name: "add",
      data: { a: i, b: 1 },
      opts: { removeOnComplete: true },
    }));
    for (let i = 0; i < jobs.length; i += 1_000) {
      await this.#queue.addBulk(jobs.slice(i, i + 1_000));
    }
    while (this.#done < target) await new Promise<void>((resolve) => this.#wake = resolve);
    this.#wake = undefined;
  }

  async close(): Promise<void> {
    await this.#events.close().catch(() => {});
    await this.#queue.close().catch(() => {});
    for (const client of this.#clients) client.disconnect();
    for (const child of [this.#worker, this.#redis]) {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await child.status;
    }
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}

const out = (line: string) => Deno.stdout.write(new TextEncoder().encode(`${line}\n`));
let skipped: string | undefined;
const peer = await BullPeer.start((why) => skipped = why);
if (!peer) await out(`skip ${skipped}`);
else {
  await out("ready");
  try {
    let buffered = "";
    for await (const text of Deno.stdin.readable.pipeThrough(new TextDecoderStream())) {
      const lines = (buffered + text).split("\n");
      buffered = lines.pop()!;
      for (const line of lines) {
        const [what, n] = line.split(" ");
        await out(String(
          what === "p50"
            ? await p50(() => peer.roundTrip(1, 2))
            : await rate(Number(n), () => peer.burst(Number(n))),
        ));
      }
    }
  } finally {
    await peer.close();
  }
}

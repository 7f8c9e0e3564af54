// A real nats-server and worker processes for the distributed tests. Every process is killed by
// PID in close(), including the pool processes that ran fixture tasks (they record their PIDs).

import { NatsServer, type Spawned, spawnWorker } from "../../distributed/_processes.ts";
import { DistributedExecutor, type DistributedExecutorOptions } from "../../distributed/mod.ts";

export const TASKS = new URL("../fixtures/distributed_tasks.ts", import.meta.url).href;

export interface ClusterOptions {
  workers?: number;
  concurrency?: number;
  ackWait?: number;
  isolation?: "process" | "worker" | "inline";
  allowSource?: boolean;
}

/** A server, workers, and a scratch directory the fixture tasks write into. */
export class Cluster {
  server: NatsServer;
  readonly workers: Spawned[] = [];
  readonly scratch: string;
  readonly options: Required<ClusterOptions>;

  private constructor(server: NatsServer, scratch: string, options: Required<ClusterOptions>) {
    this.server = server;
    this.scratch = scratch;
    this.options = options;
  }

  static async start(options: ClusterOptions = {}): Promise<Cluster> {
    const settings = {
      workers: options.workers ?? 1,
      concurrency: options.concurrency ?? 1,
      ackWait: options.ackWait ?? 1_000,
      isolation: options.isolation ?? "process",
      allowSource: options.allowSource ?? true,
    };
    const server = await NatsServer.start();
    const scratch = await Deno.makeTempDir({ prefix: "futures-dist-test-" });
    const cluster = new Cluster(server, scratch, settings);
    for (let i = 0; i < settings.workers; i++) cluster.addWorker();
    return cluster;
  }

  get url(): string {
    return this.server.url;
  }

  /** Starts one more worker process, with more `args` and `env` when given. */
  addWorker(extra: { args?: string[]; env?: Record<string, string> } = {}): Spawned {
    const worker = spawnWorker({
      url: this.server.url,
      queue: "default",
      modules: [TASKS],
      concurrency: this.options.concurrency,
      isolation: this.options.isolation,
      allowSource: this.options.allowSource,
      name: `w${this.workers.length + 1}`,
      ackWait: this.options.ackWait,
      // The start and stop lines of the workers stay out of the test log.
      quiet: true,
      ...extra,
    });
    this.workers.push(worker);
    return worker;
  }

  executor(options: DistributedExecutorOptions = {}): DistributedExecutor {
    return new DistributedExecutor({
      servers: this.server.url,
      modules: [TASKS],
      ackWait: this.options.ackWait,
      ...options,
    });
  }

  /**
   * The `[pid, parentPid]` lines recorded by runs of the task tagged `tag`. Only whole lines
   * count: a task may have created the file and not yet written its line when it is read.
   */
  runs(tag: string): [number, number][] {
    let text: string;
    try {
      text = Deno.readTextFileSync(`${this.scratch}/${tag}.runs`);
    } catch {
      return [];
    }
    return text.split("\n").slice(0, -1).map((line) =>
      line.split(" ").map(Number) as [number, number]
    );
  }

  /** Resolves once the task tagged `tag` has started `n` times (it writes its record first). */
  async waitRuns(tag: string, n = 1): Promise<[number, number][]> {
    for (;;) {
      const runs = this.runs(tag);
      if (runs.length >= n) return runs;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  release(tag: string): void {
    Deno.writeTextFileSync(`${this.scratch}/${tag}.go`, "");
  }

  /** Restarts the server on the same port with the same store, after a SIGKILL. */
  async killAndRestartServer(): Promise<void> {
    await this.server.stop("SIGKILL");
    this.server = await NatsServer.start({ dir: this.server.dir, port: this.server.port });
  }

  async close(): Promise<void> {
    for (const worker of this.workers) worker.kill("SIGKILL");
    await Promise.all(this.workers.map((worker) => worker.status));
    for (const entry of Deno.readDirSync(this.scratch)) {
      if (!entry.name.endsWith(".runs")) continue;
      for (const [pid] of this.runs(entry.name.slice(0, -5))) {
        if (pid === Deno.pid) continue;
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Gone already.
        }
      }
    }
    await this.server.destroy();
    await Deno.remove(this.scratch, { recursive: true });
  }
}

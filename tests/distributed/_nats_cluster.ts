// A 3-node nats-server cluster with JetStream on loopback ports, for the cluster tests. Each node
// is a Spawned process (its PID recorded for CI's cleanup) and close() kills every node and
// removes the stores.

import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { findNatsServer, Spawned } from "../../distributed/_processes.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** One node: its name, client port and process (undefined while it is down). */
export interface ClusterNode {
  name: string;
  port: number;
  routePort: number;
  url: string;
  process: Spawned | undefined;
}

/** Three JetStream nodes joined by routes. */
export class NatsCluster {
  readonly dir: string;
  readonly nodes: ClusterNode[];

  private constructor(dir: string, nodes: ClusterNode[]) {
    this.dir = dir;
    this.nodes = nodes;
  }

  /** Starts the nodes and resolves once JetStream answers (a meta leader is elected). */
  static async start(size = 3): Promise<NatsCluster> {
    const dir = await Deno.makeTempDir({ prefix: "futures-nats-cluster-" });
    const nodes = Array.from({ length: size }, (_, i) => {
      const port = freePort();
      return {
        name: `n${i + 1}`,
        port,
        routePort: freePort(),
        url: `nats://127.0.0.1:${port}`,
        process: undefined,
      };
    });
    const cluster = new NatsCluster(dir, nodes);
    try {
      for (const node of nodes) cluster.startNode(node);
      await cluster.#jetStreamReady();
    } catch (error) {
      await cluster.close();
      throw error;
    }
    return cluster;
  }

  get urls(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** (Re)starts `node` with its config and store. */
  startNode(node: ClusterNode): void {
    const routes = this.nodes.filter((other) => other !== node).map((other) =>
      `nats-route://127.0.0.1:${other.routePort}`
    );
    const config = [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.port}`,
      `jetstream { store_dir: "${this.dir}/${node.name}" }`,
      `cluster { name: futs, listen: 127.0.0.1:${node.routePort}, routes: [${routes.join(", ")}] }`,
    ].join("\n");
    const file = `${this.dir}/${node.name}.conf`;
    Deno.writeTextFileSync(file, config);
    const child = new Deno.Command(findNatsServer(), {
      args: ["-c", file],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    node.process = new Spawned(child, "nats-server");
  }

  /** SIGKILLs the node named `name` and waits for it to exit. */
  async kill(name: string): Promise<ClusterNode> {
    const node = this.nodes.find((n) => n.name === name)!;
    node.process?.kill("SIGKILL");
    await node.process?.status;
    node.process = undefined;
    return node;
  }

  async #jetStreamReady(): Promise<void> {
    for (let tries = 0;; tries++) {
      try {
        const nc = await connect({ servers: this.urls, timeout: 1_000 });
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1_000 });
          await jsm.getAccountInfo();
          return;
        } finally {
          await nc.close();
        }
      } catch (error) {
        if (tries > 300) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async close(): Promise<void> {
    for (const node of this.nodes) node.process?.kill("SIGKILL");
    await Promise.all(this.nodes.map((node) => node.process?.status));
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

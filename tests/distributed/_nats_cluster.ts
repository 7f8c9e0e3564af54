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

/** A node's server exited while the cluster was starting (its port was taken, most likely). */
class NodeExited extends Error {
  constructor(name: string) {
    super(`cluster node ${name} exited while the cluster was starting`);
    this.name = "NodeExited";
  }
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

  /**
   * Starts the nodes and resolves once JetStream can place a stream on every node (a meta leader
   * is elected and knows all its peers: before that, a replicated stream is refused with "no
   * suitable peers for placement").
   */
  static async start(size = 3, attempt = 1): Promise<NatsCluster> {
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
      await cluster.#jetStreamReady(size);
    } catch (error) {
      await cluster.close();
      // A port picked free can be taken by another process before its node binds it: that node
      // exits at once. Start again on other ports, a few times.
      if (error instanceof NodeExited && attempt < 3) return NatsCluster.start(size, attempt + 1);
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

  async #jetStreamReady(replicas: number): Promise<void> {
    let exited: string | undefined;
    for (const node of this.nodes) node.process!.status.then(() => exited ??= node.name);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (exited !== undefined) throw new NodeExited(exited);
      try {
        const nc = await connect({ servers: this.urls, timeout: 1_000 });
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1_000 });
          await jsm.getAccountInfo();
          const probe = { name: "FUTS_PROBE", subjects: ["futs.probe"], num_replicas: replicas };
          await jsm.streams.add(probe);
          await jsm.streams.delete(probe.name);
          return;
        } finally {
          await nc.close();
        }
      } catch (error) {
        if (Date.now() > deadline) throw error;
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

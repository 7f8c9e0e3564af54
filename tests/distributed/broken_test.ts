// An executor that can no longer reach anything breaks: its embedded server exited, or its
// connection closed for good. Every future not settled rejects with BrokenExecutorError, a later
// submit throws it, and shutdown() returns.

import assert from "node:assert/strict";
import { Cluster, TASKS } from "./_cluster.ts";
import { NatsServer } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { BrokenExecutorError } from "../../mod.ts";
import { add, gated } from "../fixtures/distributed_tasks.ts";

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** `promise`, or a rejection when it has not settled within `ms`: what would hang fails. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Shuts `executor` down, for a `finally`: bounded, so that a failed test ends. */
async function stop(executor: DistributedExecutor): Promise<void> {
  await within(executor.shutdown({ cancelFutures: true }), 15_000, "shutdown()").catch(() => {});
}

Deno.test("DistributedExecutor breaks with BrokenExecutorError when its embedded server exits", async () => {
  const scratch = await Deno.makeTempDir({ prefix: "futures-dist-test-" });
  // One task published at a time: the second waits here, the first runs.
  const executor = new DistributedExecutor({
    maxWorkers: 1,
    isolation: "inline",
    modules: [TASKS],
    maxPublished: 1,
  });
  let pids: number[] = [];
  try {
    await executor.whenStarted();
    pids = executor.pids;
    const running = executor.submit(gated, scratch, "g", 1);
    const held = executor.submit(add, 1, 2);
    await until(() => {
      try {
        return Deno.readTextFileSync(`${scratch}/g.runs`).includes("\n");
      } catch {
        return false;
      }
    });
    // The second is held here (the first's publish may still await its acknowledgement, and
    // counts as held until it comes).
    await within(until(() => executor.stats().buffered === 1), 5_000, "one task held");
    // The embedded server comes first.
    Deno.kill(pids[0]!, "SIGKILL");
    for (const future of [running, held]) {
      const error = await within(future.exception(), 5_000, "a future");
      assert(error instanceof BrokenExecutorError, String(error));
      assert.match(error.message, /the embedded NATS server \(PID \d+\) exited/);
    }
    assert.throws(() => executor.submit(add, 1, 1), BrokenExecutorError);
    await within(executor.shutdown(), 5_000, "shutdown()");
    assert.deepEqual(executor.pids, []);
  } finally {
    await stop(executor);
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Ended already.
      }
    }
    await Deno.remove(scratch, { recursive: true });
  }
});

Deno.test("DistributedExecutor breaks with BrokenExecutorError when the server refuses its credentials on a reconnect", async () => {
  let server = await NatsServer.start({ token: "first" });
  const executor = new DistributedExecutor({
    servers: server.url,
    token: "first",
    modules: [TASKS],
  });
  try {
    await executor.whenStarted();
    // No worker: it waits in the stream.
    const sent = executor.submit(add, 1, 1);
    await until(() => executor.stats().buffered === 0);
    const { dir, port } = server;
    await server.stop("SIGKILL");
    await until(() => !executor.stats().connected);
    const held = executor.submit(add, 2, 2);
    server = await NatsServer.start({ dir, port, token: "second" });
    for (const future of [sent, held]) {
      const error = await within(future.exception(), 10_000, "a future");
      assert(error instanceof BrokenExecutorError, String(error));
      assert.match(
        error.message,
        /the connection to NATS closed for good as reconnecting failed \(Authorization Violation\)/,
      );
    }
    assert.throws(() => executor.submit(add, 3, 3), BrokenExecutorError);
    await within(executor.shutdown(), 5_000, "shutdown()");
  } finally {
    await stop(executor);
    await server.destroy();
  }
});

Deno.test("DistributedExecutor breaks with BrokenExecutorError once connectOptions.maxReconnectAttempts are used up", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  const executor = cluster.executor({ connectOptions: { maxReconnectAttempts: 3 } });
  try {
    await executor.whenStarted();
    const sent = executor.submit(add, 1, 1);
    await until(() => executor.stats().buffered === 0);
    await cluster.server.stop("SIGKILL");
    const error = await within(sent.exception(), 10_000, "the future");
    assert(error instanceof BrokenExecutorError, String(error));
    assert.match(
      error.message,
      /the connection to NATS closed for good as reconnecting failed \(.+\)/,
    );
    assert.throws(() => executor.submit(add, 2, 2), BrokenExecutorError);
    await within(executor.shutdown(), 5_000, "shutdown()");
  } finally {
    await stop(executor);
    await cluster.close();
  }
});

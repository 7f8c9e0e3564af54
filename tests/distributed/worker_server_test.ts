// A worker against a server that is not the usual one: a max_payload lower than the 256 KiB past
// which outcomes go through the object store, credentials refused when it reconnects, and a
// server that stops answering while the worker drains.

import assert from "node:assert/strict";
import { NatsServer, spawnWorker } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { echoBig } from "../fixtures/distributed_tasks.ts";
import { TASKS } from "./_cluster.ts";
import { WatchedWorker } from "./_secure.ts";

/** `promise`, or an Error naming `what` once `ms` have passed: a regression fails, never hangs. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("DistributedWorker sends an outcome over the server's max_payload through the object store, below 256 KiB too", async () => {
  // A 100 KB outcome was sent as one message, which this server refuses however often it is
  // sent: its future never settled, and the worker's lane stayed taken.
  const server = await NatsServer.start({ config: "max_payload: 65536" });
  const worker = spawnWorker({
    url: server.url,
    queue: "default",
    modules: [TASKS],
    concurrency: 1,
    isolation: "inline",
    allowSource: false,
    ackWait: 2_000,
    quiet: true,
  });
  const executor = new DistributedExecutor({
    servers: server.url,
    modules: [TASKS],
    ackWait: 2_000,
  });
  // Settles what is left running (a regression's task), which shutdown() would wait for.
  const giveUp = new AbortController();
  try {
    for (const size of [40_000, 100_000, 300_000]) {
      const input = new Uint8Array(size).fill(1);
      const output = await executor.with({ signal: giveUp.signal }).submit(echoBig, input, 2)
        .result({ timeout: 15_000 });
      assert.equal(output.length, size);
      assert(output.every((byte) => byte === 3), `${size} bytes`);
    }
  } finally {
    giveUp.abort();
    await executor.shutdown({ cancelFutures: true });
    await worker.stop("SIGKILL");
    await server.destroy();
  }
});

Deno.test("DistributedWorker CLI whose credentials are refused on a reconnect exits 1 with one line, not an uncaught error", async () => {
  const first = await NatsServer.start({
    config: "authorization { users = [ { user: worker, password: first } ] }",
  });
  let server = first;
  const worker = new WatchedWorker(
    ["--nats", server.url, "--user", "worker", "--modules", TASKS, "--concurrency", "1"],
    { FUTURES_NATS_PASSWORD: "first" },
  );
  try {
    assert((await worker.waitFor(/ started: /)) !== undefined, worker.seen.join("\n"));
    // The same port and store, another password: the worker's reconnects are refused.
    await first.stop();
    server = await NatsServer.start({
      dir: first.dir,
      port: first.port,
      config: "authorization { users = [ { user: worker, password: second } ] }",
    });
    const { code, stderr } = await within(worker.end(), 20_000, "the worker did not exit");
    assert.equal(code, 1, stderr.join("\n"));
    assert.match(
      stderr.at(-1)!,
      /^futures worker \S+: Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: the server refused the credentials/,
    );
    // It died of an uncaught ClosedConnectionError, with its stack, from a renewal of its pulls.
    assert(
      !stderr.some((line) => /uncaught|ClosedConnectionError|^\s+at /i.test(line)),
      stderr.join("\n"),
    );
  } finally {
    await worker[Symbol.asyncDispose]();
    await server.destroy();
  }
});

Deno.test("DistributedWorker CLI drains on SIGTERM within a bound when its server stopped answering", async () => {
  const server = await NatsServer.start();
  const worker = new WatchedWorker([
    "--nats",
    server.url,
    "--modules",
    TASKS,
    "--concurrency",
    "1",
  ]);
  let paused = false;
  try {
    assert((await worker.waitFor(/ started: /)) !== undefined, worker.seen.join("\n"));
    // A server that takes no more and never resets the connection: its drain was never answered,
    // and the worker ran on for as long as the server stayed stopped.
    Deno.kill(server.pid, "SIGSTOP");
    paused = true;
    worker.process.kill("SIGTERM");
    const { code, stderr } = await within(worker.end(), 25_000, "the worker did not exit");
    assert.equal(code, 0, stderr.join("\n"));
    assert.match(stderr.at(-1)!, /^futures worker \S+ stopped: completed=0 failed=0$/);
  } finally {
    if (paused) Deno.kill(server.pid, "SIGCONT");
    await worker[Symbol.asyncDispose]();
    await server.destroy();
  }
});

import assert from "node:assert/strict";
import { Cluster } from "./_cluster.ts";
import { DistributedExecutor, TimeoutError } from "../../distributed/mod.ts";
import {
  BrokenExecutorError,
  CancelledError,
  CircuitOpenError,
  InvalidStateError,
  proxy,
} from "../../mod.ts";
import { findNatsServer } from "../../distributed/_processes.ts";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  add,
  counted,
  echoBig,
  failOn,
  failQuota,
  gated,
  QuotaError,
  sleepy,
  spin,
  square,
} from "../fixtures/distributed_tasks.ts";

/**
 * Waits until the task stream has taken `published` messages in all and holds `held`: a cancelled
 * task's message was published and removed, so a worker freed now cannot be given it.
 */
async function streamAt(url: string, published: number, held: number): Promise<void> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (;;) {
      const { state } = await jsm.streams.info("FUTS_TASKS");
      if (state.last_seq === published && state.messages === held) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await nc.close();
  }
}

Deno.test("DistributedExecutor.submit() runs 1000 tasks over 3 worker processes, each settled once", async () => {
  const cluster = await Cluster.start({ workers: 3 });
  try {
    await using executor = cluster.executor();
    let settled = 0;
    const futures = Array.from({ length: 1000 }, (_, i) => {
      const future = executor.submit(add, i, 1);
      future.addDoneCallback(() => settled++);
      return future;
    });
    const values = await Promise.all(futures);
    assert.deepEqual(values, Array.from({ length: 1000 }, (_, i) => i + 1));
    assert.equal(settled, 1000);
    const stats = executor.stats();
    assert.equal(stats.completed, 1000);
    assert.equal(stats.failed, 0);
    assert.equal(stats.queued + stats.inFlight, 0);
    const perWorker = Object.values(stats.workers);
    assert.equal(perWorker.reduce((sum, w) => sum + w.completed, 0), 1000);
    assert(perWorker.length >= 2, `work spread over ${perWorker.length} worker(s)`);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() rejects with a registered custom error class and its fields", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const error = await executor.submit(failQuota, 7).exception();
    assert(error instanceof QuotaError);
    assert.equal(error.quota, 7);
    assert.equal(error.message, "over quota 7");
    assert.equal(await executor.submit(add, 1, 2), 3);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() refuses a proxy() callback with a DataCloneError that says why", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    // The message was the library's wrapper source, naming neither proxy() nor the executor.
    await assert.rejects(
      executor.submit(add, { onProgress: proxy(() => {}) } as never, 1),
      (error) =>
        error instanceof DOMException && error.name === "DataCloneError" &&
        /hold a proxy\(\) callback \(at args\[0\]\.onProgress\): a worker on another machine cannot call back/
          .test(error.message),
    );
    assert.equal(await executor.submit(add, 1, 2), 3);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.map() yields in order with chunksize and buffersize, and throws at the failing item", async () => {
  const cluster = await Cluster.start({ workers: 2 });
  try {
    await using executor = cluster.executor();
    const items = Array.from({ length: 500 }, (_, i) => i);
    const out: number[] = [];
    for await (const x of executor.map(square, items, { chunksize: 64, buffersize: 2 })) {
      out.push(x);
    }
    assert.deepEqual(out, items.map((i) => i * i));
    const seen: number[] = [];
    await assert.rejects(async () => {
      for await (const x of executor.map(failOn, items.slice(0, 40), { chunksize: 8 })) {
        seen.push(x);
      }
    }, RangeError);
    assert.deepEqual(seen, items.slice(0, 13));
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.with() timeout kills a task that never yields and the worker serves on", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const error = await executor.with({ timeout: 300 }).submit(spin).exception();
    assert(error instanceof TimeoutError);
    assert.equal(await executor.submit(add, 2, 2), 4);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.with() deadline rejects a running task and aborts it on the worker", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    assert.equal(await executor.submit(add, 0, 0), 0);
    // A deadline runs from submit(): on a loaded machine it may pass before the task starts, and
    // then the task must not run at all. Either order ends in a TimeoutError and a free lane; the
    // deadline grows until an attempt started in time, whose run must have been stopped.
    for (let attempt = 0, ms = 1_000;; attempt++, ms *= 4) {
      const tag = `d${attempt}`;
      const future = executor.with({ deadline: Date.now() + ms }).submit(
        gated,
        cluster.scratch,
        tag,
        1,
      );
      assert((await future.exception()) instanceof TimeoutError);
      // The worker has one lane: this runs only once the gated task was stopped or dropped (its
      // gate is never opened).
      assert.equal(await executor.submit(add, 3, 3), 6);
      const runs = cluster.runs(tag).length;
      assert(runs <= 1, `${runs} runs`);
      if (runs === 1) break;
      assert(attempt < 4, "the task never started before its deadline");
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor future.cancel() of a queued task means it never runs", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const first = executor.submit(gated, cluster.scratch, "a", 1);
    await cluster.waitRuns("a");
    const queued = executor.submit(counted, cluster.scratch, 2);
    assert.equal(queued.cancel(), true);
    // Its message published and removed before the lane frees: the test is then about the
    // cancel, not about which of the client's writes the worker sees first.
    await streamAt(cluster.url, 2, 1);
    cluster.release("a");
    assert.equal(await first, 1);
    // One lane pulls in stream order: had the cancelled task stayed, it would run before this one.
    assert.equal(await executor.submit(counted, cluster.scratch, 3), 3);
    assert(queued.cancelled());
    await assert.rejects(queued.result(), CancelledError);
    assert.equal(cluster.runs("n2").length, 0);
    assert.equal(cluster.runs("n3").length, 1);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.with() signal aborts a running task on its worker", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const controller = new AbortController();
    const future = executor.with({ signal: controller.signal }).submit(
      sleepy,
      cluster.scratch,
      "s",
      60_000,
      1,
    );
    await cluster.waitRuns("s");
    const reason = new Error("stop it");
    controller.abort(reason);
    assert.equal(await future.exception(), reason);
    assert.equal(await executor.submit(add, 4, 4), 8);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() moves a 5 MiB argument and result through the object store", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const input = new Uint8Array(5 * 1024 * 1024);
    for (let i = 0; i < input.length; i++) input[i] = i & 255;
    const output = await executor.submit(echoBig, input, 1);
    assert.equal(output.length, input.length);
    for (let i = 0; i < output.length; i += 4099) assert.equal(output[i], (i + 1) & 255);
    assert.equal(output[output.length - 1], (input.length - 1 + 1) & 255);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() runs functions by source on workers that allow it, with as many arguments as a plain call takes", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    assert.equal(await executor.submit((a: number) => a * 3, 5), 15);
    // As many arguments as a plain call takes (about 100k fill a thread's stack): on the worker
    // too, they are spread once, into the call.
    const args = Array.from({ length: 90_000 }, (_, i) => i);
    assert.equal(await executor.submit((...xs: number[]) => xs.length, ...args), args.length);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.submit() rejects a function by source on workers without --allow-source", async () => {
  const cluster = await Cluster.start({ allowSource: false });
  try {
    await using executor = cluster.executor();
    const error = await executor.submit((a: number) => a * 3, 5).exception();
    assert(error instanceof TypeError);
    assert.match(error.message, /--allow-source/);
    assert.equal(await executor.submit(add, 2, 5), 7);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.shutdown() ends the embedded server and workers and their children", async () => {
  const executor = new DistributedExecutor({ workers: 2, allowSource: true });
  await executor.ready();
  const [child, parent] = await executor.submit(() => [Deno.pid, Deno.ppid]) as [number, number];
  const pids = executor.pids;
  assert.equal(pids.length, 3);
  // The task ran in a child process of a worker (the server is pids[0]). That process may have
  // ended already, at its pool's idle timeout: either way it must be gone after shutdown().
  assert(pids.slice(1).includes(parent), `the task's parent ${parent} is not a worker: ${pids}`);
  await executor.shutdown();
  for (const pid of [...pids, child]) assert(!alive(pid), `process ${pid} is still running`);
  assert.throws(() => executor.submit(() => 1), InvalidStateError);
});

Deno.test("DistributedExecutor() rejects bad options naming the option and the value", () => {
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", poisonAfter: 0 }),
    /'poisonAfter' must be a positive integer: received 0/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", queue: "a.b" }),
    /'queue' must be letters, digits, '_' or '-': received "a.b"/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", maxQueue: 3 } as never),
    /'maxQueue' is not an option \(did you mean 'maxQueued'\?\)/,
  );
});

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

Deno.test("findNatsServer() says how to install nats-server when it is missing", () => {
  assert.throws(() => findNatsServer(["/nonexistent"]), /apt-get install nats-server/);
  assert.match(findNatsServer(), /nats-server$/);
});

Deno.test("DistributedExecutor maxPublished keeps tasks beyond it here, in order, until others settle", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  try {
    await using executor = cluster.executor({ maxPublished: 2 });
    await executor.ready();
    const futures = Array.from({ length: 6 }, (_, i) => executor.submit(add, i, 10));
    const nc = await connect({ servers: cluster.url });
    try {
      const jsm = await jetstreamManager(nc);
      while ((await jsm.streams.info("FUTS_TASKS")).state.messages < 2) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal((await jsm.streams.info("FUTS_TASKS")).state.messages, 2);
    } finally {
      await nc.close();
    }
    assert.equal(executor.stats().queued, 6);
    cluster.addWorker();
    assert.deepEqual(await Promise.all(futures), [10, 11, 12, 13, 14, 15]);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor circuitBreaker opens a domain's circuit on the caller's side", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor({
      circuitBreaker: { threshold: 1, halfOpenAfter: 60_000 },
    });
    const api = executor.with({ domain: "api" });
    assert((await api.submit(failQuota, 1).exception()) instanceof QuotaError);
    const error = await api.submit(counted, cluster.scratch, 8).exception();
    assert(error instanceof CircuitOpenError);
    assert.equal(error.domain, "api");
    assert.equal(await executor.with({ domain: "other" }).submit(add, 1, 1), 2);
    assert.equal(cluster.runs("n8").length, 0);
    assert.equal(executor.circuitStats().get("api")?.state, "open");
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.with() retry runs a failed task again as its retryOn says", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const retried = executor.with({
      retry: { maxAttempts: 3, backoff: { initial: 1 }, retryOn: (e) => e instanceof QuotaError },
    });
    assert((await retried.submit(failQuota, 2).exception()) instanceof QuotaError);
    assert.equal(executor.stats().failed, 3);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor breaks with BrokenExecutorError when it cannot connect", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using executor = new DistributedExecutor({ servers: `nats://127.0.0.1:${port}` });
  const future = executor.submit(add, 1, 2);
  await assert.rejects(executor.ready());
  assert((await future.exception()) instanceof BrokenExecutorError);
  assert.throws(() => executor.submit(add, 1, 2), BrokenExecutorError);
});

Deno.test("DistributedExecutor.with() deadline drops a queued task: it never runs", async () => {
  const cluster = await Cluster.start();
  try {
    await using executor = cluster.executor();
    const first = executor.submit(gated, cluster.scratch, "q", 1);
    await cluster.waitRuns("q");
    const late = executor.with({ deadline: Date.now() + 200 }).submit(counted, cluster.scratch, 4);
    assert((await late.exception()) instanceof TimeoutError);
    cluster.release("q");
    assert.equal(await first, 1);
    assert.equal(await executor.submit(counted, cluster.scratch, 5), 5);
    assert.equal(cluster.runs("n4").length, 0);
  } finally {
    await cluster.close();
  }
});

Deno.test("DistributedExecutor.shutdown() with cancelFutures cancels queued tasks and lets running ones finish", async () => {
  const cluster = await Cluster.start();
  try {
    const executor = cluster.executor();
    const running = executor.submit(gated, cluster.scratch, "r", 1);
    await cluster.waitRuns("r");
    const queued = executor.submit(counted, cluster.scratch, 6);
    const done = executor.shutdown({ cancelFutures: true });
    assert(queued.cancelled());
    await streamAt(cluster.url, 2, 1);
    cluster.release("r");
    await done;
    assert.equal(await running, 1);
    // The one worker pulls in stream order: a task left in the stream would run before this one.
    await using after = cluster.executor();
    assert.equal(await after.submit(counted, cluster.scratch, 7), 7);
    assert.equal(cluster.runs("n6").length, 0);
  } finally {
    await cluster.close();
  }
});

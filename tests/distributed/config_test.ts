import assert from "node:assert/strict";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Cluster, TASKS } from "./_cluster.ts";
import { DistributedWorker, parseWorkerArgs } from "../../distributed/worker.ts";
import { echoBig } from "../fixtures/distributed_tasks.ts";
import { processStartTime } from "../../distributed/_processes.ts";

async function streamConfigs(url: string) {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    const get = async (name: string) => (await jsm.streams.info(name)).config;
    return {
      tasks: await get("FUTS_TASKS"),
      results: await get("KV_futs_results"),
      blobs: await get("OBJ_futs_blobs").catch(() => undefined),
      consumer: (await jsm.consumers.info("FUTS_TASKS", "workers_default")).config,
    };
  } finally {
    await nc.close();
  }
}

Deno.test("DistributedExecutor.ready() rejects naming the setting, the value in place and the one asked for when workers created the queue with others", async () => {
  const cluster = await Cluster.start({ workers: 0 });
  // The worker, started first, creates everything with its own settings.
  const worker = await DistributedWorker.start(
    parseWorkerArgs(["--nats", cluster.url, "--modules", TASKS, "--ack-wait", "1000"]),
  );
  try {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ resultTtl: 60_000 }, /'FUTS_TASKS'.*'resultTtl' is 3600000 .* asked for 60000/],
      [{ ackWait: 5_000 }, /'workers_default'.*'ackWait' is 1000 .* asked for 5000/],
      [{ storage: "memory" }, /'storage' is "file" .* asked for "memory"/],
      [{ maxInFlight: 7 }, /'maxInFlight' is 1000 .* asked for 7/],
      [{ maxDeliveries: 4 }, /'maxDeliveries' is 10 .* asked for 4/],
      [{ streamMaxMessages: 99 }, /'streamMaxMessages' is 1000000 .* asked for 99/],
    ];
    for (const [options, message] of cases) {
      await using executor = cluster.executor({ ackWait: undefined, ...options });
      await assert.rejects(executor.ready(), message);
    }
    // Without settings of its own, a client takes the queue as it is.
    await using plain = cluster.executor({ ackWait: undefined });
    await plain.ready();
  } finally {
    await worker.stop();
    await cluster.close();
  }
});

Deno.test("DistributedWorker.start() refuses settings that differ from the queue a client created, and the client's settings reach every store", async () => {
  const cluster = await Cluster.start({ workers: 0, ackWait: 2_000 });
  try {
    await using executor = cluster.executor({
      resultTtl: 120_000,
      maxInFlight: 50,
      maxDeliveries: 6,
      storage: "memory",
      payloadThreshold: 1024,
    });
    await executor.ready();
    const options = parseWorkerArgs([
      "--nats",
      cluster.url,
      "--modules",
      TASKS,
      "--concurrency",
      "1",
      "--result-ttl",
      "60000",
    ]);
    await assert.rejects(
      DistributedWorker.start(options),
      /'resultTtl' is 120000 and this worker asked for 60000/,
    );
    await assert.rejects(
      DistributedWorker.start({ ...options, resultTtl: undefined, storage: "file" }),
      /'storage' is "memory" and this worker asked for "file"/,
    );
    // The same settings, or none, are fine.
    const worker = await DistributedWorker.start({
      ...options,
      resultTtl: 120_000,
      storage: "memory",
      maxInFlight: 50,
      maxDeliveries: 6,
    });
    try {
      // A large argument goes through the object store, which the client creates.
      const input = new Uint8Array(4096).fill(1);
      const out = await executor.submit(echoBig, input, 1);
      assert.equal(out[0], 2);
    } finally {
      await worker.stop();
    }
    const configs = await streamConfigs(cluster.url);
    assert.equal(configs.tasks.max_age, 120_000 * 1e6);
    assert.equal(configs.tasks.storage, "memory");
    assert.equal(configs.results.max_age, 120_000 * 1e6);
    assert.equal(configs.results.storage, "memory");
    assert.equal(configs.blobs?.max_age, 120_000 * 1e6);
    assert.equal(configs.blobs?.storage, "memory");
    assert.equal(configs.consumer.max_ack_pending, 50);
    assert.equal(configs.consumer.max_deliver, 6);
    assert.equal(configs.consumer.ack_wait, 2_000 * 1e6);
  } finally {
    await cluster.close();
  }
});

Deno.test("parseWorkerArgs() reads the JetStream settings and names a bad one", () => {
  const options = parseWorkerArgs([
    "--replicas",
    "3",
    "--storage",
    "memory",
    "--result-ttl",
    "5000",
    "--max-in-flight",
    "8",
    "--max-deliveries",
    "4",
    "--stream-max-messages",
    "100",
  ]);
  assert.equal(options.replicas, 3);
  assert.equal(options.storage, "memory");
  assert.equal(options.resultTtl, 5000);
  assert.equal(options.maxInFlight, 8);
  assert.equal(options.maxDeliveries, 4);
  assert.equal(options.streamMaxMessages, 100);
  assert.throws(() => parseWorkerArgs(["--replicas", "two"]), /'--replicas'.*received "two"/);
  assert.throws(() => parseWorkerArgs(["--storage", "disk"]), /'--storage'.*received "disk"/);
});

Deno.test("parseWorkerArgs() refuses a URL it cannot parse and names the flags behind a credential", () => {
  // A URL that cannot be parsed was retried every second for ever.
  assert.throws(
    () => parseWorkerArgs(["--nats", "nats://127.0.0.1:notaport"]),
    /'--nats \/ FUTURES_NATS_URL' must hold URLs of NATS servers: received "nats:\/\/127\.0\.0\.1:notaport"/,
  );
  // Errors named the executor's options ('pass', 'credsFile'), which a worker's user never wrote.
  const env = (vars: Record<string, string>) => (name: string) => vars[name];
  assert.throws(
    () => parseWorkerArgs([], env({ FUTURES_NATS_PASSWORD: "s3cret" })),
    /'--password \/ FUTURES_NATS_PASSWORD' needs '--user \/ FUTURES_NATS_USER'/,
  );
  assert.throws(
    () => parseWorkerArgs([], env({ FUTURES_NATS_CREDS: "/no/such/file.creds" })),
    /'--creds \/ FUTURES_NATS_CREDS' cannot be read: received "\/no\/such\/file\.creds"/,
  );
});

Deno.test("DistributedExecutor refuses bad modules, allowSource, connectOptions and server URLs, naming them", async () => {
  const { DistributedExecutor } = await import("../../distributed/mod.ts");
  const cases: [Record<string, unknown>, RegExp][] = [
    // Each was taken as false: tasks by source were then refused "without --allow-source".
    [{ allowSource: "yes" }, /'allowSource' must be true or false: received "yes"/],
    [{ connectOptions: 5 }, /'connectOptions' must be an object/],
    // "modules.map is not a function", and "Cannot create a worker pool".
    [{ modules: "./tasks.ts" }, /Cannot create DistributedExecutor as 'modules' must be a list/],
    [{ modules: [5] }, /Cannot create DistributedExecutor as 'modules' must be URLs or paths/],
    [{ servers: "nats://h:notaport" }, /'servers' must hold URLs of NATS servers/],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new DistributedExecutor(options as never),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(options),
    );
  }
});

Deno.test("DistributedExecutor with servers refuses the options of embedded workers, naming them and what stands for them", async () => {
  const { DistributedExecutor } = await import("../../distributed/mod.ts");
  const servers = "nats://127.0.0.1:4222";
  // Each was taken and ignored: the workers on other machines take their own flags.
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ maxWorkers: 3 }, /'maxWorkers' applies to the embedded workers only.*worker processes/],
    [{ workers: 3 }, /'workers' applies to the embedded workers only/],
    [{ concurrency: 2 }, /'concurrency' applies to the embedded workers only.*--concurrency/],
    [{ isolation: "inline" }, /'isolation' applies to the embedded workers only.*--isolation/],
    [{ allowSource: true }, /'allowSource' applies to the embedded workers only.*--allow-source/],
    [
      { restartLimit: { max: 1, within: 1_000 } },
      /'restartLimit' applies to the embedded workers only.*supervisor/,
    ],
  ];
  for (const [options, message] of cases) {
    assert.throws(
      () => new DistributedExecutor({ servers, ...options } as never),
      (e: unknown) => e instanceof TypeError && message.test(e.message),
      JSON.stringify(options),
    );
  }
  // Without servers they are taken; a bad restartLimit is refused as the pools' is.
  assert.throws(
    () => new DistributedExecutor({ restartLimit: { max: 1 } } as never),
    /'restartLimit' needs both 'max' and 'within'/,
  );
  assert.throws(
    () => new DistributedExecutor({ restartLimit: { max: 1, within: 5, per: 2 } } as never),
    /restartLimit\.per/,
  );
});

Deno.test("DistributedExecutor refuses a bad common option before it starts a server or a worker, and the program can exit", async () => {
  // The engine was built first, starting the embedded server and workers, and the option was
  // checked after: the constructor threw, and nothing could stop them. The executor is made in a
  // program of its own, with a directory for the PID files of what it starts.
  const pids = await Deno.makeTempDir({ prefix: "futures-pids-" });
  const mod = new URL("../../distributed/mod.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--quiet",
      `import { DistributedExecutor } from ${JSON.stringify(mod)};
      try {
        new DistributedExecutor({ maxQueued: 0 });
      } catch (error) {
        console.log(\`\${error.name}: \${error.message}\`);
      }`,
    ],
    cwd: new URL("../..", import.meta.url).pathname,
    env: { FUTURES_PID_DIR: pids },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // A guard against a regression that never exits: the test fails instead of hanging.
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<"hung">((resolve) => {
    guard = setTimeout(() => resolve("hung"), 30_000);
  });
  try {
    const output = await Promise.race([child.output(), hung]);
    assert.notEqual(output, "hung", "the program did not exit");
    const { code, stdout, stderr } = output as Deno.CommandOutput;
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    assert.match(
      new TextDecoder().decode(stdout),
      /^RangeError: Cannot create DistributedExecutor as 'maxQueued' must be a positive integer: received 0$/m,
    );
    assert.deepEqual(
      await Array.fromAsync(Deno.readDir(pids)),
      [],
      "PID files of started processes",
    );
  } finally {
    clearTimeout(guard);
    // What a regression started (each PID file holds the PID and its start time), then the program.
    for (const entry of await Array.fromAsync(Deno.readDir(pids))) {
      const [pid, started] = (await Deno.readTextFile(`${pids}/${entry.name}`)).trim().split(" ");
      if (started && processStartTime(Number(pid)) === started) Deno.kill(Number(pid), "SIGKILL");
    }
    try {
      child.kill("SIGKILL");
    } catch {
      // It has exited.
    }
    await child.status;
    await Deno.remove(pids, { recursive: true });
  }
});

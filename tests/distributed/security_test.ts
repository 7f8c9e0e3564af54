import assert from "node:assert/strict";
import { NatsServer, type Spawned, spawnWorker } from "../../distributed/_processes.ts";
import { DistributedExecutor, type DistributedExecutorOptions } from "../../distributed/mod.ts";
import { BrokenExecutorError } from "../../mod.ts";
import { add } from "../fixtures/distributed_tasks.ts";
import { Cluster, TASKS } from "./_cluster.ts";
import { type Certs, makeCerts, makeNkey, makeOperator, WatchedWorker } from "./_secure.ts";

/** A server with `config`, one worker with `args` and `env`; `fn` gets the server's port. */
const ACK_WAIT = 2_000;

async function withSecuredServer(
  config: string,
  worker: { args?: string[]; env?: Record<string, string>; url?: (port: number) => string },
  fn: (
    server: NatsServer,
    executor: (o: DistributedExecutorOptions) => DistributedExecutor,
  ) => Promise<void>,
): Promise<void> {
  const server = await NatsServer.start({ config });
  let spawned: Spawned | undefined;
  try {
    spawned = spawnWorker({
      url: worker.url?.(server.port) ?? server.url,
      queue: "default",
      modules: [TASKS],
      concurrency: 1,
      isolation: "process",
      allowSource: false,
      // The clients' ack wait: whichever side starts first creates the consumer with its own,
      // and the other refuses a consumer that differs.
      ackWait: ACK_WAIT,
      quiet: true,
      args: worker.args ?? [],
      env: worker.env ?? {},
    });
    await fn(
      server,
      (options) =>
        new DistributedExecutor({
          modules: [TASKS],
          servers: server.url,
          ackWait: ACK_WAIT,
          ...options,
        }),
    );
  } finally {
    await spawned?.stop("SIGKILL");
    await server.destroy();
  }
}

Deno.test("DistributedExecutor() authenticates with a password in options or in the URL, and with an NKey seed", async () => {
  const nkey = makeNkey();
  const config = `authorization { users = [
    { user: alice, password: s3cret }
    { nkey: ${nkey.publicKey} }
  ] }`;
  await withSecuredServer(
    config,
    { args: ["--user", "alice"], env: { FUTURES_NATS_PASSWORD: "s3cret" } },
    async (server, executor) => {
      {
        await using byUrl = executor({ servers: `nats://alice:s3cret@127.0.0.1:${server.port}` });
        assert.equal(await byUrl.submit(add, 1, 2), 3);
      }
      {
        await using byOptions = executor({ user: "alice", pass: "s3cret" });
        assert.equal(await byOptions.submit(add, 2, 2), 4);
      }
      {
        await using byNkey = executor({ nkeySeed: nkey.seed });
        assert.equal(await byNkey.submit(add, 3, 2), 5);
      }
      await using wrong = executor({ user: "alice", pass: "guess" });
      const error = await wrong.ready().then(() => undefined, (e) => e);
      assert(error instanceof Error);
      assert.match(error.message, new RegExp(`nats://127\\.0\\.0\\.1:${server.port}`));
      assert.match(error.message, /refused the credentials/);
      assert.throws(() => wrong.submit(add, 1, 1), BrokenExecutorError);
    },
  );
});

Deno.test("DistributedExecutor() authenticates with a token, the worker with FUTURES_NATS_TOKEN", async () => {
  await withSecuredServer(
    "authorization { token: t0ken-for-tests }",
    { env: { FUTURES_NATS_TOKEN: "t0ken-for-tests" } },
    async (_server, executor) => {
      await using client = executor({ token: "t0ken-for-tests" });
      assert.equal(await client.submit(add, 20, 22), 42);
    },
  );
});

Deno.test("DistributedExecutor() authenticates with a .creds file, the worker with FUTURES_NATS_CREDS", async () => {
  const dir = await Deno.makeTempDir({ prefix: "futures-creds-" });
  try {
    const { config, creds } = makeOperator();
    await Deno.writeTextFile(`${dir}/user.creds`, creds);
    await withSecuredServer(
      config,
      { env: { FUTURES_NATS_CREDS: `${dir}/user.creds` } },
      async (_server, executor) => {
        await using client = executor({ credsFile: `${dir}/user.creds` });
        assert.equal(await client.submit(add, 40, 2), 42);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DistributedExecutor() connects over TLS with a CA and a client certificate, as does the worker", async () => {
  const dir = await Deno.makeTempDir({ prefix: "futures-tls-" });
  try {
    const certs = await makeCerts(dir);
    const config = `
      tls { cert_file: "${certs.serverCert}", key_file: "${certs.serverKey}", ca_file: "${certs.ca}", verify: true }
      authorization { users = [ { user: alice, password: s3cret } ] }`;
    await withSecuredServer(
      config,
      {
        url: (port) => `tls://127.0.0.1:${port}`,
        args: ["--tls-ca", certs.ca, "--tls-cert", certs.clientCert, "--tls-key", certs.clientKey],
        env: { FUTURES_NATS_USER: "alice", FUTURES_NATS_PASSWORD: "s3cret" },
      },
      async (server, executor) => {
        await using client = executor({
          servers: `tls://alice:s3cret@127.0.0.1:${server.port}`,
          tls: { caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey },
        });
        assert.equal(await client.submit(add, 6, 7), 13);
      },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * A verifying TLS server with certificates of one CA; `tls` picks the client's TLS options from
 * those of that CA (`ours`) and of another (`theirs`), a certificate and key or none. The executor's ready() must reject with
 * `cause` and the URL, and the worker CLI given the same files must exit 1 with one such line.
 */
async function refusedTls(
  tls: (ours: Certs, theirs: Certs) => { caFile: string; certFile?: string; keyFile?: string },
  cause: RegExp,
): Promise<void> {
  const dirs = [
    await Deno.makeTempDir({ prefix: "futures-tls-ours-" }),
    await Deno.makeTempDir({ prefix: "futures-tls-theirs-" }),
  ];
  try {
    const ours = await makeCerts(dirs[0]!);
    const options = tls(ours, await makeCerts(dirs[1]!));
    const server = await NatsServer.start({
      config:
        `tls { cert_file: "${ours.serverCert}", key_file: "${ours.serverKey}", ca_file: "${ours.ca}", verify: true }`,
    });
    try {
      const url = `tls://127.0.0.1:${server.port}`;
      {
        await using client = new DistributedExecutor({
          servers: url,
          modules: [TASKS],
          tls: options,
        });
        const error = await client.ready().then(() => undefined, (e) => e);
        assert(error instanceof Error);
        assert.match(error.message, new RegExp(`at tls://127\\.0\\.0\\.1:${server.port}: `));
        assert.match(error.message, cause);
        assert.throws(() => client.submit(add, 1, 1), BrokenExecutorError);
      }
      await using worker = new WatchedWorker([
        "--nats",
        url,
        "--modules",
        TASKS,
        "--tls-ca",
        options.caFile,
        ...(options.certFile ? ["--tls-cert", options.certFile] : []),
        ...(options.keyFile ? ["--tls-key", options.keyFile] : []),
      ]);
      const { code, stderr } = await worker.end();
      assert.equal(code, 1);
      assert.equal(stderr.length, 1, stderr.join("\n"));
      assert.match(
        stderr[0]!,
        /^futures worker: Cannot connect to NATS at tls:\/\/127\.0\.0\.1:\d+: /,
      );
      assert.match(stderr[0]!, cause);
    } finally {
      await server.destroy();
    }
  } finally {
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("DistributedExecutor() rejects ready() naming the URL when a TLS server asks for a client certificate it was not given, and the worker exits with one line", async () => {
  await refusedTls(
    (ours) => ({ caFile: ours.ca }),
    /the server asked for a client certificate .*--tls-cert/,
  );
});

Deno.test("DistributedExecutor() rejects ready() naming the URL when it does not trust the server's certificate, and the worker exits with one line", async () => {
  await refusedTls(
    (ours, theirs) => ({
      caFile: theirs.ca,
      certFile: ours.clientCert,
      keyFile: ours.clientKey,
    }),
    /the server's certificate is not trusted \(.+\); give the CA that signed it.*--tls-ca/,
  );
});

Deno.test("DistributedExecutor() rejects ready() naming the URL when the server refuses its client certificate, before the connect timeout, and the worker exits with one line", async () => {
  await refusedTls(
    (ours, theirs) => ({
      caFile: ours.ca,
      certFile: theirs.clientCert,
      keyFile: theirs.clientKey,
    }),
    /the server refused the client certificate \(.+\); give a certificate signed by a CA the server trusts/,
  );
});

Deno.test("DistributedWorker CLI exits with one line when the server refuses its credentials", async () => {
  const server = await NatsServer.start({
    config: "authorization { users = [ { user: alice, password: s3cret } ] }",
  });
  try {
    await using worker = new WatchedWorker([
      "--nats",
      `nats://alice:wrong@127.0.0.1:${server.port}`,
    ]);
    const { code, stderr } = await worker.end();
    assert.equal(code, 1);
    assert.equal(stderr.length, 1, stderr.join("\n"));
    assert.match(
      stderr[0]!,
      /^futures worker: Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: the server refused the credentials/,
    );
    assert.doesNotMatch(stderr[0]!, /wrong/);
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedWorker CLI asked for TLS by a server without it exits with one line", async () => {
  const server = await NatsServer.start();
  try {
    // It retried every second for ever: the server's answer never changes.
    await using worker = new WatchedWorker(["--nats", server.url, "--tls"]);
    const { code, stderr } = await worker.end();
    assert.equal(code, 1);
    assert.equal(stderr.length, 1, stderr.join("\n"));
    assert.match(
      stderr[0]!,
      /^futures worker: Cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+: server does not support 'tls', and TLS was asked for/,
    );
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedWorker CLI started before its server waits, says so once, and serves when it comes", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using worker = new WatchedWorker([
    "--nats",
    `nats://127.0.0.1:${port}`,
    "--modules",
    TASKS,
    "--concurrency",
    "1",
  ]);
  const waiting = await worker.waitFor(/trying again/);
  assert.match(waiting!, new RegExp(`nats://127\\.0\\.0\\.1:${port}: connection refused`));
  const server = await NatsServer.start({ port });
  try {
    assert.match((await worker.waitFor(/started/))!, /futures worker .* started/);
    await using executor = new DistributedExecutor({ servers: server.url, modules: [TASKS] });
    assert.equal(await executor.submit(add, 1, 41), 42);
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedWorker CLI --help prints the usage and exits 0; a bad flag is one line", async () => {
  await using help = new WatchedWorker(["--help"]);
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      new URL("../../distributed/worker.ts", import.meta.url).href,
      "--help",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0);
  const text = new TextDecoder().decode(output.stdout);
  assert.match(text, /^Usage:/);
  assert.match(text, /FUTURES_NATS_PASSWORD/);
  assert.equal((await help.end()).code, 0);
  await using bad = new WatchedWorker(["--no-such-flag"]);
  const { code, stderr } = await bad.end();
  assert.equal(code, 2);
  assert.deepEqual(stderr.length, 1);
  assert.match(stderr[0]!, /^futures worker: .*--no-such-flag.*\(see --help\)$/);
});

Deno.test("DistributedExecutor names the URL when it cannot connect", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await using executor = new DistributedExecutor({ servers: `nats://bob:pw@127.0.0.1:${port}` });
  const error = await executor.submit(add, 1, 2).exception();
  assert(error instanceof BrokenExecutorError);
  assert.match(error.message, new RegExp(`nats://127\\.0\\.0\\.1:${port}: connection refused`));
  assert.doesNotMatch(error.message, /pw/);
});

Deno.test("DistributedExecutor() rejects bad connection options naming the option and the value", () => {
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", user: "" }),
    /'user' must be a non-empty string: received /,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", pass: "p" }),
    /'pass' needs 'user'/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", nkeySeed: "nope" }),
    /'nkeySeed' must be a user NKey seed/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", credsFile: "/no/such.creds" }),
    /'credsFile' cannot be read: received "\/no\/such.creds"/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", tls: { caFil: "x" } as never }),
    /'tls.caFil' is not a TLS option/,
  );
  assert.throws(
    () => new DistributedExecutor({ servers: "nats://x", clientId: "a.b" }),
    /'clientId' must be letters, digits, '_' or '-': received "a.b"/,
  );
});

Deno.test("DistributedWorker runs a module's export only for its exact URL or a byte-identical copy, never by file name", async () => {
  const cluster = await Cluster.start({ allowSource: false });
  // Copies at the depth of tests/fixtures/, so that their relative imports resolve.
  const tests = new URL("..", import.meta.url).pathname;
  const dirs = [await Deno.makeTempDir({ dir: tests }), await Deno.makeTempDir({ dir: tests })];
  try {
    const source = await Deno.readTextFile(new URL(TASKS));
    // A stranger's module: another path, the same file name, other contents.
    const forged = `${dirs[0]}/distributed_tasks.ts`;
    await Deno.writeTextFile(forged, `${source}\n// not the worker's module\n`);
    const forgedModule = await import(toFileUrl(forged));
    await using stranger = cluster.executor({ modules: [toFileUrl(forged)] });
    const error = await stranger.submit(forgedModule.add, 1, 2).exception();
    assert(error instanceof TypeError);
    assert.match(error.message, /was not started with that module/);
    // A byte-identical copy at another path is the same module.
    const copy = `${dirs[1]}/distributed_tasks.ts`;
    await Deno.writeTextFile(copy, source);
    const copyModule = await import(toFileUrl(copy));
    await using friend = cluster.executor({ modules: [toFileUrl(copy)] });
    assert.equal(await friend.submit(copyModule.add, 1, 2), 3);
    // By source, on a worker without --allow-source: refused, with a clear error.
    const bySource = await stranger.submit((a: number) => a + 1, 1).exception();
    assert(bySource instanceof TypeError);
    assert.match(bySource.message, /not started with --allow-source/);
  } finally {
    await cluster.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});

function toFileUrl(path: string): string {
  return new URL(`file://${path}`).href;
}

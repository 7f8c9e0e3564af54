// "Passwords in URLs are hidden (`***`) in logs and errors" (README), tokens too: a password that
// held "/" or "@" was printed in full (`nats://worker:Pa/ss-SECRET@host`) or in part
// (`nats://alice:p@ss@host` gave `alice:***@ss@host`), and taken wrong as a credential. The
// credentials written in a URL are everything between "//" and its last "@". Each place that
// prints a server URL is tested: the option check of the executor and of the worker's flags, the
// connect errors, and the worker's start line.

import assert from "node:assert/strict";
import { connectionOptions, describeConnectError, redact } from "../../distributed/_auth.ts";
import { NatsServer } from "../../distributed/_processes.ts";
import { DistributedExecutor } from "../../distributed/mod.ts";
import { parseWorkerArgs } from "../../distributed/worker.ts";
import { add } from "../fixtures/distributed_tasks.ts";
import { TASKS } from "./_cluster.ts";
import { WatchedWorker } from "./_secure.ts";

/** Asserts that `text` holds no part of `secret` longer than two characters. */
function assertHidden(text: string, secret: string): void {
  for (let start = 0; start + 3 <= secret.length; start++) {
    const part = secret.slice(start, start + 3);
    assert(!text.includes(part), `${JSON.stringify(text)} shows ${JSON.stringify(part)}`);
  }
}

/** Passwords and tokens that held characters of a URL's own. */
const SECRETS = [
  "Pa/ss-SECRET",
  "p@ss",
  "p@ss/w:rd",
  "a:b:c",
  "50%off",
  "p%40ss%2Fw%3Ard",
  "@@//::",
];
/** Those that can be tokens: in a URL, a ":" ends a user name. */
const TOKENS = SECRETS.filter((secret) => !secret.includes(":"));

Deno.test("redact() hides a password or token whatever it holds: '/', '@', ':', percent-encoded or not", () => {
  const cases: [string, string][] = [
    ["nats://worker:Pa/ss-SECRET@host:4222", "nats://worker:***@host:4222"],
    ["nats://alice:p@ss@host:4222", "nats://alice:***@host:4222"],
    ["nats://alice:p@ss/w:rd@127.0.0.1:4222", "nats://alice:***@127.0.0.1:4222"],
    ["tls://alice:a:b:c@[::1]:4222", "tls://alice:***@[::1]:4222"],
    ["nats://alice:p%40ss%2Fw%3Ard@host", "nats://alice:***@host"],
    ["nats://alice:pa ss@host:4222", "nats://alice:***@host:4222"],
    ["nats://alice:s3cret@host:4222/x", "nats://alice:***@host:4222/x"],
    // A token alone, which may hold the same characters.
    ["nats://t0k/en@host:4222", "nats://***@host:4222"],
    ["nats://t0k@en@host:4222", "nats://***@host:4222"],
    // Without a scheme (the client takes nats://), and with spaces around.
    ["alice:Pa/ss@host:4222", "alice:***@host:4222"],
    ["t0k/en@host", "***@host"],
    [" nats://alice:p@ss@host ", " nats://alice:***@host "],
    // Nothing to hide.
    ["tls://[::1]:4222", "tls://[::1]:4222"],
    ["nats://127.0.0.1:4222", "nats://127.0.0.1:4222"],
    ["127.0.0.1", "127.0.0.1"],
  ];
  for (const [url, expected] of cases) assert.equal(redact(url), expected, url);
  for (const secret of SECRETS) assertHidden(redact(`nats://alice:${secret}@host:4222`), secret);
  for (const token of TOKENS) {
    assert.equal(redact(`nats://${token}@host:4222`), "nats://***@host:4222");
  }
});

Deno.test("connectionOptions() takes the password or token of a URL whole, and hides it when the URL is refused", () => {
  const cases: [string, Record<string, string>][] = [
    ["nats://alice:p@ss/w:rd@127.0.0.1:4222", { user: "alice", pass: "p@ss/w:rd" }],
    ["nats://alice:p%40ss%2Fw%3Ard@127.0.0.1:4222", { user: "alice", pass: "p@ss/w:rd" }],
    ["nats://alice:a:b:c@127.0.0.1:4222", { user: "alice", pass: "a:b:c" }],
    ["nats://alice:50%off@127.0.0.1:4222", { user: "alice", pass: "50%off" }],
    ["tls://t0k@n/x@127.0.0.1:4222", { token: "t0k@n/x" }],
    ["al%3Aice:pw@127.0.0.1:4222", { user: "al:ice", pass: "pw" }],
  ];
  for (const [url, credentials] of cases) {
    const options = connectionOptions([url], {}, "connect");
    assert.deepEqual(
      { user: options.user, pass: options.pass, token: options.token },
      { user: undefined, pass: undefined, token: undefined, ...credentials },
      url,
    );
    assert.deepEqual(options.servers, [
      `${url.startsWith("tls:") ? "tls" : "nats"}://127.0.0.1:4222`,
    ]);
  }
  // A URL whose host part cannot be parsed is refused by the executor and by the worker's flags,
  // naming it with its credentials hidden.
  const urls: [string, string][] = [
    ...SECRETS.map((secret): [string, string] => [secret, `nats://alice:${secret}@127.0.0.1:x`]),
    ...TOKENS.map((token): [string, string] => [token, `nats://${token}@h:x`]),
  ];
  for (const [secret, url] of urls) {
    const masked = url.replace(/\/\/.*@/, url.includes("alice") ? "//alice:***@" : "//***@");
    const refused = (error: unknown) => {
      assert(error instanceof TypeError);
      assert(error.message.includes(`received "${masked}"`), error.message);
      assertHidden(error.message, secret);
      return true;
    };
    assert.throws(() => new DistributedExecutor({ servers: url, modules: [TASKS] }), refused);
    assert.throws(() => parseWorkerArgs(["--nats", url]), refused);
    const env = (name: string) => name === "FUTURES_NATS_URL" ? url : undefined;
    assert.throws(() => parseWorkerArgs([], env), refused);
  }
});

Deno.test("FUTURES_NATS_URL keeps a password that holds ',' whole, and an error never shows a piece of it", () => {
  const env = (url: string) => (name: string) => name === "FUTURES_NATS_URL" ? url : undefined;
  const listed = "nats://alice:s3,cr,et@127.0.0.1:4222, tls://127.0.0.1:4223";
  const { servers } = parseWorkerArgs([], env(listed));
  assert.deepEqual(servers, ["nats://alice:s3,cr,et@127.0.0.1:4222", "tls://127.0.0.1:4223"]);
  const options = connectionOptions(servers, {}, "connect");
  assert.deepEqual([options.user, options.pass], ["alice", "s3,cr,et"]);
  // Without credentials, every comma separates servers, with or without schemes; with them, a
  // list that read as servers before still does.
  const cases: [string, string[]][] = [
    ["h1:4222, nats://h2:4222", ["h1:4222", "nats://h2:4222"]],
    ["nats://alice:pw@h1:4222,h2:4222", ["nats://alice:pw@h1:4222", "h2:4222"]],
    ["h1:4222,nats://alice:pw@h3:4222", ["h1:4222", "nats://alice:pw@h3:4222"]],
    ["nats://alice:pw@h1,h2", ["nats://alice:pw@h1", "h2"]],
    ["alice:pw@h1,alice:pw@h2", ["alice:pw@h1", "alice:pw@h2"]],
  ];
  for (const [value, expected] of cases) {
    assert.deepEqual(parseWorkerArgs([], env(value)).servers, expected, value);
  }
  // Where a comma could end a server or sit in a password, or a server does not parse, the list
  // is refused, and no piece of the password shows.
  const refused: [string, RegExp][] = [
    ["nats://alice:zq9,wv7,kj2@h1:x", /zq9|wv7|kj2/],
    ["nats://alice:1234,5678@h1", /1234|5678/],
    ["nats://h1:4222,alice:zq9,wv7@h2", /zq9|wv7/],
  ];
  for (const [value, secret] of refused) {
    assert.throws(() => parseWorkerArgs([], env(value)), (error: unknown) => {
      assert(error instanceof TypeError);
      assert.match(error.message, /FUTURES_NATS_URL/);
      assert(!secret.test(error.message), error.message);
      return true;
    }, value);
  }
});

Deno.test("describeConnectError() hides the credentials of the URLs it names", () => {
  const urls = SECRETS.map((secret, i) => `nats://alice:${secret}@host${i}:4222`);
  const tokens = TOKENS.map((token, i) => `tls://${token}@other${i}:4222`);
  for (const error of [new Error("connection refused"), new Error("Authorization Violation")]) {
    const message = describeConnectError([...urls, ...tokens], error);
    for (const secret of SECRETS) assertHidden(message, secret);
    SECRETS.forEach((_, i) => assert(message.includes(`nats://alice:***@host${i}:4222`), message));
    TOKENS.forEach((_, i) => assert(message.includes(`tls://***@other${i}:4222`), message));
  }
});

Deno.test("a password that holds '@', '/' and ':' in a URL connects the executor and the worker, and the worker's start line hides it", async () => {
  const secret = "p@ss/w:rd";
  const server = await NatsServer.start({
    config: `authorization { users = [ { user: alice, password: "${secret}" } ] }`,
  });
  try {
    const url = `nats://alice:${secret}@127.0.0.1:${server.port}`;
    await using worker = new WatchedWorker([
      "--nats",
      url,
      "--modules",
      TASKS,
      "--concurrency",
      "1",
    ]);
    const line = await worker.waitFor(/started|trying again|Cannot/);
    assert.match(
      line ?? worker.seen.join("\n"),
      new RegExp(`started: .* servers=nats://alice:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}$`),
    );
    assertHidden(line!, secret);
    {
      await using executor = new DistributedExecutor({ servers: url, modules: [TASKS] });
      assert.equal(await executor.submit(add, 40, 2), 42);
    }
    // A wrong password of the same kind is refused, and named nowhere.
    const wrong = "wr@ng/pa:ss";
    await using refused = new DistributedExecutor({
      servers: `nats://alice:${wrong}@127.0.0.1:${server.port}`,
      modules: [TASKS],
    });
    const error = await refused.whenStarted().then(() => undefined, (e: unknown) => e);
    assert(error instanceof Error);
    assert.match(error.message, /refused the credentials/);
    assertHidden(error.message, wrong);
    assertHidden(worker.seen.join("\n"), secret);
  } finally {
    await server.destroy();
  }
});

Deno.test("the worker CLI starts with FUTURES_NATS_URL holding credentials and more than one server", async () => {
  // It used to crash first: its main block ran before a constant the list's parser reads was
  // initialized ("Cannot access 'SCHEME' before initialization").
  const secret = "zq9-secret";
  const server = await NatsServer.start({
    config: `authorization { users = [ { user: worker, password: "${secret}" } ] }`,
  });
  try {
    const url = `nats://worker:${secret}@127.0.0.1:${server.port}`;
    await using worker = new WatchedWorker(
      ["--modules", TASKS, "--concurrency", "1", "--isolation", "inline"],
      { FUTURES_NATS_URL: `${url},${url}` },
    );
    const line = await worker.waitFor(/started|trying again|Cannot/);
    const masked = `nats://worker:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}`;
    assert.match(
      line ?? worker.seen.join("\n"),
      new RegExp(`started: .* servers=${masked},${masked}$`),
    );
    assertHidden(worker.seen.join("\n"), secret);
  } finally {
    await server.destroy();
  }
});

Deno.test("DistributedExecutor and the worker's flags and variables name the type of a bad password, token, NKey seed or TLS key, never its value", () => {
  const servers = "nats://127.0.0.1:4222";
  const secret = 98765432;
  const cases: [Record<string, unknown>, string, string][] = [
    [{ user: "alice", pass: secret }, "pass", "a number"],
    [{ token: secret }, "token", "a number"],
    [{ nkeySeed: secret }, "nkeySeed", "a number"],
    [{ tls: { key: secret } }, "tls.key", "a number"],
    [{ token: [secret] }, "token", "an array"],
    [{ user: "alice", pass: "" }, "pass", "an empty string"],
  ];
  for (const [options, name, type] of cases) {
    assert.throws(() => new DistributedExecutor({ servers, ...options }), (error: unknown) => {
      assert(error instanceof TypeError);
      assert.match(
        error.message,
        new RegExp(`'${name}' must be a non-empty string: received ${type}$`),
      );
      assertHidden(error.message, String(secret));
      return true;
    });
  }
  // The worker's flags and variables are text: only an empty one is refused so, which says so.
  const flags: [string[], Record<string, string>, string][] = [
    [["--user", "alice", "--password", ""], {}, "--password / FUTURES_NATS_PASSWORD"],
    [["--token", ""], {}, "--token / FUTURES_NATS_TOKEN"],
    [["--user", "alice"], { FUTURES_NATS_PASSWORD: "" }, "--password / FUTURES_NATS_PASSWORD"],
    [[], { FUTURES_NATS_TOKEN: "" }, "--token / FUTURES_NATS_TOKEN"],
    [[], { FUTURES_NATS_NKEY_SEED: "" }, "--nkey-seed-file / FUTURES_NATS_NKEY_SEED"],
  ];
  for (const [args, env, name] of flags) {
    assert.throws(() => parseWorkerArgs(args, (key) => env[key]), (error: unknown) => {
      assert(error instanceof TypeError);
      assert(
        error.message.endsWith(`'${name}' must be a non-empty string: received an empty string`),
        error.message,
      );
      return true;
    });
  }
  // Other refusals of a secret flag or variable do not show it either.
  const others: [string[], Record<string, string>][] = [
    [["--password", String(secret)], {}],
    [[], { FUTURES_NATS_PASSWORD: String(secret) }],
    [[], { FUTURES_NATS_NKEY_SEED: String(secret) }],
  ];
  for (const [args, env] of others) {
    assert.throws(() => parseWorkerArgs(args, (key) => env[key]), (error: unknown) => {
      assert(error instanceof TypeError);
      assertHidden(error.message, String(secret));
      return true;
    });
  }
});

Deno.test("the worker's flags refuse a positional argument without showing it", () => {
  // A password typed after a flag that takes none, or with a space in it, came back whole in
  // "Unexpected argument 'hunter2'".
  const base = ["--nats", "nats://127.0.0.1:4222", "--modules", "file:///tasks.ts"];
  assert.throws(
    () => parseWorkerArgs([...base, "--user", "alice", "hunter2"], () => undefined),
    (error) =>
      error instanceof TypeError && !error.message.includes("hunter2") &&
      /takes no positional arguments: received 1 \(not shown/.test(error.message),
  );
});

/**
 * The worker process of {@linkcode DistributedExecutor}: run it on each machine that should run
 * tasks.
 *
 * ```sh
 * deno run --allow-net --allow-read --allow-run --allow-env --allow-sys=hostname \
 *   jsr:@concurrent/futures/worker --nats nats://nats-host:4222 --queue default \
 *   --modules file:///app/tasks.ts --concurrency 8 --isolation process
 * ```
 *
 * Flags: `--nats URL` (repeatable; default `nats://127.0.0.1:4222`), `--queue NAME` (default
 * `default`), `--modules URL` (repeatable), `--concurrency N` (default: the number of CPUs),
 * `--isolation process|worker|inline` (default `process`; `inline` runs tasks in the worker's own process), `--allow-source` (run functions sent by source:
 * this is remote code execution, off by default), `--name NAME`, `--heartbeat MS` (how often it tells
 * watching clients it is alive; default 2000), `--quiet` (no start and stop
 * lines), and the connection's: `--user`, `--password`, `--token`, `--nkey-seed-file PATH`,
 * `--creds PATH`, `--tls`, `--tls-ca PATH`, `--tls-cert PATH`, `--tls-key PATH`. Each of those can
 * come from an environment variable instead, which keeps secrets off the command line:
 * `FUTURES_NATS_URL` (comma-separated), `FUTURES_NATS_USER`, `FUTURES_NATS_PASSWORD`,
 * `FUTURES_NATS_TOKEN`, `FUTURES_NATS_NKEY_SEED` (the seed itself), `FUTURES_NATS_CREDS`,
 * `FUTURES_NATS_TLS_CA`, `FUTURES_NATS_TLS_CERT`, `FUTURES_NATS_TLS_KEY`; a flag wins over its
 * variable. The JetStream settings `--ack-wait MS`, `--replicas N`, `--storage file|memory`,
 * `--result-ttl MS`, `--max-in-flight N`, `--max-deliveries N` and `--stream-max-messages N` are
 * those of the executor's options of the same names: they create the queue's stream, consumer and
 * stores when missing, and when these exist a flag that differs from them stops the worker with an
 * error naming the setting, the value in place and the one asked for. `--help` prints the usage. A
 * worker started before its server waits for it (it logs one line); refused credentials end it
 * with one line and exit code 1, at the start or on a reconnect. SIGTERM or SIGINT drains it: it
 * stops pulling, finishes the running tasks and exits (closing a connection whose drain the
 * server leaves unanswered for 5 s).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkerArgs } from "@concurrent/futures/worker";
 *
 * const options = parseWorkerArgs(["--queue", "images", "--concurrency", "2"]);
 * assert.equal(options.queue, "images");
 * assert.equal(options.concurrency, 2);
 * ```
 *
 * @module
 */

import { show } from "../future/_options.ts";
import { parseArgs } from "node:util";
import { DistributedWorker, type WorkerRunOptions } from "./_worker_runtime.ts";
import { moduleUrl } from "../actors/_module_url.ts";
import { LAYOUT_FLAGS, layoutFlags } from "./_settings.ts";
import { checkDurations } from "./_layout.ts";
import { connectionOptions, type NatsConnectOptions } from "./_auth.ts";
import { type Isolation, ISOLATIONS } from "./_local_pool.ts";

export { DistributedWorker, type WorkerRunOptions };
// What a task running here can see as its signal's reason, or its caller as its error.
export { CancelledError, TimeoutError, WorkerCrashedError } from "../future/errors.ts";

/** The text `--help` prints. */
const USAGE = `Usage:
deno run --allow-net --allow-read --allow-run --allow-env --allow-sys=hostname \\
  jsr:@concurrent/futures/worker [options]

Runs the tasks of a DistributedExecutor's queue.

Options:
  --nats URL            NATS server (repeatable; env FUTURES_NATS_URL, comma-separated)
                        (default nats://127.0.0.1:4222)
  --queue NAME          the queue whose tasks it runs (default default)
  --modules URL         a task module whose exports it runs (repeatable)
  --concurrency N       tasks at once (default: the number of CPUs)
  --isolation KIND      process (a subprocess per lane), worker (Web Workers) or inline (in this
                        process: fastest, trusted modules only; a timeout cannot stop a task)
                        (default process)
  --allow-source        run functions sent by source (remote code execution; off by default)
  --name NAME           its name in logs and stats (default host:pid)
  --heartbeat MS        how often it tells watching clients it is alive (default 2000)
  --quiet               no start and stop lines
JetStream settings (they create what is missing; given for what exists, they must match it):
  --ack-wait MS         ms a task may be held without a sign of life (default 30000)
  --replicas N          replicas of the stream and stores in a NATS cluster (default 1)
  --storage KIND        file or memory (default file)
  --result-ttl MS       ms an outcome is kept; the stream's max_age (default 3600000)
  --max-in-flight N     tasks held by workers across the cluster (default 1000)
  --max-deliveries N    deliveries per task at most, the server's limit (default 10)
  --stream-max-messages N  messages the task stream holds at most (default 1000000)
Connection:
  --user NAME           NATS user (env FUTURES_NATS_USER)
  --password TEXT       its password (env FUTURES_NATS_PASSWORD: keeps it off the command line)
  --token TEXT          NATS token (env FUTURES_NATS_TOKEN)
  --nkey-seed-file PATH a file holding an NKey seed (env FUTURES_NATS_NKEY_SEED: the seed)
  --creds PATH          a .creds file (env FUTURES_NATS_CREDS)
  --tls                 require TLS
  --tls-ca PATH         CA certificate, PEM (env FUTURES_NATS_TLS_CA)
  --tls-cert PATH       client certificate, PEM (env FUTURES_NATS_TLS_CERT)
  --tls-key PATH        its key, PEM (env FUTURES_NATS_TLS_KEY)
  -h, --help            show this help`;

/** Reads an environment variable; without permission to read it, it counts as unset. */
function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the worker's command-line flags, and the `FUTURES_NATS_*` environment variables for what
 * the flags leave out.
 *
 * @param args the flags, such as `Deno.args`
 * @param env reads an environment variable (by default `Deno.env.get`; one it may not read
 * counts as unset)
 * @returns the options {@linkcode DistributedWorker.start} takes
 * @throws {RangeError} or {TypeError} for a flag with a bad value, naming it and the value
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseWorkerArgs } from "@concurrent/futures/worker";
 *
 * assert.equal(parseWorkerArgs(["--isolation", "worker"]).isolation, "worker");
 * const env = { FUTURES_NATS_PASSWORD: "s3cret" } as Record<string, string>;
 * const options = parseWorkerArgs(["--user", "alice"], (name) => env[name]);
 * assert.deepEqual(options.connection, { user: "alice", pass: "s3cret" });
 * ```
 */
export function parseWorkerArgs(
  args: string[],
  env: (name: string) => string | undefined = readEnv,
): WorkerRunOptions {
  const { values, positionals } = parseArgs({
    args,
    options: {
      nats: { type: "string", multiple: true },
      queue: { type: "string", default: "default" },
      modules: { type: "string", multiple: true },
      concurrency: { type: "string" },
      isolation: { type: "string", default: "process" },
      "allow-source": { type: "boolean", default: false },
      name: { type: "string" },
      "ack-wait": { type: "string" },
      ...LAYOUT_FLAGS,
      heartbeat: { type: "string" },
      quiet: { type: "boolean", default: false },
      user: { type: "string" },
      password: { type: "string" },
      token: { type: "string" },
      "nkey-seed-file": { type: "string" },
      creds: { type: "string" },
      tls: { type: "boolean", default: false },
      "tls-ca": { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
    },
    strict: true,
    // Refused below, without their text: a stray one may be a secret typed after a flag that
    // takes none, or with a space in it (`--user alice hunter2`).
    allowPositionals: true,
  });
  const what = "start the worker";
  if (positionals.length > 0) {
    throw new TypeError(
      `Cannot ${what} as it takes no positional arguments: received ${positionals.length} (not shown, as one may be a secret); every value follows its flag, as in --user NAME`,
    );
  }
  const concurrency = values.concurrency === undefined
    ? navigator.hardwareConcurrency
    : Number(values.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(
      `Cannot ${what} as '--concurrency' must be a positive integer: received ${
        show(values.concurrency)
      }`,
    );
  }
  if (!ISOLATIONS.includes(values.isolation as Isolation)) {
    throw new TypeError(
      `Cannot ${what} as '--isolation' must be "process", "worker" or "inline": received ${
        show(values.isolation)
      }`,
    );
  }
  if (!/^[A-Za-z0-9_-]+$/.test(values.queue)) {
    throw new TypeError(
      `Cannot ${what} as '--queue' must be letters, digits, '_' or '-': received ${
        show(values.queue)
      }`,
    );
  }
  const listed = env("FUTURES_NATS_URL");
  const urls = values.nats ?? (listed === undefined ? undefined : serverList(listed, what));
  const options: WorkerRunOptions = {
    servers: urls ?? ["nats://127.0.0.1:4222"],
    queue: values.queue,
    modules: (values.modules ?? []).map((m) => moduleUrl(m, what, "--modules")),
    concurrency,
    isolation: values.isolation as Isolation,
    allowSource: values["allow-source"],
    name: values.name ?? `${Deno.hostname()}:${Deno.pid}`,
    quiet: values.quiet,
    ...layoutFlags(values, what),
  };
  if (values["ack-wait"] !== undefined) {
    const ackWait = Number(values["ack-wait"]);
    if (!Number.isInteger(ackWait) || ackWait < 1) {
      throw new RangeError(
        `Cannot ${what} as '--ack-wait' must be a positive integer: received ${
          show(values["ack-wait"])
        }`,
      );
    }
    options.ackWait = ackWait;
  }
  checkDurations(what, options, (key) => key === "ackWait" ? "--ack-wait" : "--result-ttl");
  if (values.heartbeat !== undefined) {
    const heartbeat = Number(values.heartbeat);
    // A timer's delay is a 32-bit signed number of ms: a longer one fires every millisecond.
    if (!Number.isInteger(heartbeat) || heartbeat < 1 || heartbeat >= 2 ** 31) {
      throw new RangeError(
        `Cannot ${what} as '--heartbeat' must be an integer from 1 to 2^31 - 1 (ms): received ${
          show(values.heartbeat)
        }`,
      );
    }
    options.heartbeat = heartbeat;
  }
  const connection: NatsConnectOptions = {};
  const set = <K extends keyof NatsConnectOptions>(
    key: K,
    value: NatsConnectOptions[K] | undefined,
  ) => {
    if (value !== undefined) connection[key] = value;
  };
  set("user", values.user ?? env("FUTURES_NATS_USER"));
  set("pass", values.password ?? env("FUTURES_NATS_PASSWORD"));
  set("token", values.token ?? env("FUTURES_NATS_TOKEN"));
  const seedFile = values["nkey-seed-file"];
  if (seedFile !== undefined) {
    try {
      set("nkeySeed", Deno.readTextFileSync(seedFile).trim());
    } catch (error) {
      throw new TypeError(
        `Cannot ${what} as '--nkey-seed-file' cannot be read: received ${show(seedFile)} (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
  } else set("nkeySeed", env("FUTURES_NATS_NKEY_SEED"));
  set("credsFile", values.creds ?? env("FUTURES_NATS_CREDS"));
  const tls: Record<string, string> = {};
  const file = (key: string, value: string | undefined) => {
    if (value !== undefined) tls[key] = value;
  };
  file("caFile", values["tls-ca"] ?? env("FUTURES_NATS_TLS_CA"));
  file("certFile", values["tls-cert"] ?? env("FUTURES_NATS_TLS_CERT"));
  file("keyFile", values["tls-key"] ?? env("FUTURES_NATS_TLS_KEY"));
  if (Object.keys(tls).length > 0) connection.tls = tls;
  else if (values.tls) connection.tls = true;
  if (Object.keys(connection).length > 0) options.connection = connection;
  // Checked now, naming the flags and variables (a URL that cannot be parsed was retried for
  // ever, and errors named the executor's options).
  connectionOptions([options.servers].flat(), connection, what, CLI_NAMES);
  return options;
}

/** The flags and variables behind the connection options, for errors. */
const CLI_NAMES: Readonly<Record<string, string>> = {
  servers: "--nats / FUTURES_NATS_URL",
  user: "--user / FUTURES_NATS_USER",
  pass: "--password / FUTURES_NATS_PASSWORD",
  token: "--token / FUTURES_NATS_TOKEN",
  nkeySeed: "--nkey-seed-file / FUTURES_NATS_NKEY_SEED",
  credsFile: "--creds / FUTURES_NATS_CREDS",
};

/** The first sentence of an error, for a one-line message. */
function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!;
}

/**
 * Removes the connection's variables (`FUTURES_NATS_PASSWORD`...) from this process's environment
 * once read: the task processes it starts inherit its environment, and a task has no business
 * reading the worker's credentials.
 */
function forgetSecrets(): void {
  try {
    for (const name of Object.keys(Deno.env.toObject())) {
      if (name.startsWith("FUTURES_NATS_")) Deno.env.delete(name);
    }
  } catch {
    // Without the right to write the environment, a task may read it only with that right too.
  }
}

/**
 * The servers of a comma-separated list (`FUTURES_NATS_URL`). A comma separates servers, except in
 * a password or token: a server whose text has no "@" yet and does not read as a host and port
 * (`nats://alice:pa`, of `nats://alice:pa,rt@host`) goes on past the comma. A list that could be
 * read two ways (`nats://alice:12,34@host`: a server `alice:12`, or a password `12,34`), or that
 * ends in a server cut that way, is refused without being shown: a piece of a password must not
 * appear in an error.
 */
function serverList(value: string, what: string): string[] {
  // No credentials: every comma separates servers (and an error may show them).
  if (!value.includes("@")) return value.split(",").map((url) => url.trim());
  const servers: string[] = [];
  let open = false;
  for (const piece of value.split(",")) {
    if (open) servers[servers.length - 1] += `,${piece}`;
    else servers.push(piece);
    const server = servers.at(-1)!;
    open = !server.includes("@") && !URL.canParse(`http://${server.replace(SCHEME, "").trim()}`);
  }
  const hidden = "(not shown: it may hold a password)";
  if (open) {
    throw new TypeError(
      `Cannot ${what} as 'FUTURES_NATS_URL' must hold URLs of NATS servers, comma-separated ` +
        `${hidden}: a server does not read as host:port; write a ',' in a password as %2C`,
    );
  }
  // `nats://h1:4222,alice:pw@h2` could also be one server: user h1, password `4222,alice:pw`.
  for (let i = 1; i < servers.length; i++) {
    const server = servers[i]!;
    if (server.includes("@") && !SCHEME.test(server) && !servers[i - 1]!.includes("@")) {
      throw new TypeError(
        `Cannot ${what} as 'FUTURES_NATS_URL' is ambiguous ${hidden}: a server with credentials ` +
          "and no scheme follows one without; give each server its scheme (nats://, tls://), " +
          "and write a ',' in a password as %2C",
      );
    }
  }
  return servers.map((url) => url.trim());
}

/** A URL's scheme, with the spaces before it. */
const SCHEME = /^\s*[a-z][a-z0-9+.-]*:\/\//i;

// Last in the module: it runs as the module loads, and reads constants declared above it (one
// declared below, such as SCHEME was, is not initialized yet when it runs).
if (import.meta.main) {
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  let options: WorkerRunOptions;
  try {
    options = parseWorkerArgs(Deno.args);
  } catch (error) {
    console.error(`futures worker: ${oneLine(error)} (see --help)`);
    Deno.exit(2);
  }
  if (!options.quiet) options.log = (line) => console.error(line);
  forgetSecrets();
  // The signals are listened to before the worker starts: without a listener a signal ends the
  // process at once, so one that came as the worker started (its first heartbeat out, tasks
  // perhaps pulled) would skip the drain and the last heartbeat. A signal during the start
  // drains the worker once it has started; one that comes while it waits for a server that may
  // never come ends it a second later.
  let worker: DistributedWorker | undefined;
  let stopAsked = false;
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  const drain = () => {
    if (worker) return void worker.stop().then(() => Deno.exit(0));
    if (stopAsked) return;
    stopAsked = true;
    giveUp = setTimeout(() => Deno.exit(0), 1_000);
  };
  Deno.addSignalListener("SIGTERM", drain);
  Deno.addSignalListener("SIGINT", drain);
  try {
    worker = await DistributedWorker.start(options);
  } catch (error) {
    console.error(`futures worker: ${oneLine(error)}`);
    Deno.exit(1);
  }
  // A connection closed for good (the server refused its credentials on a reconnect) ends it as
  // refused credentials do at the start, with one line and exit code 1: its supervisor starts it
  // again, with whatever credentials it is given then.
  const { name } = worker;
  void worker.closed().then((error) => {
    if (error === undefined) return;
    console.error(`futures worker ${name}: ${oneLine(error)}`);
    Deno.exit(1);
  });
  if (stopAsked) {
    clearTimeout(giveUp);
    drain();
  }
}

// Local processes the distributed executor starts: an embedded nats-server and worker processes.
// Each one's PID is written to a file under `pidDir()`, so that a CI runner killed by a timeout can
// end the orphans (`.ci/run` does); the file goes when the process has been ended. The file holds
// the PID and the process's start time (Linux), so that a cleanup never signals an unrelated
// process that happens to reuse the PID later.

import type { Isolation } from "./_local_pool.ts";
import { guard, unguard } from "../actors/_process_watchdog.ts";

/** Process groups (and `kill(-pgid)`) are a POSIX notion. */
const GROUPS = Deno.build.os !== "windows";

const WORKER_URL = new URL("./worker.ts", import.meta.url);

/**
 * The directory where PID files of started processes are kept: `FUTURES_PID_DIR` when set (a CI
 * run sets a directory of its own: it is the caller's, used as it is, made with mode 0700 if
 * missing), else `concurrent-futures-pids-UID` under the temporary directory, made with mode 0700.
 * Another local user may have made that one first (the temporary directory is shared), or made
 * it a symbolic link: unless it is a directory of this user's own with mode 0700 (checked without
 * following a link), it is not used, and the PID files go to a new private directory there
 * instead (with a warning, once). Refusing to start at all would let any local user stop every
 * embedded executor of another one by making one directory; the private directory is as safe,
 * and only its name is not known in advance (nothing relies on it: a CI run names its own). The
 * same goes where the user is not known (no `--allow-sys=uid`, or Windows).
 */
export function pidDir(): string {
  const own = Deno.env.get("FUTURES_PID_DIR");
  if (own) {
    Deno.mkdirSync(own, { recursive: true, mode: 0o700 });
    return own;
  }
  const tmp = Deno.env.get("TMPDIR") || "/tmp";
  const uid = ownUid();
  if (uid === undefined || uid === null) return privatePidDir(tmp, "");
  const shared = `${tmp}/concurrent-futures-pids-${uid}`;
  try {
    Deno.mkdirSync(shared, { mode: 0o700 });
    // The umask may have taken bits off; nobody else can have the directory yet.
    Deno.chmodSync(shared, 0o700);
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
  }
  const info = Deno.lstatSync(shared);
  if (info.isDirectory && info.uid === uid && info.mode !== null && (info.mode & 0o777) === 0o700) {
    return shared;
  }
  const what = info.isSymlink
    ? "a symbolic link"
    : !info.isDirectory
    ? "not a directory"
    : info.uid !== uid
    ? `owned by uid ${info.uid}`
    : `open to others (mode ${((info.mode ?? 0) & 0o777).toString(8).padStart(4, "0")})`;
  return privatePidDir(tmp, `${shared} is ${what}, not a private directory of this user`);
}

/** This program's user id; null where there is none (Windows), undefined without permission. */
function ownUid(): number | null | undefined {
  try {
    // Asked first: Deno.uid() would prompt for the permission on a terminal.
    if (Deno.permissions.querySync({ name: "sys", kind: "uid" }).state !== "granted") {
      return undefined;
    }
    return Deno.uid();
  } catch {
    return undefined;
  }
}

/** The private PID directories made in place of a shared one, by the temporary directory. */
const privateDirs = new Map<string, string>();

/**
 * A directory of this program's own under `tmp` (made once, with mode 0700 and a new name), and
 * removed at the program's end if no PID file is left there; `why` it is used, warned once.
 */
function privatePidDir(tmp: string, why: string): string {
  let dir = privateDirs.get(tmp);
  if (dir === undefined) {
    dir = Deno.makeTempDirSync({ dir: tmp, prefix: "concurrent-futures-pids-" });
    privateDirs.set(tmp, dir);
    const made = dir;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(made);
      } catch {
        // PID files of processes still running are kept (or it is gone already).
      }
    });
    if (why) console.warn(`concurrent-futures: ${why}; PID files go to ${dir} instead`);
  }
  return dir;
}

/**
 * Creates the PID file `path` holding `text`, never through what is already there: a symbolic
 * link or a file someone else planted under that name is refused (an Error that names it). A
 * regular file of this user's own is a stale one (a process that had the same PID was killed with
 * its program) and is replaced.
 */
function createPidFile(path: string, text: string): void {
  for (let attempt = 0;; attempt++) {
    try {
      // O_CREAT | O_EXCL: fails on anything already there, a dangling link included.
      Deno.writeTextFileSync(path, text, { createNew: true, mode: 0o600 });
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists) || attempt > 0) throw error;
    }
    const info = Deno.lstatSync(path);
    const uid = ownUid();
    if (!info.isFile || uid === undefined || info.uid !== uid) {
      const what = info.isSymlink
        ? "a symbolic link"
        : !info.isFile
        ? "not a regular file"
        : uid === undefined
        ? "a file whose owner cannot be checked (no --allow-sys=uid)"
        : `a file of uid ${info.uid}`;
      throw new Error(
        `Cannot write the PID file ${path}: something is there already (${what}); remove it`,
      );
    }
    Deno.removeSync(path);
  }
}

/**
 * The start time of a process in clock ticks since boot (field 22 of `/proc/PID/stat`), or
 * `undefined` where there is no procfs. Together with the PID it names one process for good.
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

/** A child process with a PID file; `stop()` ends it and waits for it. */
export class Spawned {
  readonly pid: number;
  readonly status: Promise<Deno.CommandStatus>;
  readonly #child: Deno.ChildProcess;
  #pidFile: string;
  #exited = false;

  /**
   * @param child the process
   * @param role what it is, in its PID file's name
   * @param dir a directory of its own, removed when this program ends while it runs
   */
  constructor(child: Deno.ChildProcess, role: string, dir?: string) {
    this.#child = child;
    this.pid = child.pid;
    let pidFile: string;
    try {
      pidFile = `${pidDir()}/${role}-${child.pid}.pid`;
      createPidFile(pidFile, `${child.pid} ${processStartTime(child.pid) ?? ""}\n`);
    } catch (error) {
      // A process without its PID file is not started: nothing could end it after a crash.
      try {
        child.kill("SIGKILL");
      } catch {
        // It has exited already.
      }
      throw error;
    }
    this.#pidFile = pidFile;
    // It ends with this program, however the program ends (a SIGKILL included): the watchdog of
    // the process pools (actors/_process_watchdog.ts) kills it when this program is gone, and
    // removes its directory.
    guard(child.pid, dir);
    // The status comes once the PID file is gone, so that nothing is left running after it.
    this.status = child.status.then(async (status) => {
      this.#exited = true;
      await Promise.all([Deno.remove(this.#pidFile).catch(() => {}), unguard(child.pid)]);
      return status;
    });
  }

  /** Whether the process has exited. */
  get exited(): boolean {
    return this.#exited;
  }

  /** Sends a signal unless the process has exited. */
  kill(signal: Deno.Signal = "SIGKILL"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // It has exited already.
    }
  }

  /** Sends `signal`, then SIGKILL if it is still running after `grace` ms; waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM", grace = 10_000): Promise<Deno.CommandStatus> {
    this.kill(signal);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.kill("SIGKILL");
        resolve();
      }, grace);
    });
    await Promise.race([this.status, forced]);
    clearTimeout(timer);
    return await this.status;
  }
}

/** The directories searched for nats-server: PATH, then where Debian and `make install` put it. */
function natsDirs(): string[] {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    // No permission to read PATH: the fixed places only.
  }
  return [...path.split(":").filter(Boolean), "/usr/sbin", "/usr/local/sbin"];
}

/** The nats-server binary named by `FUTURES_NATS_SERVER`, if that variable is set. */
export function natsServerFromEnv(): string | undefined {
  try {
    return Deno.env.get("FUTURES_NATS_SERVER") || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where nats-server is, or undefined: the file `FUTURES_NATS_SERVER` names if it is set, else on
 * PATH, or in /usr/sbin where Debian puts it. The embedded server and the test runner look it up
 * the same way.
 */
export function lookupNatsServer(dirs?: string[]): string | undefined {
  const named = dirs ? undefined : natsServerFromEnv();
  if (named !== undefined) {
    try {
      return Deno.statSync(named).isFile ? named : undefined;
    } catch {
      return undefined;
    }
  }
  for (const dir of dirs ?? natsDirs()) {
    const path = `${dir}/nats-server`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not there.
    }
  }
  return undefined;
}

/** Where nats-server is; throws an Error that says how to install it when it is missing. */
export function findNatsServer(dirs?: string[]): string {
  const found = lookupNatsServer(dirs);
  if (found) return found;
  throw new Error(
    "Cannot start an embedded NATS server as 'nats-server' was not found (FUTURES_NATS_SERVER, PATH, /usr/sbin): " +
      "install it (on Debian or Ubuntu: `apt-get install nats-server`; elsewhere see " +
      "https://docs.nats.io/running-a-nats-service/introduction/installation) or pass 'servers'",
  );
}

/** A nats-server with JetStream on 127.0.0.1, its store in a directory of its own. */
export class NatsServer {
  readonly dir: string;
  readonly port: number;
  readonly url: string;
  #process: Spawned;

  private constructor(dir: string, port: number, process: Spawned) {
    this.dir = dir;
    this.port = port;
    this.url = `nats://127.0.0.1:${port}`;
    this.#process = process;
  }

  get pid(): number {
    return this.#process.pid;
  }

  /** Whether the server process has exited. */
  get exited(): boolean {
    return this.#process.exited;
  }

  /** Resolves when the server process has exited, with how it ended. */
  get status(): Promise<Deno.CommandStatus> {
    return this.#process.status;
  }

  /**
   * Starts a server on a random port (or `port`) with its store in `dir` (a new temporary one by
   * default), and with the settings of a configuration file's text, `config`, if given (its
   * listen address, port and store directory are overridden), and requiring `token` of every
   * client if given; resolves once it listens.
   */
  static async start(
    options: { dir?: string; port?: number; config?: string; token?: string } = {},
  ): Promise<NatsServer> {
    const binary = findNatsServer();
    const dir = options.dir ?? await Deno.makeTempDir({ prefix: "futures-nats-" });
    const portsDir = `${dir}/ports`;
    await Deno.mkdir(portsDir, { recursive: true });
    for await (const entry of Deno.readDir(portsDir)) {
      await Deno.remove(`${portsDir}/${entry.name}`);
    }
    const config: string[] = [];
    // A token goes in the configuration file (mode 0600), not on the command line, which every
    // local user can read.
    const text = [
      options.config ?? "",
      options.token === undefined
        ? ""
        : `authorization { token: ${JSON.stringify(options.token)} }`,
    ].join("\n");
    if (text.trim() !== "") {
      await Deno.writeTextFile(`${dir}/nats.conf`, text, { mode: 0o600 });
      config.push("-c", `${dir}/nats.conf`);
    }
    const child = new Deno.Command(binary, {
      args: [
        ...config,
        "-a",
        "127.0.0.1",
        "-p",
        String(options.port ?? -1),
        "-js",
        "-sd",
        `${dir}/store`,
        "--ports_file_dir",
        portsDir,
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      // Its own process group: a Ctrl-C meant for this program reaches it through the program
      // (which stops it, or whose end the watchdog sees), not before the program's own handlers.
      detached: GROUPS,
    }).spawn();
    // A store made here goes with the program when the program ends while the server runs.
    const process = new Spawned(child, "nats-server", options.dir === undefined ? dir : undefined);
    const file = `${portsDir}/nats-server_${child.pid}.ports`;
    let exited = false;
    process.status.then(() => exited = true);
    for (let waited = 0;; waited += 10) {
      try {
        const ports = JSON.parse(await Deno.readTextFile(file)) as { nats: string[] };
        const port = Number(new URL(ports.nats[0]!).port);
        return new NatsServer(dir, port, process);
      } catch {
        if (exited || waited > 10_000) {
          process.kill();
          await process.status;
          throw new Error(`Cannot start an embedded NATS server: ${binary} did not start`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  /** Sends `signal` and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    await this.#process.stop(signal);
  }

  /** Stops the server and removes its store. */
  async destroy(): Promise<void> {
    await this.#process.stop("SIGTERM");
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

/** What a local worker process is started with. */
export interface WorkerProcessOptions {
  url: string;
  queue: string;
  modules: string[];
  concurrency: number;
  isolation: Isolation;
  allowSource: boolean;
  name?: string;
  ackWait?: number;
  /** Sends the worker's own output (its start and stop lines, its tasks' prints) nowhere. */
  quiet?: boolean;
  /** Leaves out the worker's start and stop lines; its tasks' output still reaches this program. */
  logLess?: boolean;
  /** More flags (credentials, TLS...). */
  args?: string[];
  /** Environment variables set for it (FUTURES_NATS_PASSWORD...). */
  env?: Record<string, string>;
}

/** Starts `distributed/worker.ts` as a local process with all permissions. */
export function spawnWorker(options: WorkerProcessOptions): Spawned {
  const args = [
    "run",
    "-A",
    "--quiet",
    WORKER_URL.href,
    "--nats",
    options.url,
    "--queue",
    options.queue,
    "--concurrency",
    String(options.concurrency),
    "--isolation",
    options.isolation,
  ];
  for (const module of options.modules) args.push("--modules", module);
  if (options.allowSource) args.push("--allow-source");
  if (options.name) args.push("--name", options.name);
  if (options.ackWait !== undefined) args.push("--ack-wait", String(options.ackWait));
  if (options.logLess) args.push("--quiet");
  args.push(...options.args ?? []);
  const child = new Deno.Command(Deno.execPath(), {
    args,
    ...options.env ? { env: options.env } : {},
    stdin: "null",
    stdout: options.quiet ? "null" : "inherit",
    stderr: options.quiet ? "null" : "inherit",
    // Its own process group, as the embedded server's.
    detached: GROUPS,
  }).spawn();
  return new Spawned(child, "worker");
}

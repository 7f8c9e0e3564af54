// A pool worker in a Deno subprocess. The pool listens on a loopback port, passes the port and a
// one-time token on the child's stdin, and the child connects back: framed messages travel on
// that connection, so the child's stdout and stderr stay the user's (a task may print, or start
// programs that print). Stopping a task kills the process and its process group (the work really
// stops, with what it started), and running out of memory ends only the process. A process has
// no shared memory with the pool, so it runs one task at a time and says when a task starts: a
// task it never acknowledged goes to another process when it ends.

import type { HostMessage, WorkerMessage } from "./_protocol.ts";
import { CorruptStreamError, encodeFrame, readFrames } from "./_framing.ts";
import { decodeError } from "./error_codec.ts";
import { startTimer } from "../future/_timer.ts";
import { PoolWorker, type WorkerEvents, type WorkerExit, type WorkerSpec } from "./_pool_worker.ts";
import { inheritedResolutionFlags, permissionFlags } from "./_process_flags.ts";
import { guard, unguard } from "./_process_watchdog.ts";

const PROCESS_URL = new URL("./_process_main.ts", import.meta.url);
// Process groups (and `kill(-pgid)`) are a POSIX notion.
const GROUPS = Deno.build.os !== "windows";
/** How long an idle process asked to end may take before it is killed. */
const GRACE_MS = 2_000;

/** The host side of one worker process. */
export class ProcessHandle<T> extends PoolWorker<T> {
  readonly exclusive = true;
  readonly #child: Deno.ChildProcess;
  readonly #listener: Deno.TcpListener;
  readonly #token = crypto.randomUUID();
  readonly #args: string[];
  readonly #modules: string[];
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  /** Frames posted before the child connected. */
  #early: Uint8Array[] = [];
  #connected = Promise.withResolvers<Deno.TcpConn | undefined>();
  #announced: WorkerExit | undefined;
  #corrupt: CorruptStreamError | undefined;

  /** The child process's id. */
  get pid(): number {
    return this.#child.pid;
  }
  /** Tasks the child said it started, by seq. */
  readonly #started = new Set<number>();
  #exitedFlag = false;
  #conn: Deno.TcpConn | undefined;
  #frames: AsyncGenerator<unknown> | undefined;
  /** Connections that have not presented a token yet. */
  readonly #strangers = new Set<Deno.TcpConn>();
  /** Whether the listener still takes connections (not once the process connected or ended). */
  #listening = true;
  /** Connections being greeted: the handle is gone only once each is settled (kept or closed). */
  readonly #greeting = new Set<Promise<void>>();
  #gone: Promise<void>;

  constructor(id: number, spec: WorkerSpec, events: WorkerEvents<T>) {
    super(id, events);
    // Asked first: a program without it would be prompted, or get Deno's error naming port 0.
    if (Deno.permissions.querySync({ name: "net", host: "127.0.0.1" }).state !== "granted") {
      throw new Error(
        "the pool listens on 127.0.0.1 for its processes to connect, which needs --allow-net=127.0.0.1",
      );
    }
    // Encoded first (it goes once the process connects): arguments that cannot be sent fail here,
    // before there is a process to end.
    this.init(spec);
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = this.#listener.addr.port;
    this.#modules = spec.modules;
    this.#args = [
      "run",
      "--quiet",
      ...(spec.denoArgs ?? inheritedResolutionFlags()),
      ...permissionFlags(spec.permissions, `127.0.0.1:${port}`),
    ];
    if (spec.memoryLimitMb !== undefined) {
      this.#args.push(`--v8-flags=--max-old-space-size=${spec.memoryLimitMb}`);
    }
    try {
      this.#child = new Deno.Command(Deno.execPath(), {
        args: [...this.#args, entryPoint(spec.modules)],
        stdin: "piped",
        stdout: "inherit",
        stderr: "inherit",
        // Its own session and process group: a stopped task's group can be killed whole.
        detached: GROUPS,
      }).spawn();
    } catch (error) {
      this.#listener.close();
      throw error;
    }
    // It ends with this program, however the program ends.
    const pid = this.#child.pid;
    guard(pid);
    const greeting = JSON.stringify({ port, token: this.#token });
    const stdin = this.#child.stdin.getWriter();
    stdin.write(new TextEncoder().encode(greeting)).then(() => stdin.close()).catch(() => {});
    const accepting = this.#accept();
    const reading = this.#connected.promise.then((conn) => conn && this.#read(conn));
    // The last frames may still be on their way when the exit status comes: read them first, but
    // not for long (a connection a grandchild somehow holds open must not hold up the pool).
    const status = this.#child.status.then(async (status) => {
      this.#closeListener();
      this.#connected.resolve(undefined);
      let stop: (() => void) | undefined;
      const cap = new Promise<void>((resolve) => stop = startTimer(resolve, 200));
      await Promise.race([reading, cap]);
      stop?.();
      await this.#exited(status);
    });
    // Nothing of it is left open once it is gone: a connection accepted as the process ended is
    // closed first (a test's leak check saw one still open after shutdown() under load).
    this.#gone = Promise.all([reading, status, accepting])
      .then(() => Promise.all(this.#greeting))
      .then(() => {})
      .finally(() => unguard(pid));
  }

  override get gone(): Promise<void> {
    return this.#gone;
  }

  protected post(message: HostMessage): void {
    const frame = encodeFrame(message);
    if (this.#writer) this.#writer.write(frame).catch(() => {});
    else this.#early.push(frame);
  }

  /**
   * Ends the process; a task in flight is being stopped, so with what it started. An idle one is
   * asked first: its connection is closed, and it exits as it does when its pool is gone, which
   * lets Deno send what it holds (the OpenTelemetry spans its tasks started); one still there
   * after `GRACE_MS` is killed.
   */
  protected kill(): void {
    const writer = this.#writer;
    if (this.tasks.size > 0 || writer === undefined || this.#exitedFlag) {
      return this.#signal(this.tasks.size > 0);
    }
    writer.close().catch(() => {});
    const stop = startTimer(() => this.#signal(false), GRACE_MS);
    this.#child.status.then(stop, stop);
  }

  /** Kills the process and its group: the task stops for sure. It is no longer waited for. */
  abortTask(seq: number): void {
    this.tasks.delete(seq);
    this.release(seq);
    this.state = "retired";
    this.#signal(true);
  }

  spinning(): boolean {
    return false;
  }

  protected override release(seq: number): void {
    super.release(seq);
    this.#started.delete(seq);
  }

  /** A task it has not acknowledged can be taken back only once the process is gone. */
  protected override takeBackOrStarted(seq: number): boolean {
    return !this.#exitedFlag || this.#started.has(seq);
  }

  #signal(group: boolean): void {
    try {
      if (group && GROUPS && !this.#exitedFlag) Deno.kill(-this.#child.pid, "SIGKILL");
      else this.#child.kill("SIGKILL");
    } catch {
      // It has exited already.
    }
  }

  #closeListener(): void {
    this.#listening = false;
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    for (const conn of this.#strangers) close(conn);
    this.#strangers.clear();
  }

  /** Takes the first connection that presents the token; closes any other. */
  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const greeting = this.#greet(conn);
        this.#greeting.add(greeting);
        void greeting.finally(() => this.#greeting.delete(greeting));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #greet(conn: Deno.TcpConn): Promise<void> {
    // Accepted as the listener closed (the process connected already, or it ended): not taken.
    if (!this.#listening) return close(conn);
    const frames = readFrames(conn.readable);
    this.#strangers.add(conn);
    try {
      const first = await frames.next();
      const token = (first.value as { token?: unknown } | undefined)?.token;
      if (first.done || token !== this.#token || this.#writer) throw new Error("not ours");
    } catch {
      this.#strangers.delete(conn);
      close(conn);
      return;
    }
    this.#strangers.delete(conn);
    this.#closeListener();
    this.#conn = conn;
    conn.setNoDelay(true);
    this.#writer = conn.writable.getWriter();
    this.#writer.closed.catch(() => {});
    for (const frame of this.#early) this.#writer.write(frame).catch(() => {});
    this.#early = [];
    this.#frames = frames;
    this.#connected.resolve(conn);
  }

  async #read(conn: Deno.TcpConn): Promise<void> {
    try {
      for await (const message of this.#frames!) {
        const m = message as WorkerMessage;
        if (Array.isArray(m)) this.onMessage(m);
        else if (m.type === "started") {
          if (this.tasks.has(m.seq)) this.#started.add(m.seq);
        } else if (m.type === "exit") {
          // The process reports its own end; the exit status, which follows, makes it final.
          this.#announced = { cause: m.cause, code: m.code };
          if (m.error) this.#announced.error = decodeError(m.error);
        } else {
          this.onMessage(m);
        }
      }
    } catch (error) {
      // A stream that lost its framing cannot be trusted with another answer: end the process.
      if (error instanceof CorruptStreamError) {
        this.#corrupt = error;
        this.#signal(true);
      }
    } finally {
      close(conn);
    }
  }

  async #exited(status: Deno.CommandStatus): Promise<void> {
    this.#exitedFlag = true;
    if (this.#conn) close(this.#conn);
    if (this.state === "dead") return;
    const how = status.signal
      ? { code: status.code, signal: status.signal }
      : { code: status.code };
    let exit: WorkerExit;
    if (this.#corrupt) {
      exit = {
        cause: "uncaught",
        ...how,
        error: new Error(`its messages to the pool were corrupt (${this.#corrupt.message})`),
      };
    } else if (status.signal) exit = { cause: "signal", ...how };
    else {
      exit = { cause: this.#announced?.cause ?? "exit", code: status.code };
      if (this.#announced?.error !== undefined) exit.error = this.#announced.error;
    }
    if (this.state === "starting" && exit.error === undefined) {
      exit.error = new Error(await this.#startFailure(status));
      // Ended by the pool while the failure was being looked into.
      if ((this.state as string) === "dead") return;
    }
    this.died(exit);
  }

  /**
   * Why a process ended before it was ready. One that never connected could not load its main
   * module: its stderr went to ours, so the same start is tried again with stderr captured, to
   * quote Deno's error.
   */
  async #startFailure(status: Deno.CommandStatus): Promise<string> {
    const ended = status.signal
      ? `the process was ended by ${status.signal}`
      : `the process exited with code ${status.code}`;
    if (this.#writer) return `${ended} before it was ready`;
    let tail = "";
    try {
      const probe = await new Deno.Command(Deno.execPath(), {
        args: [...this.#args, entryPoint(this.#modules, true)],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      }).output();
      const lines = new TextDecoder().decode(probe.stderr)
        // deno-lint-ignore no-control-regex
        .replace(/\x1b\[[0-9;]*m/g, "").split("\n").filter((line) => line.trim() !== "");
      if (!probe.success && lines.length > 0) tail = `; its stderr: ${lines.slice(-8).join("\n")}`;
    } catch {
      // The probe could not run either: the exit code is all there is.
    }
    return `${ended} before it connected to the pool${tail}`;
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}

/**
 * The process's main module, as a data: URL: the runtime, given an import function for each task
 * module. An import written out in the main module's source is part of its module graph, so it
 * needs no read permission, and a module that fails to load fails that import (which the runtime
 * reports) rather than the whole process. `probe` makes a module that only loads the graph.
 */
function entryPoint(modules: string[], probe = false): string {
  const table = modules.map((url) => `${JSON.stringify(url)}: () => import(${JSON.stringify(url)})`)
    .join(", ");
  const lines = [
    `import { runProcessActor } from ${JSON.stringify(PROCESS_URL.href)};`,
    probe ? `export const modules = { ${table} };` : `await runProcessActor({ ${table} });`,
  ];
  return `data:application/javascript;base64,${btoa(lines.join("\n"))}`;
}

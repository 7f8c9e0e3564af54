// A pool worker in a Deno subprocess: framed messages over its stdin and stdout. Stopping a task
// kills the process (the work really stops), and running out of memory ends only the process.
// A process has no shared memory with the pool, so it runs one task at a time: when it dies, the
// task in flight is the one it was running.

import type { HostMessage, WorkerMessage } from "./_protocol.ts";
import { encodeFrame, readFrames } from "./_framing.ts";
import { decodeError } from "./error_codec.ts";
import { startTimer } from "../future/future.ts";
import { PoolWorker, type WorkerEvents, type WorkerExit, type WorkerSpec } from "./_pool_worker.ts";
import type { WorkerPermissions } from "./_transport.ts";

const PROCESS_URL = new URL("./_process_main.ts", import.meta.url);

/** The host side of one worker process. */
export class ProcessHandle<T> extends PoolWorker<T> {
  readonly exclusive = true;
  readonly #child: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  #announced: WorkerExit | undefined;
  #gone: Promise<void>;

  constructor(id: number, spec: WorkerSpec, events: WorkerEvents<T>) {
    super(id, events);
    const args = ["run", "--quiet", ...permissionFlags(spec.permissions)];
    if (spec.memoryLimitMb !== undefined) {
      args.push(`--v8-flags=--max-old-space-size=${spec.memoryLimitMb}`);
    }
    args.push(entryPoint(spec.modules));
    this.#child = new Deno.Command(Deno.execPath(), {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    // A write to a process that has died rejects; its death is reported through its status.
    this.#stdin.closed.catch(() => {});
    const reading = this.#read();
    // The last frames may still be in the pipe when the exit status comes: read them first, but
    // do not wait on a pipe that something else (a grandchild) holds open.
    const status = this.#child.status.then(async (status) => {
      let stop: (() => void) | undefined;
      const cap = new Promise<void>((resolve) => stop = startTimer(resolve, 200));
      await Promise.race([reading, cap]);
      stop?.();
      this.#exited(status);
    });
    this.#gone = Promise.all([reading, status]).then(() => {});
    this.init(spec);
  }

  override get gone(): Promise<void> {
    return this.#gone;
  }

  protected post(message: HostMessage): void {
    const frame = encodeFrame(message);
    this.#stdin.write(frame).catch(() => {});
  }

  protected kill(): void {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // It has exited already.
    }
  }

  /** Kills the process: the task stops for sure. It is no longer waited for. */
  abortTask(seq: number): void {
    this.tasks.delete(seq);
    this.state = "retired";
    this.kill();
  }

  spinning(): boolean {
    return false;
  }

  async #read(): Promise<void> {
    try {
      for await (const message of readFrames(this.#child.stdout)) {
        const m = message as WorkerMessage;
        // The process reports its own end; the exit status, which follows, makes it final.
        if (m.type === "exit") {
          this.#announced = { cause: m.cause, code: m.code };
          if (m.error) this.#announced.error = decodeError(m.error);
          continue;
        }
        this.onMessage(m);
      }
    } catch {
      // The stream ends with the process; its status says how.
    }
  }

  #exited(status: Deno.CommandStatus): void {
    void this.#stdin.close().catch(() => {});
    if (this.state === "dead") return;
    const exit: WorkerExit = status.signal
      ? { cause: "signal", code: status.code, signal: status.signal }
      : { cause: this.#announced?.cause ?? "exit", code: status.code };
    if (this.#announced?.error !== undefined) exit.error = this.#announced.error;
    this.died(exit);
  }
}

/**
 * The process's main module, as a data: URL: the runtime first, then the task modules imported
 * statically, so that loading them needs no read permission.
 */
function entryPoint(modules: string[]): string {
  const lines = [`import { runProcessActor } from ${JSON.stringify(PROCESS_URL.href)};`];
  modules.forEach((url, i) => lines.push(`import * as m${i} from ${JSON.stringify(url)};`));
  const table = modules.map((url, i) => `${JSON.stringify(url)}: m${i}`).join(", ");
  lines.push(`await runProcessActor({ ${table} });`);
  return `data:application/javascript;base64,${btoa(lines.join("\n"))}`;
}

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/**
 * The child's permission flags. `"inherit"` passes each permission the parent holds in full;
 * an object maps to `--allow-NAME` or `--allow-NAME=a,b`.
 */
function permissionFlags(permissions: WorkerPermissions | undefined): string[] {
  const flags: string[] = [];
  const granted = (name: (typeof PERMISSIONS)[number]) =>
    Deno.permissions.querySync({ name } as Deno.PermissionDescriptor).state === "granted";
  for (const name of PERMISSIONS) {
    const value = permissions === undefined || permissions === "inherit"
      ? "inherit"
      : permissions === "none"
      ? false
      : (permissions as Record<string, unknown>)[name];
    const list = Array.isArray(value) ? value.map(String) : [];
    if (value === true || (value === "inherit" && granted(name))) flags.push(`--allow-${name}`);
    else if (list.length > 0) flags.push(`--allow-${name}=${list.join(",")}`);
  }
  return flags;
}

// A pool's processes end with the program, however it ends. A process busy in a loop that never
// yields does not notice that its pool is gone (its event loop is not running), and Deno gives it
// no parent-death signal, nor a way for a Web Worker inside it to end it without run permission.
// So one small watchdog process per program, started with the first pool process, holds the
// read end of a pipe from this program and the list of live pool processes. When the pipe closes
// (this program exited, was ended by a signal, crashed, or was killed with SIGKILL: the kernel
// closes it in every case), the watchdog kills each listed process with its process group. It
// leads its own session, so a Ctrl-C meant for the program does not end it first. It is stopped
// once no pool process is left, so that an idle program runs no extra process.
//
// On a normal exit (`unload`) this program also kills its pool processes itself, at once.

// Process groups (and `kill(-pgid)`) are a POSIX notion.
const GROUPS = Deno.build.os !== "windows";

/** The watchdog's program: lines "+pid" and "-pid" on stdin; at its end, kill what is listed. */
const WATCHDOG = `
const live = new Set();
const decoder = new TextDecoder();
let rest = "";
try {
  for await (const chunk of Deno.stdin.readable) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\\n");
    rest = lines.pop();
    for (const line of lines) {
      if (line[0] === "+") live.add(Number(line.slice(1)));
      else live.delete(Number(line.slice(1)));
    }
  }
} catch {
  // A read error means the writer is gone as well.
}
for (const pid of live) {
  try {
    Deno.kill(${GROUPS ? "-pid" : "pid"}, "SIGKILL");
  } catch {
    // Gone already.
  }
}
`;

interface Watchdog {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
}

const live = new Set<number>();
let watchdog: Watchdog | undefined;
let unloadListening = false;
const encoder = new TextEncoder();

/** Has `pid` (a pool process leading its own group) end with this program. */
export function guard(pid: number): void {
  live.add(pid);
  if (!unloadListening) {
    unloadListening = true;
    globalThis.addEventListener("unload", killAll);
  }
  if (watchdog) send(watchdog, `+${pid}\n`);
  else watchdog = start();
}

/**
 * Forgets `pid`, which has ended. Settles once the watchdog has ended when it was the last one,
 * so that a pool that has shut down leaves no process behind.
 */
export function unguard(pid: number): Promise<void> {
  if (!live.delete(pid)) return Promise.resolve();
  const current = watchdog;
  if (!current) return Promise.resolve();
  // Its group may hold programs a task started, which outlive the task by design: they are not
  // the watchdog's to kill, even when it is told nothing more.
  send(current, `-${pid}\n`);
  if (live.size > 0) return Promise.resolve();
  watchdog = undefined;
  // Waited for by whoever waits for the pool: it must keep the program alive until it is done.
  current.child.ref();
  return current.writer.close().catch(() => {}).then(() => current.child.status).then(
    () => {},
    () => {},
  );
}

function start(): Watchdog | undefined {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        "--no-lock",
        "--allow-run",
        `data:application/javascript;base64,${btoa(WATCHDOG)}`,
      ],
      stdin: "piped",
      stdout: "null",
      stderr: "inherit",
      detached: GROUPS,
    }).spawn();
  } catch {
    // Without it the processes still end when the program exits normally (`unload`), or when
    // their event loop sees the pool's connection close.
    return undefined;
  }
  // It must not keep the program alive: it waits for the program to end.
  child.unref();
  const started: Watchdog = { child, writer: child.stdin.getWriter() };
  started.writer.closed.catch(() => {});
  send(started, [...live].map((pid) => `+${pid}\n`).join(""));
  // A watchdog that ended on its own (killed from outside) is replaced with the next process.
  child.status.then(() => {
    if (watchdog === started) watchdog = undefined;
  }, () => {});
  return started;
}

function send(to: Watchdog, lines: string): void {
  to.writer.write(encoder.encode(lines)).catch(() => {});
}

function killAll(): void {
  for (const pid of live) {
    try {
      Deno.kill(GROUPS ? -pid : pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

// A pool's processes end with the program, however it ends. A process busy in a loop that never
// yields does not notice that its pool is gone (its event loop is not running), and Deno gives it
// no parent-death signal, nor a way for a Web Worker inside it to end it without run permission.
// So one small watchdog process per program, started with the first pool process, holds the
// read end of a pipe from this program and the list of live pool processes. When the pipe closes
// (this program exited, was ended by a signal, crashed, or was killed with SIGKILL: the kernel
// closes it in every case), the watchdog kills each listed process with its process group. It
// leads its own session, so a Ctrl-C meant for the program does not end it first. It is stopped
// once no pool process is left, so that an idle program runs no extra process. A process may come
// with a directory of its own (an embedded server's temporary store): the watchdog removes it
// after the kill, and may write only there.
//
// On a normal exit (`unload`) this program also kills its pool processes itself, at once.

// Process groups (and `kill(-pgid)`) are a POSIX notion.
const GROUPS = Deno.build.os !== "windows";

/**
 * The watchdog's program. Its arguments list the processes it starts with, each as "+pid" or
 * "+pid<TAB>dir" (with its directory): it knows them from its first instant, so a program killed
 * just after starting it loses none of them. Lines on stdin: "+pid" or "+pid<TAB>dir" lists a
 * process, "-pid" forgets one, "!" forgets all (a newer watchdog took over). At its end, it kills
 * what is listed, then removes their directories.
 */
const WATCHDOG = `
const live = new Map();
function apply(line) {
  if (line === "!") live.clear();
  else if (line[0] === "+") {
    const [pid, dir] = line.slice(1).split("\\t");
    live.set(Number(pid), dir);
  } else live.delete(Number(line.slice(1)));
}
Deno.args.forEach(apply);
const decoder = new TextDecoder();
let rest = "";
try {
  for await (const chunk of Deno.stdin.readable) {
    const lines = (rest + decoder.decode(chunk, { stream: true })).split("\\n");
    rest = lines.pop();
    lines.forEach(apply);
  }
} catch {
  // A read error means the writer is gone as well.
}
for (const pid of live.keys()) {
  try {
    Deno.kill(${GROUPS ? "-pid" : "pid"}, "SIGKILL");
  } catch {
    // Gone already.
  }
}
for (const dir of live.values()) {
  if (!dir) continue;
  // A process being killed may still add a file as the directory is removed: tried again.
  for (let attempt = 0; attempt < 10; attempt++) {
    try {
      await Deno.remove(dir, { recursive: true });
      break;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
`;

interface Watchdog {
  child: Deno.ChildProcess;
  writer: WritableStreamDefaultWriter<Uint8Array>;
  /** The directories it may remove. */
  dirs: Set<string>;
}

/** The processes guarded, with the directory each leaves (or undefined). */
const live = new Map<number, string | undefined>();
let watchdog: Watchdog | undefined;
let unloadListening = false;
const encoder = new TextEncoder();

/**
 * Has `pid` (a pool process leading its own group) end with this program; its directory `dir`,
 * if given, is removed once it is killed that way (a process that exits while this program runs
 * leaves it to its owner, who calls `unguard()`).
 */
export function guard(pid: number, dir?: string): void {
  // A path that cannot travel in a line or a permission list is left to its owner.
  if (dir !== undefined && /[\t\n,]/.test(dir)) dir = undefined;
  live.set(pid, dir);
  if (!unloadListening) {
    unloadListening = true;
    globalThis.addEventListener("unload", killAll);
  }
  if (watchdog && (dir === undefined || watchdog.dirs.has(dir))) {
    send(watchdog, line(pid, dir));
    return;
  }
  // None yet, or one that may not write in `dir`: a new one takes over, then the old one is told
  // to forget all and let go.
  const old = watchdog;
  watchdog = start();
  if (old) {
    send(old, "!\n");
    old.writer.close().catch(() => {});
  }
}

function line(pid: number, dir: string | undefined): string {
  return dir === undefined ? `+${pid}\n` : `+${pid}\t${dir}\n`;
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
  const dirs = new Set([...live.values()].filter((dir) => dir !== undefined));
  try {
    child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--quiet",
        "--no-config",
        "--no-lock",
        "--allow-run",
        ...(dirs.size > 0 ? [`--allow-write=${[...dirs].join(",")}`] : []),
        `data:application/javascript;base64,${btoa(WATCHDOG)}`,
        ...[...live].map(([pid, dir]) => line(pid, dir).slice(0, -1)),
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
  const started: Watchdog = { child, writer: child.stdin.getWriter(), dirs };
  started.writer.closed.catch(() => {});
  // A watchdog that ended on its own (killed from outside) is replaced at once while it guarded
  // processes: the new one is told of them all.
  child.status.then(() => {
    if (watchdog === started) watchdog = live.size > 0 ? start() : undefined;
  }, () => {});
  return started;
}

/** Settles once every line sent so far is in the watchdogs' pipes. */
let told: Promise<unknown> = Promise.resolve();

function send(to: Watchdog, lines: string): void {
  const written = to.writer.write(encoder.encode(lines)).catch(() => {});
  told = Promise.all([told, written]);
}

/**
 * Resolves once the watchdog has been told of every process guarded so far: a program killed
 * before then may leave the latest ones running.
 */
export async function guarded(): Promise<void> {
  await told;
}

function killAll(): void {
  for (const pid of live.keys()) {
    try {
      Deno.kill(GROUPS ? -pid : pid, "SIGKILL");
    } catch {
      // Gone already.
    }
  }
}

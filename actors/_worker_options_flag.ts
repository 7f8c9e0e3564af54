// Deno ends the whole process (exit code 70, which cannot be caught) when a Web Worker is given
// its own permissions without `--unstable-worker-options`. Deno does not tell a program its own
// flags, so the check reads them where the OS shows them (/proc on Linux, `ps` on macOS and the
// BSDs when the program may run it) and reads the deno.json in effect (on every OS). When it can
// tell neither way, it refuses: an error that says what to do beats a process that ends.

/** How the flag was found: on, off, or no way to tell. */
export type FlagState = boolean | undefined;

/** What the check needs to know of this process; replaced in tests. */
export interface ProcessView {
  /** The command line (`deno`, flags, script, ...), or undefined when it cannot be read. */
  args: string[] | undefined;
  /** The working directory, where Deno starts looking for deno.json. */
  cwd: string;
  /** A file's text, or undefined when it is missing or may not be read. */
  read(path: string): string | undefined;
}

/**
 * Throws unless Deno was certainly run with worker options enabled.
 * @throws {Error} naming the flag and the deno.json setting, and saying why it is needed
 */
export function checkWorkerOptionsFlag(what: string, view: ProcessView = thisProcess()): void {
  const state = workerOptionsFlag(view);
  if (state === true) return;
  const fix =
    `Deno needs the --unstable-worker-options flag (or "unstable": ["worker-options"] in deno.json) to give workers their own permissions, and without it ends the process with exit code 70`;
  throw new Error(
    state === false
      ? `Cannot ${what} with 'permissions': ${fix}`
      : `Cannot ${what} with 'permissions': ${fix}. This program's flags cannot be read on ${Deno.build.os}, so put the setting in deno.json, which can`,
  );
}

/** Whether worker options are enabled, from the command line and the deno.json in effect. */
export function workerOptionsFlag(view: ProcessView): FlagState {
  const args = view.args;
  let config: string | undefined;
  if (args) {
    if (args.includes("--unstable-worker-options") || args.includes("--unstable")) return true;
    for (const [i, arg] of args.entries()) {
      if (arg === "--config" || arg === "-c") config = args[i + 1];
      else if (arg.startsWith("--config=")) config = arg.slice("--config=".length);
      else if (arg === "--no-config") return false;
    }
  }
  const candidates: string[] = [];
  if (config) candidates.push(config);
  else {
    for (let dir = view.cwd;;) {
      candidates.push(`${dir}/deno.json`, `${dir}/deno.jsonc`);
      const parent = dir.replace(/[\\/][^\\/]*$/, "");
      if (parent === dir || parent === "" || /^[A-Za-z]:$/.test(parent)) break;
      dir = parent;
    }
  }
  for (const path of candidates) {
    const text = view.read(path);
    if (text === undefined) continue;
    if (/"unstable"\s*:\s*\[[^\]]*"worker-options"/.test(text)) return true;
    return args ? false : undefined;
  }
  return args ? false : undefined;
}

function thisProcess(): ProcessView {
  return { args: commandLine(), cwd: Deno.cwd(), read: readIfAllowed };
}

function readIfAllowed(path: string): string | undefined {
  try {
    // Asked first, so that a program without read access is not prompted for it.
    if (Deno.permissions.querySync({ name: "read", path }).state !== "granted") return undefined;
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

let cached: string[] | null | undefined;

/** This process's command line, where the OS shows it and the program may look. */
function commandLine(): string[] | undefined {
  if (cached !== undefined) return cached ?? undefined;
  let args: string[] | null = null;
  const proc = readIfAllowed("/proc/self/cmdline");
  if (proc !== undefined) args = proc.split("\0");
  else if (Deno.build.os === "darwin" || Deno.build.os === "freebsd") {
    try {
      if (Deno.permissions.querySync({ name: "run", command: "ps" }).state === "granted") {
        // Words split on spaces: a path with spaces breaks apart, the flags stay whole.
        const out = new Deno.Command("ps", { args: ["-o", "args=", "-p", String(Deno.pid)] })
          .outputSync();
        if (out.success) args = new TextDecoder().decode(out.stdout).trim().split(/\s+/);
      }
    } catch {
      // No `ps`: the command line stays unknown.
    }
  }
  cached = args;
  return args ?? undefined;
}

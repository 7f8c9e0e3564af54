// The Deno flags of a worker process: its permissions, and the flags that decide how this
// program's modules resolve and load (a config file, an import map, a lock file, no remote
// modules, unstable features), without which a child may not load the task modules at all.

import type { WorkerPermissions } from "./_transport.ts";

export const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;
type PermissionName = (typeof PERMISSIONS)[number];

/**
 * The child's permission flags. `"inherit"` passes what this program holds: each permission it
 * holds in full as `--allow-NAME`, one granted for some paths, hosts or names only as
 * `--allow-NAME=a,b` (those of this program's command line that are still granted), and its
 * `--deny-NAME` flags. An object maps to `--allow-NAME` or `--allow-NAME=a,b`. `pool`
 * (`127.0.0.1:PORT`) is always reachable: the child connects there to its pool. `commandLine`
 * gives this program's command line; it is read only when a permission is partial.
 */
export function permissionFlags(
  permissions: WorkerPermissions | undefined,
  pool: string,
  commandLine: () => readonly string[] = ownCommandLine,
): string[] {
  const flags: string[] = [];
  const inherit = permissions === undefined || permissions === "inherit";
  let grants: Grants | undefined;
  const grantsOf = () => grants ??= grantFlags(commandLine());
  for (const name of PERMISSIONS) {
    let value: unknown = inherit
      ? "inherit"
      : permissions === "none"
      ? false
      : (permissions as Record<string, unknown>)[name];
    if (value === "inherit") {
      const status = query({ name });
      // A permission granted with exceptions (`--deny-NAME=...`) needs its denials passed too.
      if (status.partial) grantsOf();
      value = status.state === "granted"
        ? true
        : (grantsOf().allow.get(name) ?? []).filter((item) => stillGranted(name, item));
    }
    const list = Array.isArray(value) ? value.map(grantText) : [];
    if (value === true) flags.push(`--allow-${name}`);
    else if (name === "net") flags.push(`--allow-net=${[...list, pool].join(",")}`);
    else if (list.length > 0) flags.push(`--allow-${name}=${list.join(",")}`);
  }
  if (grants) flags.push(...grants.deny);
  return flags;
}

/** A grant as a flag names it: a `file:` URL as its path. */
function grantText(item: unknown): string {
  if (item instanceof URL && item.protocol === "file:") return decodeURIComponent(item.pathname);
  return String(item);
}

/** Whether a grant on the command line still holds (the program may have revoked it). */
function stillGranted(name: PermissionName, item: string): boolean {
  try {
    return query(descriptor(name, item)).state === "granted";
  } catch {
    // A value Deno accepted at start but cannot query (a Unix socket, say): pass it on as it is.
    return true;
  }
}

function query(descriptor: Deno.PermissionDescriptor): Deno.PermissionStatus {
  return Deno.permissions.querySync(descriptor);
}

function descriptor(name: PermissionName, item: string): Deno.PermissionDescriptor {
  switch (name) {
    case "read":
    case "write":
    case "ffi":
      return { name, path: item };
    case "net":
    case "import":
      return { name, host: item };
    case "env":
      return { name, variable: item };
    case "run":
      return { name, command: item };
    case "sys":
      return { name, kind: item as Deno.SysPermissionDescriptor["kind"] };
  }
}

/** The permission flags of a command line that say more than `--allow-NAME` in full. */
export interface Grants {
  /** The values of `--allow-NAME=a,b` (and `-R=a,b`, ...), by permission name. */
  allow: Map<PermissionName, string[]>;
  /** The `--deny-NAME` and `--deny-NAME=a,b` flags, as they are. */
  deny: string[];
}

const SHORT: Record<string, PermissionName> = {
  "-R": "read",
  "-W": "write",
  "-N": "net",
  "-E": "env",
  "-S": "sys",
  "-I": "import",
};

/** The partial grants and the denials of `args`, a `deno` command line (see `resolutionFlags`). */
export function grantFlags(args: readonly string[]): Grants {
  const grants: Grants = { allow: new Map(), deny: [] };
  for (const { arg, name } of programFlags(args)) {
    if (name.startsWith("--deny-")) {
      if ((PERMISSIONS as readonly string[]).includes(name.slice(7))) grants.deny.push(arg);
      continue;
    }
    const permission = SHORT[name] ??
      (name.startsWith("--allow-") ? name.slice(8) as PermissionName : undefined);
    if (!permission || !PERMISSIONS.includes(permission) || !arg.includes("=")) continue;
    const values = arg.slice(arg.indexOf("=") + 1).split(",").filter((value) => value !== "");
    grants.allow.set(permission, [...grants.allow.get(permission) ?? [], ...values]);
  }
  return grants;
}

// Flags passed on to children, and those of them that take their value as the next argument.
const PASSED = new Set([
  "--config",
  "-c",
  "--no-config",
  "--import-map",
  "--lock",
  "--no-lock",
  "--frozen",
  "--frozen-lockfile",
  "--cached-only",
  "--no-remote",
  "--no-npm",
  "--node-modules-dir",
  "--node-modules-linker",
  "--vendor",
  "--cert",
  "--conditions",
]);
const VALUE_NEXT = new Set([
  "--config",
  "-c",
  "--import-map",
  "--node-modules-linker",
  "--cert",
  "--conditions",
]);
// Other flags that take their value as the next argument: their value is not the script.
const OTHER_VALUE_NEXT = new Set([
  "--ext",
  "--location",
  "--seed",
  "--preload",
  "--require",
  "--min-dep-age",
  "--inspect-publish-uid",
  "--filter",
  "--reporter",
  "--junit-path",
]);

/** A flag of a command line, and the value that follows it when it takes one that way. */
interface Flag {
  arg: string;
  /** The flag without its `=value`. */
  name: string;
  next?: string;
}

/**
 * The flags of `args` (a `deno` command line: the executable, maybe a subcommand, flags, then the
 * script and its arguments), up to the script.
 */
function* programFlags(args: readonly string[]): Generator<Flag> {
  let i = 1;
  // `deno main.ts` has no subcommand; `deno run main.ts`, `deno test` have one.
  if (args[i] !== undefined && !args[i]!.startsWith("-")) i++;
  for (; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--" || !arg.startsWith("-")) break;
    const name = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    const takesNext = !arg.includes("=") && (VALUE_NEXT.has(name) || OTHER_VALUE_NEXT.has(name));
    // `--lock` takes an optional value; a lock file is the only such value worth telling apart.
    const lockFile = name === "--lock" && !arg.includes("=") && /\.lock$/.test(args[i + 1] ?? "");
    if (takesNext || lockFile) yield { arg, name, next: args[++i] ?? "" };
    else yield { arg, name };
  }
}

/** The flags of `args` (a `deno` command line) that decide how modules resolve and load. */
export function resolutionFlags(args: readonly string[]): string[] {
  const flags: string[] = [];
  for (const { arg, name, next } of programFlags(args)) {
    if (PASSED.has(name) || name.startsWith("--unstable")) {
      flags.push(arg);
      if (next !== undefined) flags.push(next);
    }
  }
  return flags;
}

let commandLine: string[] | undefined;

/**
 * This program's command line, from `/proc/PID/cmdline` where there is one (Linux): Deno tells a
 * program its own flags nowhere else. Deno lets a program read that file only with all
 * permissions; a program without them that may run Deno (as a process pool's must) has a
 * short-lived Deno process read it, once (under 100 ms). Elsewhere it is empty.
 */
export function ownCommandLine(): string[] {
  if (commandLine) return commandLine;
  let text = "";
  if (Deno.build.os === "linux") {
    try {
      // Asked first, so that a program without the permission is not prompted for it.
      if (query({ name: "read", path: "/proc/self/cmdline" }).state === "granted") {
        text = Deno.readTextFileSync("/proc/self/cmdline");
      }
    } catch {
      // Granted read access, but not all access.
    }
    try {
      if (text === "" && query({ name: "run", command: Deno.execPath() }).state === "granted") {
        text = readCommandLineOf(Deno.pid);
      }
    } catch {
      // Deno could not be started: the flags are not known.
    }
  }
  const args = text.split("\0");
  return commandLine = args.at(-1) === "" ? args.slice(0, -1) : args;
}

/**
 * A process's command line, read by a Deno process started for it: Deno lets a program read
 * another process's `/proc/PID/cmdline` only with all permissions, which this one is given for a
 * fixed one-line program.
 */
function readCommandLineOf(pid: number): string {
  const source = `Deno.stdout.writeSync(Deno.readFileSync("/proc/${pid}/cmdline"));`;
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--quiet",
      "--no-config",
      "--no-lock",
      "--allow-all",
      `data:application/javascript;base64,${btoa(source)}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).outputSync();
  // A failed read leaves it empty: the flags it would have told are not passed on.
  return out.success ? new TextDecoder().decode(out.stdout) : "";
}

/**
 * The resolution flags this process was started with (see {@linkcode ownCommandLine}); empty
 * where Deno does not expose them (the `denoArgs` option is the portable way).
 */
export function inheritedResolutionFlags(): string[] {
  return resolutionFlags(ownCommandLine());
}

// The Deno flags of a worker process: its permissions, and the flags that decide how this
// program's modules resolve and load (a config file, an import map, a lock file, no remote
// modules, unstable features), without which a child may not load the task modules at all.

import type { WorkerPermissions } from "./_transport.ts";

const PERMISSIONS = ["read", "write", "net", "env", "run", "ffi", "sys", "import"] as const;

/**
 * The child's permission flags. `"inherit"` passes each permission the parent holds in full;
 * an object maps to `--allow-NAME` or `--allow-NAME=a,b`. `pool` (`127.0.0.1:PORT`) is always
 * reachable: the child connects there to its pool.
 */
export function permissionFlags(
  permissions: WorkerPermissions | undefined,
  pool: string,
): string[] {
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
    else if (name === "net") flags.push(`--allow-net=${[...list, pool].join(",")}`);
    else if (list.length > 0) flags.push(`--allow-${name}=${list.join(",")}`);
  }
  return flags;
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

/**
 * The flags of `args` (a `deno` command line: the executable, maybe a subcommand, flags, then the
 * script and its arguments) that decide how modules resolve and load, to pass on to a child.
 */
export function resolutionFlags(args: readonly string[]): string[] {
  const flags: string[] = [];
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
    if (PASSED.has(name) || name.startsWith("--unstable")) {
      flags.push(arg);
      if (takesNext || lockFile) flags.push(args[i + 1] ?? "");
    }
    if (takesNext || lockFile) i++;
  }
  return flags;
}

let inherited: string[] | undefined;

/**
 * The resolution flags this process was started with. Read from `/proc/self/cmdline` where
 * there is one (Linux); elsewhere Deno does not expose them and the result is empty (the
 * `denoArgs` option is the portable way).
 */
export function inheritedResolutionFlags(): string[] {
  if (inherited) return inherited;
  let args: string[] = [];
  const path = "/proc/self/cmdline";
  try {
    // Asked first, so that a program without read access is not prompted for it.
    if (Deno.permissions.querySync({ name: "read", path }).state === "granted") {
      args = Deno.readTextFileSync(path).split("\0");
    }
  } catch {
    // Not Linux.
  }
  return inherited = resolutionFlags(args.at(-1) === "" ? args.slice(0, -1) : args);
}

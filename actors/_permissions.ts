// Checks, before any worker or process starts, that Deno lets this program start them. Without it
// a missing permission shows as Deno's own prompt or error (twice, from two code paths), then a
// broken pool with a long stack; here it is one error that names the flag.

import { checkKnownKeys, refuse } from "../future/_options.ts";
import { PERMISSIONS } from "./_process_flags.ts";

/** What starting workers or processes needs. */
export interface Needs {
  /** Local files that must be readable (worker entry, task modules); other URLs are skipped. */
  read: (string | URL)[];
  /** Whether starting Deno subprocesses is needed. */
  run: boolean;
  /** Whether listening on 127.0.0.1 is needed (a process pool's processes connect there). */
  loopback?: boolean;
}

/**
 * Throws `Deno.errors.NotCapable` naming the flags to add when a permission is missing. When
 * Deno would ask (`"prompt"`) and there is a terminal to ask on, asks once here.
 */
export function checkPermissions(what: string, needs: Needs): void {
  const paths: string[] = [];
  for (const module of needs.read) {
    const url = new URL(module);
    if (url.protocol !== "file:") continue;
    const path = decodeURIComponent(url.pathname);
    if (!allowed({ name: "read", path })) paths.push(path);
  }
  const runMissing = needs.run && !allowed({ name: "run", command: Deno.execPath() });
  const netMissing = needs.loopback === true && !allowed({ name: "net", host: "127.0.0.1" });
  if (paths.length === 0 && !runMissing && !netMissing) return;
  const flags: string[] = [];
  if (paths.length > 0) flags.push(`--allow-read=${[...new Set(paths)].join(",")}`);
  if (runMissing) flags.push(`--allow-run=${Deno.execPath()}`);
  if (netMissing) flags.push("--allow-net=127.0.0.1");
  const lacks = [
    paths.length > 0 ? `read access to ${paths.join(", ")}` : "",
    runMissing ? "permission to run Deno subprocesses" : "",
    netMissing ? "permission to listen on 127.0.0.1 for its processes to connect" : "",
  ].filter(Boolean).join(" and ");
  const Class = Deno.errors.NotCapable ?? Deno.errors.PermissionDenied;
  throw new Class(
    `Cannot ${what} as the program lacks ${lacks}: run it with ${flags.join(" ")} (or a broader ${
      flags.map((f) => f.split("=")[0]).join(" ")
    }, or -A)${paths.length > 0 ? importsToo() : ""}`,
  );
}

/**
 * A worker reads its modules' imports with the program's permissions too, which this check does
 * not follow: the message says so, with the path that covers this package's own files (a task
 * module that imports the package's mod.ts needs most of them).
 */
function importsToo(): string {
  const root = new URL("../", import.meta.url);
  const covers = root.protocol === "file:"
    ? `: --allow-read=${decodeURIComponent(root.pathname)} covers this package's`
    : "";
  return `; the local files those modules import need read access too${covers}`;
}

function allowed(descriptor: Deno.PermissionDescriptor): boolean {
  try {
    const state = Deno.permissions.querySync(descriptor).state;
    if (state === "granted") return true;
    if (state === "prompt" && Deno.stdin.isTerminal()) {
      return Deno.permissions.requestSync(descriptor).state === "granted";
    }
    return false;
  } catch {
    // A runtime without the permission API: let the start itself report.
    return true;
  }
}

/**
 * Checks a pool's or an actor's `permissions` option: `"inherit"`, `"none"`, or an object that
 * maps permission names to `true`/`false`, `"inherit"` or a list of strings or URLs. Anything
 * else was taken for "nothing granted" by a process, or failed at the first start of a worker.
 */
export function checkWorkerPermissions(what: string, value: unknown): void {
  if (value === undefined || value === "inherit" || value === "none") return;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    refuse(
      { action: what, path: "permissions" },
      `"inherit", "none" or an object of permissions (like { read: ["./data"] })`,
      value,
      false,
    );
  }
  checkKnownKeys(what, value, PERMISSIONS, "a permission", "permissions.");
  for (const [name, grant] of Object.entries(value)) {
    const ok = typeof grant === "boolean" || grant === "inherit" ||
      (Array.isArray(grant) &&
        grant.every((item) => (typeof item === "string" && item !== "") || item instanceof URL));
    if (!ok) {
      refuse(
        { action: what, path: `permissions.${name}` },
        `true, false, "inherit" or a list of non-empty strings or URLs`,
        grant,
        false,
      );
    }
  }
}

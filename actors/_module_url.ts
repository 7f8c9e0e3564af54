// Task and actor modules named by URL or by a path relative to the working directory.

import { refuse } from "../future/_options.ts";

/** Resolves a module specifier: URLs as they are, paths against the working directory. */
export function moduleUrl(module: string | URL, what: string, option: string): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== "string" || module === "") {
    refuse({ action: what, path: option }, "URLs or paths", module, false);
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(module)) return new URL(module).href;
  return new URL(module, `file://${Deno.cwd()}/`).href;
}

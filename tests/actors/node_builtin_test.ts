// A static `node:` (or `npm:`) import makes Deno start its Node compatibility layer as the program
// loads, before the first line runs. The library's entry points and its worker's entry load such
// modules only when the code that needs them is first used (see actors/_node_builtin.ts); this
// checks the module graph, as `deno info` sees it, for static ones, and that the pools preload
// what they need in time to take the cheap way.

import assert from "node:assert/strict";
import { NodeBuiltin } from "../../actors/_node_builtin.ts";
import { runDeno, SCRIPTS } from "../executors/_worker_helpers.ts";

interface Dependency {
  specifier: string;
  code?: unknown;
  isDynamic?: boolean;
}

interface ModuleInfo {
  specifier: string;
  dependencies?: Dependency[];
}

const ROOT = new URL("../../", import.meta.url);

/** `module -> dependency` for each static runtime import of a node: or npm: module. */
async function staticNodeImports(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", new URL("deno.json", ROOT).pathname, entry],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  const { modules } = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    modules: ModuleInfo[];
  };
  const found: string[] = [];
  for (const module of modules) {
    for (const dependency of module.dependencies ?? []) {
      const { specifier } = dependency;
      // `import type` has no `code` side: it is erased.
      if (dependency.code === undefined || dependency.isDynamic) continue;
      if (specifier.startsWith("node:") || specifier.startsWith("npm:")) {
        found.push(`${module.specifier.slice(ROOT.href.length)} -> ${specifier}`);
      }
    }
  }
  return found;
}

for (const entry of ["mod.ts", "actors/_worker_main.ts"]) {
  Deno.test(`${entry} imports no node: or npm: module statically`, async () => {
    assert.deepEqual(await staticNodeImports(entry), []);
  });
}

Deno.test("NodeBuiltin.get() loads the module at once when it was not preloaded", () => {
  const builtin = new NodeBuiltin<typeof import("node:v8")>("node:v8", () => import("node:v8"));
  assert.equal(builtin.loadedBy, undefined);
  const v8 = builtin.get();
  assert.equal(typeof v8.serialize, "function");
  assert.equal(builtin.loadedBy, "getBuiltinModule");
  assert.equal(builtin.get(), v8);
});

Deno.test("NodeBuiltin.preload() loads the module with import()", async () => {
  const builtin = new NodeBuiltin<typeof import("node:v8")>("node:v8", () => import("node:v8"));
  const preload = builtin.preload();
  assert.equal(builtin.preload(), preload);
  await preload;
  assert.equal(builtin.loadedBy, "import");
  assert.equal(builtin.get(), await import("node:v8"));
});

Deno.test("NodeBuiltin.preload() that fails leaves the loading to get()", async () => {
  const builtin = new NodeBuiltin<typeof import("node:v8")>(
    "node:v8",
    () => Promise.reject(new Error("no")),
  );
  await builtin.preload();
  assert.equal(builtin.loadedBy, undefined);
  assert.equal(typeof builtin.get().serialize, "function");
  assert.equal(builtin.loadedBy, "getBuiltinModule");
});

for (const kind of ["async", "process"]) {
  Deno.test(`NodeBuiltin.preload() by a new ${kind} pool is done before its first task`, async () => {
    const run = await runDeno(["run", "-A", new URL("builtin_loading.ts", SCRIPTS).pathname, kind]);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), { value: 2, loadedBy: "import" });
  });
}

Deno.test("WorkerPoolExecutor runs a task and shuts down without loading Deno's timers", async () => {
  const run = await runDeno(["run", "-A", new URL("no_timers.ts", SCRIPTS).pathname]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { value: 3, events: ["worker message"] });
});

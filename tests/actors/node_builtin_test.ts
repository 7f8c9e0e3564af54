// A static `node:` (or `npm:`) import makes Deno start its Node compatibility layer as the program
// loads, 30-50 ms before the first line runs. The library's entry points and its worker's entry
// load such modules only when the code that needs them is first used (`nodeBuiltin()`, dynamic
// `import()`); this checks the module graph, as `deno info` sees it, for static ones.

import assert from "node:assert/strict";
import { nodeBuiltin } from "../../actors/_node_builtin.ts";
import type * as V8 from "node:v8";

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

/** `module specifier -> dependency` for each static runtime import of a node: or npm: module. */
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

Deno.test("nodeBuiltin() loads a Node built-in module synchronously", () => {
  const v8 = nodeBuiltin<typeof V8>("node:v8");
  assert.equal(typeof v8.serialize, "function");
  assert.equal(nodeBuiltin<typeof V8>("node:v8"), v8);
});

// Node's built-in modules, loaded on first use. A static `import "node:..."` makes Deno start its
// whole Node compatibility layer when the program loads (30-50 ms, measured in
// bench/startup_bench.ts), even in a program that never reaches the code that needs it.
// `process.getBuiltinModule()` loads the module synchronously, so code that calls this at its
// first use runs in the same order as it did with a static import.

interface Builtins {
  process: { getBuiltinModule(id: string): unknown };
}

/** The Node built-in module `id` (such as `"node:v8"`), loaded now if it is not yet. */
export function nodeBuiltin<T>(id: string): T {
  return (globalThis as unknown as Builtins).process.getBuiltinModule(id) as T;
}

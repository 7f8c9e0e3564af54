// Node's built-in modules, loaded when first needed. A static `import "node:..."` makes Deno
// load its Node compatibility layer as the program loads (15-40 ms of the library's import, on
// the main thread), even in a program that never reaches the code that needs the module. (Deno
// loads that layer anyway for other reasons, such as the first `setTimeout()`, whose timers are
// Node's; then it costs the module alone, under a millisecond.)
//
// Two ways to load one later, both measured on Deno 2.9: `import("node:...")` costs what the
// static import costs, and evaluates the module within the call (its promise settles before
// microtasks queued after it), but hands the module over only through that promise;
// `process.getBuiltinModule()` hands it over at once but costs 30-50 ms more, as it starts Node's
// `process` object first. So the code that will need a module preloads it with `import()` as
// early as it can (when its executor is made), and takes it with `get()` when it runs, which
// falls back to `process.getBuiltinModule()` only if the import has not come back by then.

interface Builtins {
  process: { getBuiltinModule(id: string): unknown };
}

/** One Node built-in module, loaded on first use. */
export class NodeBuiltin<T> {
  readonly #id: string;
  readonly #load: () => Promise<T>;
  #module: T | undefined;
  #loading: Promise<void> | undefined;
  /** How the module was loaded, or `undefined` while it is not. */
  loadedBy: "import" | "getBuiltinModule" | undefined;

  /**
   * @param id the module's specifier, such as `"node:v8"`
   * @param load `() => import("node:v8")`, written out so that tools see the specifier
   */
  constructor(id: string, load: () => Promise<T>) {
    this.#id = id;
    this.#load = load;
  }

  /** Starts loading the module, once; resolves when it is loaded (it never rejects). */
  preload(): Promise<void> {
    return this.#loading ??= this.#load().then(
      (module) => {
        if (this.#module !== undefined) return;
        this.#module = module;
        this.loadedBy = "import";
      },
      // `get()` will load it, or throw the reason.
      () => {},
    );
  }

  /** The module, loaded synchronously now if the preload has not finished. */
  get(): T {
    if (this.#module === undefined) {
      this.#module = (globalThis as unknown as Builtins).process.getBuiltinModule(this.#id) as T;
      this.loadedBy = "getBuiltinModule";
    }
    return this.#module;
  }
}

/** `node:async_hooks`, for `AsyncPoolExecutor`'s job context. */
export const asyncHooks: NodeBuiltin<typeof import("node:async_hooks")> = new NodeBuiltin(
  "node:async_hooks",
  () => import("node:async_hooks"),
);

/** `node:v8`, for the frames of a process pool. */
export const v8: NodeBuiltin<typeof import("node:v8")> = new NodeBuiltin(
  "node:v8",
  () => import("node:v8"),
);

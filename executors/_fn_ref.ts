// How a function submitted to a worker pool is named on the wire: an export of one of the pool's
// task modules (by reference), or a self-contained function (by source, compiled once per worker).

import { show } from "../future/_options.ts";
import type { FnRef } from "../actors/_protocol.ts";
import { moduleUrl } from "../actors/_module_url.ts";
import { indexModuleErrors } from "../actors/error_codec.ts";
import { describeCaptures, findCaptures, loadedParser, loadParser } from "./_closure_check.ts";

type Fn = (...args: unknown[]) => unknown;

/** The functions a pool can name: exports of its task modules, and shipped sources. */
export class FunctionRefs {
  readonly urls: string[];
  #exports = new Map<unknown, FnRef>();
  /** The wire name of each by-source text. */
  #byKey = new Map<string, FnRef>();
  // By-source functions are known by their name and text, not by identity: a loop that submits
  // an arrow written in its body makes a new function object each time, with the same text.
  #keys = new WeakMap<Fn, string>();
  /** Each by-source text's verdict: why it is refused, or null. */
  #verdicts = new Map<string, string | null>();
  /** Where each by-source text was first submitted from, for its stack frames in a worker. */
  #sites = new Map<string, string>();
  #loaded = false;
  #needsParser = false;
  #parserSettled = false;
  /**
   * The index in `urls` of the program's main module while its exports are not known here: it
   * may still be evaluating (a top-level `await` waiting for this very pool), so it is never
   * awaited. Its exports are indexed once its evaluation ends; until then its functions go by
   * name and text, and the worker takes the export when the text is the same.
   */
  #pendingMain = -1;
  /** Called when the pool can dispatch again after waiting for the parser. */
  onReady: (() => void) | undefined;

  constructor(modules: (string | URL)[]) {
    this.urls = modules.map((m) => moduleUrl(m, "create a worker pool", "modules"));
  }

  /** Imports the task modules here too, to know their exported functions by identity. */
  async load(): Promise<void> {
    const main = mainModule();
    for (const [index, url] of this.urls.entries()) {
      if (url === main) {
        // Importing the main module resolves only when its evaluation ends: awaiting it here
        // would deadlock a program whose top-level `await` waits for this pool.
        this.#pendingMain = index;
        import(url).then(
          (namespace) => {
            this.#index(index, url, namespace);
            this.#pendingMain = -1;
          },
          // The workers import it too, and report why it cannot load.
          () => {},
        );
        continue;
      }
      this.#index(index, url, await import(url));
    }
    this.#loaded = true;
  }

  #index(index: number, url: string, namespace: Record<string, unknown>): void {
    indexModuleErrors(url, namespace);
    for (const [name, value] of Object.entries(namespace)) {
      if (typeof value === "function" && !this.#exports.has(value)) {
        this.#exports.set(value, { module: index, name });
      }
    }
  }

  /** Whether jobs can be dispatched: the modules are loaded, and the parser if it is needed. */
  get loaded(): boolean {
    return this.#loaded && (!this.#needsParser || this.#parserSettled);
  }

  /** Throws a TypeError that says what to do when `fn` can be neither referenced nor shipped. */
  validate(fn: unknown): void {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot submit a task as 'fn' must be a function: received ${show(fn)}`,
      );
    }
    if (this.#exports.has(fn)) return;
    const source = Function.prototype.toString.call(fn);
    const name = fn.name ? `'${fn.name}'` : "an anonymous function";
    if (/^class\b/.test(source)) {
      throw new TypeError(
        `Cannot submit a task as 'fn' (${name}) is a class: submit a function, such as one exported from a module in 'modules'`,
      );
    }
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(
        `Cannot submit a task as 'fn' (${name}) is a bound or built-in function, whose source cannot be sent to a worker: export a function from a module listed in 'modules', or pass a self-contained function`,
      );
    }
    const key = this.#keyOf(fn as Fn);
    if (!this.#sites.has(key)) this.#sites.set(key, callSite());
    if (!this.#needsParser) {
      // Loaded on the first function that may go by source; the pool waits for it to dispatch.
      this.#needsParser = true;
      loadParser().finally(() => {
        this.#parserSettled = true;
        this.onReady?.();
      }).catch(warnUnchecked);
    }
  }

  /**
   * The TypeError that refuses `fn` when it goes by source and uses something from outside
   * itself; analysed once per function.
   */
  refusal(fn: Fn, label: string): TypeError | undefined {
    if (this.#exports.has(fn)) return undefined;
    // It may be an export of the main module: the worker decides (see `ref()`).
    if (this.#mayBeMainExport(fn)) return undefined;
    return this.#verdict(fn, label);
  }

  #mayBeMainExport(fn: Fn): boolean {
    return this.#pendingMain >= 0 && boundName(fn) !== undefined;
  }

  #verdict(fn: Fn, label: string): TypeError | undefined {
    const key = this.#keyOf(fn);
    let verdict = this.#verdicts.get(key);
    if (verdict === undefined) {
      const acorn = loadedParser();
      if (!acorn) return undefined;
      const source = Function.prototype.toString.call(fn);
      const captures = findCaptures(acorn, source, boundName(fn));
      const uses = captures && describeCaptures(captures);
      verdict = uses === undefined
        ? null
        : (`Cannot run ${
          fn.name ? `'${fn.name}'` : "an anonymous function"
        } on ${label} as it is sent by source (a worker compiles its text alone) and it uses ${uses} from outside: pass what it needs as arguments, or export the function from a module listed in 'modules'`);
      this.#verdicts.set(key, verdict);
    }
    return verdict === null ? undefined : new TypeError(verdict);
  }

  #keyOf(fn: Fn): string {
    let key = this.#keys.get(fn);
    if (key === undefined) {
      key = `${boundName(fn) ?? ""}\n${Function.prototype.toString.call(fn)}`;
      this.#keys.set(fn, key);
    }
    return key;
  }

  /**
   * The wire name of `fn`; call it once the modules are loaded. `label` names the pool in the
   * refusal a worker throws for a function of the main module that is not an export after all.
   */
  ref(fn: Fn, label = "a worker pool"): FnRef {
    const exported = this.#exports.get(fn);
    if (exported) return exported;
    const key = this.#keyOf(fn);
    let ref = this.#byKey.get(key);
    if (!ref) {
      const name = boundName(fn);
      const site = this.#sites.get(key);
      const mainExport = this.#mayBeMainExport(fn);
      const refused = mainExport ? this.#verdict(fn, label)?.message : undefined;
      ref = {
        id: this.#byKey.size + 1,
        source: Function.prototype.toString.call(fn),
        ...(name ? { name } : {}),
        ...(site ? { site } : {}),
        ...(mainExport ? { exportOf: this.#pendingMain } : {}),
        ...(refused ? { refused } : {}),
      };
      this.#byKey.set(key, ref);
    }
    return ref;
  }
}

/** The URL of the program's main module, if there is one to match. */
function mainModule(): string | undefined {
  try {
    return Deno.mainModule;
  } catch {
    return undefined;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The name a worker binds to a by-source function (so that recursion through it works). */
function boundName(fn: Fn): string | undefined {
  return IDENTIFIER.test(fn.name) ? fn.name : undefined;
}

const LIBRARY = ["../executors/", "../actors/", "../future/", "../mod.ts"].map((path) =>
  new URL(path, import.meta.url).href
);

/** The first stack frame outside this package: where the user submitted the function. */
function callSite(): string {
  const lines = new Error().stack?.split("\n").slice(1) ?? [];
  for (const line of lines) {
    const match = /(\w+:\/\/[^\s)]+:\d+:\d+)\)?\s*$/.exec(line);
    if (match && !LIBRARY.some((prefix) => match[1]!.startsWith(prefix))) return match[1]!;
  }
  return "";
}

let warned = false;

/**
 * Without the parser nothing is refused: a function that uses a variable from outside itself
 * fails in the worker with a bare ReferenceError, or reads a worker global. Said once.
 */
function warnUnchecked(error: unknown): void {
  if (warned) return;
  warned = true;
  console.warn(
    "@concurrent/futures: functions sent to workers by source are not checked for variables " +
      `they use from outside (the parser 'acorn' did not load: ${
        error instanceof Error ? error.message.split("\n")[0] : String(error)
      }); such a function fails there with a bare ReferenceError. Import the library with its ` +
      "deno.json (as from JSR), or export task functions from a module in 'modules'.",
  );
}

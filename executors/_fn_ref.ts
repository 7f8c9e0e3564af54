// How a function submitted to a worker pool is named on the wire: an export of one of the pool's
// task modules (by reference), or a self-contained function (by source, compiled once per worker).

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
  /** Called when the pool can dispatch again after waiting for the parser. */
  onReady: (() => void) | undefined;

  constructor(modules: (string | URL)[]) {
    this.urls = modules.map((m) => moduleUrl(m, "create a worker pool", "modules"));
  }

  /** Imports the task modules here too, to know their exported functions by identity. */
  async load(): Promise<void> {
    for (const [index, url] of this.urls.entries()) {
      const namespace = await import(url) as Record<string, unknown>;
      indexModuleErrors(url, namespace);
      for (const [name, value] of Object.entries(namespace)) {
        if (typeof value === "function" && !this.#exports.has(value)) {
          this.#exports.set(value, { module: index, name });
        }
      }
    }
    this.#loaded = true;
  }

  /** Whether jobs can be dispatched: the modules are loaded, and the parser if it is needed. */
  get loaded(): boolean {
    return this.#loaded && (!this.#needsParser || this.#parserSettled);
  }

  /** Throws a TypeError that says what to do when `fn` can be neither referenced nor shipped. */
  validate(fn: unknown): void {
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot submit a task as 'fn' must be a function: received ${
          fn === null ? "null" : typeof fn
        }`,
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
      }).catch(() => {
        // Without the parser nothing is refused: the worker reports what it cannot resolve.
      });
    }
  }

  /**
   * The TypeError that refuses `fn` when it goes by source and uses something from outside
   * itself; analysed once per function.
   */
  refusal(fn: Fn, label: string): TypeError | undefined {
    if (this.#exports.has(fn)) return undefined;
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

  /** The wire name of `fn`; call it once the modules are loaded. */
  ref(fn: Fn): FnRef {
    const exported = this.#exports.get(fn);
    if (exported) return exported;
    const key = this.#keyOf(fn);
    let ref = this.#byKey.get(key);
    if (!ref) {
      const name = boundName(fn);
      const site = this.#sites.get(key);
      ref = {
        id: this.#byKey.size + 1,
        source: Function.prototype.toString.call(fn),
        ...(name ? { name } : {}),
        ...(site ? { site } : {}),
      };
      this.#byKey.set(key, ref);
    }
    return ref;
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

// How a function submitted to a worker pool is named on the wire: an export of one of the pool's
// task modules (by reference), or a self-contained function (by source, compiled once per worker).

import type { FnRef } from "../actors/_protocol.ts";
import { moduleUrl } from "../actors/_module_url.ts";

type Fn = (...args: unknown[]) => unknown;

/** The functions a pool can name: exports of its task modules, and shipped sources. */
export class FunctionRefs {
  readonly urls: string[];
  #exports = new Map<unknown, FnRef>();
  #sources = new Map<string, number>();
  #byFn = new WeakMap<Fn, FnRef>();
  #loaded = false;

  constructor(modules: (string | URL)[]) {
    this.urls = modules.map((m) => moduleUrl(m, "create a worker pool", "modules"));
  }

  /** Imports the task modules here too, to know their exported functions by identity. */
  async load(): Promise<void> {
    for (const [index, url] of this.urls.entries()) {
      const namespace = await import(url) as Record<string, unknown>;
      for (const [name, value] of Object.entries(namespace)) {
        if (typeof value === "function" && !this.#exports.has(value)) {
          this.#exports.set(value, { module: index, name });
        }
      }
    }
    this.#loaded = true;
  }

  get loaded(): boolean {
    return this.#loaded;
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
  }

  /** The wire name of `fn`; call it once the modules are loaded. */
  ref(fn: Fn): FnRef {
    const exported = this.#exports.get(fn);
    if (exported) return exported;
    let ref = this.#byFn.get(fn);
    if (!ref) {
      const source = Function.prototype.toString.call(fn);
      let id = this.#sources.get(source);
      if (id === undefined) {
        id = this.#sources.size + 1;
        this.#sources.set(source, id);
      }
      ref = { id, source };
      this.#byFn.set(fn, ref);
    }
    return ref;
  }
}

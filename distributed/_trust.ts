// Which task modules a worker runs: only those it was started with, matched by their exact URL or,
// when the client's copy lives at another path, by the SHA-256 of the module file's bytes. A file
// name is never enough: anyone who can publish a task could otherwise pick any loaded module by
// naming a made-up path that ends the same way.

import type { WireFn } from "./_protocol.ts";

type Fn = (...args: unknown[]) => unknown;

/** The SHA-256 (hex) of a `file:` module's bytes; undefined for other URLs or an unreadable file. */
export async function moduleHash(url: string): Promise<string | undefined> {
  if (!url.startsWith("file:")) return undefined;
  try {
    const bytes = await Deno.readFile(new URL(url));
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  } catch {
    return undefined;
  }
}

/** The hashes of several modules, in order. */
export function moduleHashes(urls: readonly string[]): Promise<(string | undefined)[]> {
  return Promise.all(urls.map(moduleHash));
}

/** The modules a worker was started with, and the only ones whose exports it runs. */
export class TrustedModules {
  readonly #byUrl = new Map<string, Record<string, unknown>>();
  readonly #byHash = new Map<string, Record<string, unknown>>();

  private constructor() {}

  /** Imports each module and records its URL and hash. */
  static async load(urls: readonly string[]): Promise<TrustedModules> {
    const trusted = new TrustedModules();
    for (const url of urls) {
      const namespace = await import(url) as Record<string, unknown>;
      trusted.#byUrl.set(url, namespace);
      const hash = await moduleHash(url);
      if (hash !== undefined) trusted.#byHash.set(hash, namespace);
    }
    return trusted;
  }

  /**
   * The exported function a task names.
   *
   * @throws {TypeError} when no module of this worker has that URL or hash, or it has no such
   * exported function
   */
  find(ref: Extract<WireFn, { module: string }>): Fn {
    const namespace = this.#byUrl.get(ref.module) ??
      (ref.hash === undefined ? undefined : this.#byHash.get(ref.hash));
    if (!namespace) {
      throw new TypeError(
        `Cannot run '${ref.name}' from '${ref.module}' as the worker was not started with that module (it matches a task's module by its exact URL or by the SHA-256 of its file, never by file name): start the worker with --modules ${ref.module}, or with a byte-identical copy of it`,
      );
    }
    const fn = namespace[ref.name];
    if (typeof fn !== "function") {
      throw new TypeError(
        `Cannot run '${ref.name}' from '${ref.module}' as that module has no such exported function`,
      );
    }
    return fn as Fn;
  }
}

// The transport floor of the worker-pool benchmark: Web Workers fed one message per task,
// round-robin, with a Map from task id to resolver. No queue, no futures, no supervision: what a
// hand-rolled `new Worker` + `postMessage` pool costs.

import type { RawRequest, RawResponse } from "./_raw_worker.ts";

const RAW_WORKER_URL = new URL("./_raw_worker.ts", import.meta.url);

/** A minimal pool of raw Web Workers. */
export class RawPool {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #next = 0;
  #id = 0;

  private constructor(size: number) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(RAW_WORKER_URL, { type: "module", name: "raw floor worker" });
      worker.onmessage = (event: MessageEvent<RawResponse>) => {
        const { id, value } = event.data;
        const pending = this.#pending.get(id);
        this.#pending.delete(id);
        pending?.resolve(value);
      };
      worker.onerror = (event) => {
        // Without preventDefault() an error in a worker ends the process; fail what is pending.
        event.preventDefault();
        for (const pending of this.#pending.values()) pending.reject(new Error(event.message));
        this.#pending.clear();
      };
      return worker;
    });
  }

  /** Starts `size` workers and waits until each has answered once. */
  static async start(size: number): Promise<RawPool> {
    const pool = new RawPool(size);
    await Promise.all(pool.#workers.map(() => pool.call("add", [0, 0])));
    return pool;
  }

  /** Runs `fn(...args)` on the next worker in turn. */
  call(fn: RawRequest["fn"], args: unknown[], transfer?: Transferable[]): Promise<unknown> {
    const id = ++this.#id;
    const pending = Promise.withResolvers<unknown>();
    this.#pending.set(id, pending);
    const worker = this.#workers[this.#next]!;
    this.#next = (this.#next + 1) % this.#workers.length;
    const message: RawRequest = { id, fn, args };
    worker.postMessage(message, transfer ?? []);
    return pending.promise;
  }

  /** Ends the workers. */
  close(): void {
    for (const worker of this.#workers) worker.terminate();
  }

  /** `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

// The tighter transport floor of the worker-pool benchmark: Web Workers fed one `[id, x]` array
// per task, round-robin, answered with `[id, x + 1]`, with a Map from task id to resolver. An
// array is cheaper to clone than the object messages of `_raw_pool.ts`, so this floor is higher.

const ARRAY_WORKER_URL = new URL("./_raw_array_worker.ts", import.meta.url);

/** A minimal pool of raw Web Workers that runs `inc(x)`, one array message per task. */
export class RawArrayPool {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, PromiseWithResolvers<number>>();
  #next = 0;
  #id = 0;

  private constructor(size: number) {
    this.#workers = Array.from({ length: size }, () => {
      const worker = new Worker(ARRAY_WORKER_URL, { type: "module", name: "raw array floor" });
      worker.onmessage = (event: MessageEvent<[number, number]>) => {
        const [id, value] = event.data;
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
  static async start(size: number): Promise<RawArrayPool> {
    const pool = new RawArrayPool(size);
    await Promise.all(pool.#workers.map(() => pool.inc(0)));
    return pool;
  }

  /** Runs `inc(x)` on the next worker in turn. */
  inc(x: number): Promise<number> {
    const id = ++this.#id;
    const pending = Promise.withResolvers<number>();
    this.#pending.set(id, pending);
    const worker = this.#workers[this.#next]!;
    this.#next = (this.#next + 1) % this.#workers.length;
    worker.postMessage([id, x]);
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

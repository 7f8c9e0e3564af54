// Helpers that order events in executor tests with explicit promises instead of sleeps.

/** A promise that a test opens by hand. */
export interface Gate {
  readonly promise: Promise<void>;
  readonly opened: boolean;
  open(): void;
}

/** A closed gate. */
export function gate(): Gate {
  const { promise, resolve } = Promise.withResolvers<void>();
  let opened = false;
  return {
    promise,
    get opened() {
      return opened;
    },
    open() {
      opened = true;
      resolve();
    },
  };
}

/**
 * Counts tasks: each call to `run(value)` records that it started, waits for its own gate (one per
 * call, in call order) and returns `value`. `waitStarted(n)` resolves once `n` calls have started.
 */
export class GatedTasks {
  started = 0;
  running = 0;
  maxRunning = 0;
  finished = 0;
  readonly gates: Gate[] = [];
  #watchers: { n: number; resolve: () => void }[] = [];

  /** The gate of the `index`-th call (created on demand, so it can be opened before the call). */
  gateOf(index: number): Gate {
    while (this.gates.length <= index) this.gates.push(gate());
    return this.gates[index]!;
  }

  /** Opens the gates of the first `n` calls (all created so far when `n` is left out). */
  openAll(n = this.gates.length): void {
    for (let i = 0; i < n; i++) this.gateOf(i).open();
  }

  run = async <T>(value: T): Promise<T> => {
    const index = this.started++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    this.#notify();
    try {
      await this.gateOf(index).promise;
      return value;
    } finally {
      this.running--;
      this.finished++;
    }
  };

  /** Resolves once `n` calls have started. */
  waitStarted(n: number): Promise<void> {
    if (this.started >= n) return Promise.resolve();
    const { promise, resolve } = Promise.withResolvers<void>();
    this.#watchers.push({ n, resolve });
    return promise;
  }

  #notify(): void {
    this.#watchers = this.#watchers.filter((w) => {
      if (this.started < w.n) return true;
      w.resolve();
      return false;
    });
  }
}

/** Lets every queued microtask and the pool's scheduling run (one macrotask turn). */
export function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A task that waits until its task signal aborts, then reports the reason. */
export function untilAborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });
}

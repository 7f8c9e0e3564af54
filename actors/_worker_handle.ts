// A pool worker on a Deno Web Worker. Each task in flight has a claim slot in shared memory (see
// _claims.ts): the host can take back any task the worker has not started, to retire the worker
// or to give the task to an idle one, and an abort is a flag the task can poll.

import { Ctl, type HostMessage } from "./_protocol.ts";
import { encodeError } from "./error_codec.ts";
import { type Transport, webWorkerTransport } from "./_transport.ts";
import { PoolWorker, type WorkerEvents, type WorkerSpec } from "./_pool_worker.ts";
import { ClaimSlots } from "./_claims.ts";
import { checkDepth } from "./_depth.ts";

const WORKER_URL = new URL("./_worker_main.ts", import.meta.url);
/**
 * What a Web Worker must read to start: the worker entry's module graph, which is this package's
 * `actors/` and `future/` (Deno checks a worker's static imports against read permission).
 */
export const WORKER_READS: URL[] = [
  new URL("./", import.meta.url),
  new URL("../future/", import.meta.url),
];

/** The part of the Web Locks API used here (Deno's types leave it out). */
interface WebLocksQuery {
  query(): Promise<{ held?: { name?: string }[] }>;
}

function webLocks(): WebLocksQuery | undefined {
  return (navigator as { locks?: WebLocksQuery }).locks;
}

/** How often `lookAgain()` looks while its patience lasts. */
const LOOK_AGAIN_MS = 5;

/** How often a worker ended while busy is looked at, to tell when its thread is gone. */
const BUSY_LOOK_MS = 100;

/** The host side of one Web Worker actor. */
export class WorkerHandle<T> extends PoolWorker<T> {
  readonly exclusive = false;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(Ctl.Size * 4));
  readonly #transport: Transport;
  readonly #claims = new ClaimSlots(this.#ctl);
  /** The newest task it had started when it was retired (to tell whether it still spins). */
  #lastStarted = 0;
  /** The Web Lock its thread holds while it lives (see `InitMessage.aliveLock`). */
  readonly #aliveLock = `@concurrent/futures/pool-worker/${crypto.randomUUID()}`;
  /** Ended while busy, and its thread was still seen holding its lock at the last look. */
  #busyAtEnd = false;

  constructor(id: number, spec: WorkerSpec, events: WorkerEvents<T>) {
    super(id, events);
    this.#transport = webWorkerTransport(WORKER_URL, spec.name, spec.permissions, {
      message: (message) => this.onMessage(message),
      error: (message) => this.died({ cause: "uncaught", code: 1, error: new Error(message) }),
    });
    try {
      checkDepth(spec.initargs);
      if (spec.actor) checkDepth(spec.actor.args);
      this.init(spec, this.#ctl.buffer as SharedArrayBuffer, this.#aliveLock);
    } catch (error) {
      // Its start message could not be sent (arguments that cannot be cloned): nothing else holds
      // the worker, and a live worker keeps the program from ending.
      this.#transport.terminate();
      throw error;
    }
  }

  protected override checkArgs(args: unknown[]): void {
    checkDepth(args);
  }

  protected post(message: HostMessage, transfer: Transferable[]): void {
    this.#transport.post(message, transfer);
  }

  protected kill(): void {
    Atomics.store(this.#ctl, Ctl.Ended, 1);
    this.#transport.terminate();
  }

  /**
   * A timer that waits on the worker's shared memory: Deno loads its timers (with their Node
   * compatibility layer, 15-25 ms) on the first read of `setTimeout`, and a program that only
   * runs a few tasks need never pay for that. Like an unref'd timer, a wait keeps no program
   * alive; the worker does, as long as it lives.
   */
  override after(ms: number, fn: () => void): () => void {
    let cancelled = false;
    const { value } = Atomics.waitAsync(this.#ctl, Ctl.Timer, 0, ms);
    (value as Promise<string>).then(() => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
      // Releases the wait now rather than at its timeout.
      Atomics.notify(this.#ctl, Ctl.Timer);
    };
  }

  protected override slotFor(seq: number, transfer: Transferable[] | undefined): number {
    if (transfer !== undefined && transfer.length > 0) return -1;
    return this.#claims.assign(seq) ?? -1;
  }

  protected override release(seq: number): void {
    super.release(seq);
    this.#claims.release(seq);
  }

  protected override takeBackOrStarted(seq: number): boolean {
    return this.#claims.takeBackOrStarted(seq);
  }

  /**
   * Asks the running task `seq` to stop: its `taskSignal()` polls see it at once, and an async
   * task's signal fires when the worker gets the message.
   */
  abortTask(seq: number, timedOut: boolean, reason: unknown): void {
    this.dropCallbacks(seq);
    Atomics.store(this.#ctl, Ctl.AbortKind, timedOut ? 1 : 2);
    Atomics.store(this.#ctl, Ctl.Abort, seq);
    try {
      this.#transport.post({ type: "abort", seq, reason: encodeError(reason) });
    } catch {
      // A dead worker has nothing left to stop.
    }
  }

  override retire(): { started: T[]; unstarted: T[] } {
    const split = super.retire();
    for (const seq of this.tasks.keys()) this.#lastStarted = Math.max(this.#lastStarted, seq);
    return split;
  }

  override revoke(count: number): T[] {
    const taken: T[] = [];
    // The worker claims tasks in the order sent: take back from the newest until one is claimed.
    for (const seq of [...this.tasks.keys()].reverse()) {
      if (taken.length >= count || this.takeBackOrStarted(seq)) break;
      taken.unshift(this.tasks.get(seq)!);
      this.tasks.delete(seq);
      this.release(seq);
      this.dispatched--;
    }
    return taken;
  }

  /** Whether a retired worker is still inside a task (its synchronous part, or ended busy). */
  spinning(): boolean {
    return this.#busyAtEnd ||
      this.#lastStarted > 0 && Atomics.load(this.#ctl, Ctl.Returned) < this.#lastStarted;
  }

  override endingBusy(): void {
    if (this.#busyAtEnd || webLocks() === undefined) return;
    this.#busyAtEnd = true;
    // Looked at now and then until the thread has let its lock go: a thread that got back to its
    // event loop ends there. The looks wait on shared memory, which keeps no program alive.
    const look = () => {
      this.lookAgain().then(() => {
        if (this.#busyAtEnd) this.after(BUSY_LOOK_MS, look);
      });
    };
    this.after(BUSY_LOOK_MS, look);
  }

  override async lookAgain(patience = 0): Promise<void> {
    const until = performance.now() + patience;
    while (this.#busyAtEnd) {
      try {
        const { held } = await webLocks()!.query();
        this.#busyAtEnd = held?.some((lock) => lock.name === this.#aliveLock) ?? false;
      } catch {
        this.#busyAtEnd = false;
      }
      if (!this.#busyAtEnd || performance.now() >= until) return;
      // A timer that keeps the program alive: whoever waits here (a shutdown) must be answered.
      await new Promise((resolve) => setTimeout(resolve, LOOK_AGAIN_MS));
    }
  }
}

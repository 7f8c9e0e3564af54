// A pool worker on a Deno Web Worker. Tasks are claimed through shared memory, so that retiring
// the worker tells exactly which tasks it started; an abort is a flag the task can poll.

import { Ctl, type HostMessage } from "./_protocol.ts";
import { encodeError } from "./error_codec.ts";
import { type Transport, webWorkerTransport } from "./_transport.ts";
import { PoolWorker, type WorkerEvents, type WorkerSpec } from "./_pool_worker.ts";

const WORKER_URL = new URL("./_worker_main.ts", import.meta.url);

/** The host side of one Web Worker actor. */
export class WorkerHandle<T> extends PoolWorker<T> {
  readonly exclusive = false;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(Ctl.Size * 4));
  readonly #transport: Transport;
  #lastClaim = 0;

  constructor(id: number, spec: WorkerSpec, events: WorkerEvents<T>) {
    super(id, events);
    this.#transport = webWorkerTransport(WORKER_URL, spec.name, spec.permissions, {
      message: (message) => this.onMessage(message),
      error: (message) => this.died({ cause: "uncaught", code: 1, error: new Error(message) }),
    });
    this.init(spec, this.#ctl.buffer as SharedArrayBuffer);
  }

  protected post(message: HostMessage, transfer: Transferable[]): void {
    this.#transport.post(message, transfer);
  }

  protected kill(): void {
    this.#transport.terminate();
  }

  /**
   * Asks the running task `seq` to stop: its `taskSignal()` polls see it at once, and an async
   * task's signal fires when the worker gets the message.
   */
  abortTask(seq: number, timedOut: boolean, reason: unknown): void {
    Atomics.store(this.#ctl, Ctl.AbortKind, timedOut ? 1 : 2);
    Atomics.store(this.#ctl, Ctl.Abort, seq);
    try {
      this.#transport.post({ type: "abort", seq, reason: encodeError(reason) });
    } catch {
      // A dead worker has nothing left to stop.
    }
  }

  retire(): { started: T[]; unstarted: T[] } {
    this.state = "retired";
    this.#lastClaim = Atomics.exchange(this.#ctl, Ctl.Claim, -1);
    return this.split(this.#lastClaim);
  }

  /** Whether a retired worker is still inside the synchronous part of a task. */
  spinning(): boolean {
    return this.#lastClaim > 0 && Atomics.load(this.#ctl, Ctl.Returned) < this.#lastClaim;
  }

  protected override lastClaim(): number {
    return this.state === "retired" ? this.#lastClaim : Atomics.load(this.#ctl, Ctl.Claim);
  }
}

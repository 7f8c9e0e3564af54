// The host's handle on one worker actor: its mailbox of tasks in flight, the shared control slots,
// and what it reports (ready, results, exit). It knows nothing about pools or queues.

import {
  Ctl,
  type FnRef,
  PROTOCOL_VERSION,
  type WireTask,
  type WorkerMessage,
} from "./_protocol.ts";
import { decodeError, encodeError } from "./error_codec.ts";
import { type Transport, webWorkerTransport, type WorkerPermissions } from "./_transport.ts";

/** How the worker ended. */
export interface WorkerExit {
  /** `close`: `self.close()`; `exit`: `Deno.exit()`; `uncaught`: an error outside any task. */
  cause: "close" | "exit" | "uncaught";
  /** The exit code (`Deno.exit(n)`), 1 for an uncaught error, 0 for `self.close()`. */
  code: number;
  /** The uncaught error, if any. */
  error?: unknown;
}

/** What a worker handle reports to its owner. */
export interface WorkerEvents<T> {
  ready(worker: WorkerHandle<T>): void;
  initFailed(worker: WorkerHandle<T>, stage: string, error: unknown): void;
  /**
   * A task finished after `ms` of run time in the worker; `values` holds a failed chunk's values
   * before the failing item.
   */
  result(
    worker: WorkerHandle<T>,
    item: T,
    ok: boolean,
    outcome: unknown,
    values: unknown[] | undefined,
    ms: number,
  ): void;
  /** The worker died: `started` were running on it, `unstarted` never began. */
  exited(worker: WorkerHandle<T>, exit: WorkerExit, started: T[], unstarted: T[]): void;
}

/** How to start a worker. */
export interface WorkerSpec {
  url: URL;
  name: string;
  permissions: WorkerPermissions | undefined;
  modules: string[];
  initializer: FnRef | undefined;
  initargs: unknown[];
}

/** One task handed to a worker. */
export interface Dispatch<T> {
  item: T;
  kind: "call" | "chunk";
  fn: FnRef;
  args: unknown[];
  transfer: Transferable[] | undefined;
  /** Set by `send()`: the task's number on this worker. */
  seq?: number;
}

/** The host side of one worker actor. */
export class WorkerHandle<T> {
  readonly id: number;
  state: "starting" | "ready" | "retired" | "dead" = "starting";
  /** Tasks handed to this worker so far. */
  dispatched = 0;
  /** Smoothed run time of its tasks, in ms; undefined before the first result. */
  runMs: number | undefined;
  readonly #ctl = new Int32Array(new SharedArrayBuffer(Ctl.Size * 4));
  readonly #inflight = new Map<number, T>();
  readonly #sources = new Set<number>();
  readonly #events: WorkerEvents<T>;
  readonly #transport: Transport;
  static #seq = 0;

  constructor(id: number, spec: WorkerSpec, events: WorkerEvents<T>) {
    this.id = id;
    this.#events = events;
    this.#transport = webWorkerTransport(spec.url, spec.name, spec.permissions, {
      message: (message) => this.#onMessage(message),
      error: (message) => this.#died({ cause: "uncaught", code: 1, error: new Error(message) }),
    });
    const init = {
      type: "init" as const,
      version: PROTOCOL_VERSION,
      workerId: id,
      modules: spec.modules,
      initargs: spec.initargs,
      ctl: this.#ctl.buffer as SharedArrayBuffer,
    };
    this.#transport.post(spec.initializer ? { ...init, initializer: spec.initializer } : init);
  }

  /** Tasks sent and not yet answered. */
  get inflight(): number {
    return this.#inflight.size;
  }

  /**
   * Sends tasks in one message. Returns the tasks that could not be sent (an argument that
   * cannot be cloned) with the error; the others are in flight.
   */
  send(batch: Dispatch<T>[]): { item: T; error: unknown }[] {
    const tasks: WireTask[] = [];
    const transfer: Transferable[] = [];
    for (const d of batch) {
      const task = this.#task(d);
      d.seq = task.seq;
      tasks.push(task);
      if (d.transfer) transfer.push(...d.transfer);
      this.#inflight.set(task.seq, d.item);
    }
    this.dispatched += batch.length;
    try {
      this.#transport.post({ type: "run", tasks }, transfer);
      return [];
    } catch {
      // Find the culprits: send one by one. A shipped function's source goes with the first of
      // its tasks that does reach the worker, which may not be the one that was to carry it.
      const failed: { item: T; error: unknown }[] = [];
      for (const task of tasks) this.#unsent(task.fn);
      batch.forEach((d, i) => {
        let task = tasks[i]!;
        const shipsSource = "id" in d.fn && !this.#sources.has(d.fn.id);
        if (shipsSource) task = { ...task, fn: d.fn };
        try {
          this.#transport.post({ type: "run", tasks: [task] }, d.transfer ?? []);
          if (shipsSource) this.#sources.add((d.fn as { id: number }).id);
        } catch (error) {
          this.#inflight.delete(task.seq);
          this.dispatched--;
          failed.push({ item: d.item, error });
        }
      });
      return failed;
    }
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

  /**
   * Stops the worker from claiming more tasks. Returns what it had started (still in flight here)
   * and what it never will (removed from this handle).
   */
  retire(): { started: T[]; unstarted: T[]; lastClaim: number } {
    this.state = "retired";
    const lastClaim = Atomics.exchange(this.#ctl, Ctl.Claim, -1);
    this.#lastClaim = lastClaim;
    return { ...this.#split(lastClaim, false), lastClaim };
  }

  /** Whether a retired worker is still inside the synchronous part of a task. */
  spinning(): boolean {
    return this.#lastClaim > 0 && Atomics.load(this.#ctl, Ctl.Returned) < this.#lastClaim;
  }

  /** Ends the worker now; returns the tasks that were still in flight on it. */
  terminate(): T[] {
    if (this.state !== "dead") {
      this.state = "dead";
      this.#transport.terminate();
    }
    const left = [...this.#inflight.values()];
    this.#inflight.clear();
    return left;
  }

  #lastClaim = 0;

  #task(d: Dispatch<T>): WireTask {
    const seq = ++WorkerHandle.#seq;
    let fn = d.fn;
    if ("id" in fn) {
      if (this.#sources.has(fn.id)) fn = { id: fn.id };
      else this.#sources.add(fn.id);
    }
    return { seq, kind: d.kind, fn, args: d.args };
  }

  /** Forgets that `#task()` marked this source as sent when the message carrying it was not. */
  #unsent(fn: FnRef): void {
    if ("id" in fn && fn.source !== undefined) this.#sources.delete(fn.id);
  }

  #split(lastClaim: number, all: boolean): { started: T[]; unstarted: T[] } {
    const started: T[] = [];
    const unstarted: T[] = [];
    for (const [seq, item] of this.#inflight) {
      if (lastClaim >= 0 && seq <= lastClaim) started.push(item);
      else {
        unstarted.push(item);
        this.#inflight.delete(seq);
      }
    }
    if (all) this.#inflight.clear();
    return { started, unstarted };
  }

  #onMessage(message: WorkerMessage): void {
    switch (message.type) {
      case "results":
        for (const r of message.results) {
          const item = this.#inflight.get(r.seq);
          if (item === undefined) continue;
          this.#inflight.delete(r.seq);
          this.runMs = this.runMs === undefined ? r.ms : this.runMs * 0.8 + r.ms * 0.2;
          if (r.ok) this.#events.result(this, item, true, r.value, undefined, r.ms);
          else this.#events.result(this, item, false, decodeError(r.error), r.values, r.ms);
        }
        return;
      case "ready":
        if (this.state === "starting") this.state = "ready";
        return this.#events.ready(this);
      case "initFailed":
        return this.#events.initFailed(this, message.stage, decodeError(message.error));
      case "exit": {
        const exit: WorkerExit = { cause: message.cause, code: message.code };
        if (message.error) exit.error = decodeError(message.error);
        return this.#died(exit);
      }
    }
  }

  #died(exit: WorkerExit): void {
    if (this.state === "dead") return;
    const wasRetired = this.state === "retired";
    const lastClaim = wasRetired ? this.#lastClaim : Atomics.load(this.#ctl, Ctl.Claim);
    const { started, unstarted } = this.#split(lastClaim, true);
    this.state = "dead";
    this.#transport.terminate();
    this.#events.exited(this, exit, started, unstarted);
  }
}

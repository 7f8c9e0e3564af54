// What a pool sees of one worker actor, whatever carries it (a Web Worker, a subprocess): the
// tasks in flight on it, the messages it answers with, and how it ended. The mailbox logic lives
// here once; the handles add their transport and how they stop work.

import {
  type FnRef,
  type HostMessage,
  PROTOCOL_VERSION,
  type ResultsMessage,
  type RunMessage,
  STAMPED,
  type TaskExtras,
  type WireCall,
  type WireReply,
  type WorkerMessage,
} from "./_protocol.ts";
import { decodeError, encodeError, type WireError } from "./error_codec.ts";
import { InvalidStateError } from "../future/errors.ts";
import { encodeProxies, misplacedProxyError } from "./_proxy_wire.ts";
import { startTimer } from "../future/_timer.ts";
import type { WorkerPermissions } from "./_transport.ts";

/** How the worker ended. */
export interface WorkerExit {
  /**
   * `close`: `self.close()`; `exit`: `Deno.exit()` or a process's exit code; `uncaught`: an error
   * outside any task; `signal`: a process ended by a signal (out of memory, killed from outside).
   */
  cause: "close" | "exit" | "uncaught" | "signal";
  /** The exit code (`Deno.exit(n)`), 1 for an uncaught error, 0 for `self.close()`. */
  code: number;
  /** The signal that ended a process. */
  signal?: string;
  /** The uncaught error, if any. */
  error?: unknown;
}

/** What a worker reports to its owner. */
export interface WorkerEvents<T> {
  ready(worker: PoolWorker<T>): void;
  initFailed(worker: PoolWorker<T>, stage: string, error: unknown): void;
  /**
   * A task finished after `ms` of run time in the worker; `values` holds a failed chunk's values
   * before the failing item. `end` is when it ended, in epoch ms by the worker's clock, where it
   * was sent with `send(batch, true)`; otherwise -1.
   */
  result(
    worker: PoolWorker<T>,
    item: T,
    ok: boolean,
    outcome: unknown,
    values: unknown[] | undefined,
    ms: number,
    end: number,
  ): void;
  /** The worker answered `ping(id)`: its event loop was free when the ping arrived. */
  pong?(worker: PoolWorker<T>, id: number): void;
  /** The worker died: `started` were running on it, `unstarted` never began. */
  exited(worker: PoolWorker<T>, exit: WorkerExit, started: T[], unstarted: T[]): void;
}

/** How to start a worker. */
export interface WorkerSpec {
  name: string;
  permissions: WorkerPermissions | undefined;
  modules: string[];
  initializer: FnRef | undefined;
  initargs: unknown[];
  /** Makes the worker a user actor (see `InitMessage.actor`). */
  actor?: { module: number; args: unknown[] } | undefined;
  /** A process's V8 heap limit in MiB. */
  memoryLimitMb?: number | undefined;
  /** A process's Deno flags that decide how modules load; by default this process's own. */
  denoArgs?: string[] | undefined;
}

/** One task handed to a worker. */
export interface Dispatch<T> {
  item: T;
  kind: "call" | "chunk";
  fn: FnRef;
  args: unknown[];
  transfer: Transferable[] | undefined;
  /** The W3C trace context to run it in, if the submitter traces. */
  traceparent?: string | undefined;
  /** Set by `send()`: the task's number on this worker. */
  seq?: number;
}

/** A task on its way into a batch. */
interface Outgoing {
  seq: number;
  /** Its claim slot, or -1. */
  slot: number;
  fn: FnRef;
  args: unknown[];
  extras: TaskExtras | undefined;
}

let lastSeq = 0;
const CHUNK: TaskExtras = { kind: "chunk" };

/** The host side of one worker actor. */
export abstract class PoolWorker<T> {
  readonly id: number;
  state: "starting" | "ready" | "retired" | "dead" = "starting";
  /** Tasks handed to this worker so far. */
  dispatched = 0;
  /** Smoothed run time of its tasks, in ms; undefined before the first result. */
  runMs: number | undefined;
  /** The worker's `performance.timeOrigin`, told when it is ready. */
  #origin = 0;
  /** Whether the worker was asked to tell when tasks end (see `StampMessage`). */
  #stamping = false;
  /** Tasks sent and not yet answered, by seq. */
  protected readonly tasks = new Map<number, T>();
  protected readonly events: WorkerEvents<T>;
  /**
   * The functions this worker has been sent, by their index in its table (see `RunMessage.fns`):
   * each goes once, with its source if it has one; later tasks name it by index.
   */
  readonly #table = new Map<FnRef, number>();
  /** The proxied callbacks of tasks in flight, by seq, then by proxy id. */
  readonly #callbacks = new Map<number, ((...args: unknown[]) => unknown)[]>();
  #replies: WireReply[] = [];
  #repliesQueued = false;

  constructor(id: number, events: WorkerEvents<T>) {
    this.id = id;
    this.events = events;
  }

  /** Whether every task must have the worker to itself (no pipelining). */
  abstract readonly exclusive: boolean;
  /** Sends a message; throws a `DataCloneError` when a value in it cannot be sent. */
  protected abstract post(message: HostMessage, transfer: Transferable[]): void;
  /** Asks the running task `seq` to stop, by whatever means this worker has. */
  abstract abortTask(seq: number, timedOut: boolean, reason: unknown): void;
  /**
   * Stops the worker from taking more tasks. Returns what it had started (still in flight here)
   * and what it never will (removed from this handle).
   */
  retire(): { started: T[]; unstarted: T[] } {
    this.state = "retired";
    return this.split();
  }

  /**
   * Takes back up to `count` of the newest tasks the worker has not started, for another worker.
   * Returns them (removed from this handle), oldest first.
   */
  revoke(count: number): T[] {
    void count;
    return [];
  }
  /** Whether a retired worker may still be burning a core inside a task. */
  abstract spinning(): boolean;
  /**
   * Tells the handle, before it is ended, that its worker is busy (it did not answer a ping):
   * it counts as spinning until its thread is really gone, whatever its last task's synchronous
   * part did (a loop after an `await` returned from it long ago).
   */
  endingBusy(): void {}
  /**
   * Looks whether a worker ended busy is still running (see `endingBusy()`), again for up to
   * `patience` ms while it is.
   */
  lookAgain(_patience = 0): Promise<void> {
    return Promise.resolve();
  }
  /** Ends the worker's thread or process. */
  protected abstract kill(): void;

  /** Calls `fn` after `ms` milliseconds, unless cancelled first with what it returns. */
  after(ms: number, fn: () => void): () => void {
    return startTimer(fn, ms);
  }

  /** Settles once the worker's thread or process has ended and released what it held. */
  get gone(): Promise<void> {
    return Promise.resolve();
  }

  /** Tasks sent and not yet answered. */
  get inflight(): number {
    return this.tasks.size;
  }

  /** Sends the `init` message. */
  protected init(spec: WorkerSpec, ctl?: SharedArrayBuffer, aliveLock?: string): void {
    const init = {
      type: "init" as const,
      version: PROTOCOL_VERSION,
      workerId: this.id,
      modules: spec.modules,
      initargs: spec.initargs,
      ...(ctl ? { ctl } : {}),
      ...(aliveLock ? { aliveLock } : {}),
      ...(spec.actor ? { actor: spec.actor } : {}),
    };
    this.post(spec.initializer ? { ...init, initializer: spec.initializer } : init, []);
  }

  /**
   * Sends tasks in one message; with `stamp`, their results tell when they ended. Returns the
   * tasks that could not be sent (an argument that cannot be cloned or searched for proxies)
   * with the error; the others are in flight. It does not throw: its callers run it from message
   * handlers, where a throw would end the program and strand the rest of the batch.
   */
  send(batch: Dispatch<T>[], stamp = false): { item: T; error: unknown }[] {
    const failed: { item: T; error: unknown }[] = [];
    const sent: Dispatch<T>[] = [];
    const tasks: Outgoing[] = [];
    const transfer: Transferable[] = [];
    for (const d of batch) {
      let task: Outgoing;
      try {
        task = this.#task(d);
      } catch (error) {
        // Searching the arguments for proxies runs the caller's getters and recurses as deep as
        // they nest: what that throws fails this task alone, as structured clone's throw does.
        failed.push({ item: d.item, error });
        continue;
      }
      d.seq = task.seq;
      sent.push(d);
      tasks.push(task);
      if (d.transfer) transfer.push(...d.transfer);
      this.tasks.set(task.seq, d.item);
    }
    if (tasks.length === 0) return failed;
    this.dispatched += tasks.length;
    if (stamp !== this.#stamping) {
      this.#stamping = stamp;
      this.post({ type: "stamp", on: stamp }, []);
    }
    const { message, added } = this.#encode(tasks);
    try {
      this.post(message, transfer);
      return failed;
    } catch {
      // Find the culprits: send one by one. A function new to the worker goes with the first of
      // its tasks that does reach it, which may not be the one that was to carry it.
      for (const fn of added) this.#table.delete(fn);
      sent.forEach((d, i) => {
        const task = tasks[i]!;
        const one = this.#encode([task]);
        try {
          this.post(one.message, d.transfer ?? []);
        } catch (error) {
          for (const fn of one.added) this.#table.delete(fn);
          this.tasks.delete(task.seq);
          this.release(task.seq);
          this.dispatched--;
          failed.push({ item: d.item, error: misplacedProxyError(d.args, error) });
        }
      });
      return failed;
    }
  }

  /**
   * Lays tasks out in columns (see `RunMessage`), each function by its index in the worker's
   * table; a function new to the worker joins the table and goes in `fns`. Most batches bring
   * no new function and no extras: they go as the bare `tasks` array, the cheapest message to
   * clone. Returns the functions added to the table (taken out again if the message cannot go).
   */
  #encode(tasks: Outgoing[]): { message: HostMessage; added: FnRef[] } {
    const table = this.#table;
    const added: FnRef[] = [];
    const flat: unknown[] = [];
    let extras: [number, TaskExtras][] | undefined;
    let lastFn: FnRef | undefined;
    let lastIndex = -1;
    for (let t = 0; t < tasks.length; t++) {
      const task = tasks[t]!;
      let index = task.fn === lastFn ? lastIndex : table.get(task.fn);
      if (index === undefined) {
        index = table.size;
        table.set(task.fn, index);
        added.push(task.fn);
      }
      lastFn = task.fn;
      lastIndex = index;
      const args = task.args;
      flat.push(index, task.seq, task.slot, args.length);
      for (let a = 0; a < args.length; a++) flat.push(args[a]);
      if (task.extras) (extras ??= []).push([t, task.extras]);
    }
    if (added.length === 0 && extras === undefined) return { message: flat, added };
    const message: RunMessage = extras
      ? { type: "run", fns: added, tasks: flat, extras }
      : { type: "run", fns: added, tasks: flat };
    return { message, added };
  }

  /**
   * Asks the worker to answer with `pong(id)`, which it can only do once its event loop is free
   * (no task is running JavaScript on it).
   */
  ping(id: number): void {
    try {
      this.post({ type: "ping", id }, []);
    } catch {
      // A dead worker answers nothing; its end is reported anyway.
    }
  }

  /** Ends the worker now; returns the tasks that were still in flight on it. */
  terminate(): T[] {
    if (this.state !== "dead") {
      this.state = "dead";
      this.kill();
    }
    const left = [...this.tasks.values()];
    for (const seq of this.tasks.keys()) this.release(seq);
    this.tasks.clear();
    this.#callbacks.clear();
    return left;
  }

  /** Handles a message from the worker. */
  protected onMessage(message: WorkerMessage): void {
    if (Array.isArray(message)) {
      const stamped = message[0] === STAMPED;
      return this.#results(message, stamped, undefined, stamped ? 1 : 0);
    }
    switch (message.type) {
      case "calls":
        for (const call of message.calls) this.#call(call);
        return;
      case "results":
      case "stamped":
        return this.#results(message.results, message.type === "stamped", message.values, 0);
      case "ready": {
        // Each side's time origin is its own sample of the wall clock, and the wall clock drifts
        // from the monotonic one that performance.now() counts (0.24 ms was seen over a
        // 3-minute run): the worker's reading, taken before this message was sent, cannot be
        // later than this thread's clock now, so a lead it shows is taken off its origin.
        const lead = message.origin + message.now - (performance.timeOrigin + performance.now());
        this.#origin = lead > 0 ? message.origin - lead : message.origin;
        if (this.state === "starting") this.state = "ready";
        return this.events.ready(this);
      }
      case "pong":
        return this.events.pong?.(this, message.id);
      case "initFailed":
        return this.events.initFailed(this, message.stage, decodeError(message.error));
      case "exit": {
        const exit: WorkerExit = { cause: message.cause, code: message.code };
        if (message.error) exit.error = decodeError(message.error);
        return this.died(exit);
      }
    }
  }

  /**
   * Takes back task `seq` if the worker has not started it: it will never run and leaves this
   * handle. Returns whether it was taken back.
   */
  takeBack(seq: number): boolean {
    if (!this.tasks.has(seq) || this.takeBackOrStarted(seq)) return false;
    this.tasks.delete(seq);
    this.release(seq);
    this.dispatched--;
    return true;
  }

  /**
   * Gives task `seq` a claim slot before it is sent, if this worker has them; -1 for none. A
   * task that transfers objects gets none: once sent, they are gone from here, so it could not
   * be sent elsewhere.
   */
  protected slotFor(seq: number, transfer: Transferable[] | undefined): number {
    void seq;
    void transfer;
    return -1;
  }

  /**
   * The task `seq` is no longer in flight here (answered, not sent, or the worker died): its
   * callbacks are no longer called. Handles that override this call it too.
   */
  protected release(seq: number): void {
    this.#callbacks.delete(seq);
  }

  /** The task `seq` was stopped: calls it still makes are answered with an error, not run. */
  protected dropCallbacks(seq: number): void {
    this.#callbacks.delete(seq);
  }

  /**
   * Whether the worker started task `seq`; if it had not, makes sure it never will. By default
   * every task sent counts as started.
   */
  protected takeBackOrStarted(seq: number): boolean {
    void seq;
    return true;
  }

  /** The worker is gone: reports the tasks it had started and those it never will. */
  protected died(exit: WorkerExit): void {
    if (this.state === "dead") return;
    const { started, unstarted } = this.split();
    for (const seq of this.tasks.keys()) this.release(seq);
    this.tasks.clear();
    this.state = "dead";
    this.#callbacks.clear();
    this.kill();
    this.events.exited(this, exit, started, unstarted);
  }

  /** Splits the tasks in flight into started and unstarted; the unstarted ones leave. */
  protected split(): { started: T[]; unstarted: T[] } {
    const started: T[] = [];
    const unstarted: T[] = [];
    for (const [seq, item] of this.tasks) {
      if (this.takeBackOrStarted(seq)) started.push(item);
      else {
        unstarted.push(item);
        this.tasks.delete(seq);
        this.release(seq);
        this.dispatched--;
      }
    }
    return { started, unstarted };
  }

  /** Throws if `args` cannot reach the worker though they can be posted (see `_depth.ts`). */
  protected checkArgs(_args: unknown[]): void {}

  #task(d: Dispatch<T>): Outgoing {
    this.checkArgs(d.args);
    // Seqs live in an Int32Array slot: they wrap before 2^31 (they need only be unique among the
    // tasks in flight).
    lastSeq = lastSeq >= 0x7fff_ffff ? 1 : lastSeq + 1;
    const seq = lastSeq;
    const encoded = encodeProxies(d.args);
    let extras: TaskExtras | undefined;
    if (encoded) {
      this.#callbacks.set(seq, encoded.fns);
      extras = d.kind === "chunk"
        ? { kind: "chunk", proxies: encoded.paths }
        : { proxies: encoded.paths };
    } else if (d.kind === "chunk") extras = CHUNK;
    // The trace context is rare (only when the submitter traces): it rides in the extras.
    if (d.traceparent) extras = { ...extras, traceparent: d.traceparent };
    return {
      seq,
      slot: this.slotFor(seq, d.transfer),
      fn: d.fn,
      args: encoded ? encoded.args : d.args,
      extras,
    };
  }

  /** Settles the tasks of a results message (see `ResultsMessage`), read from `from` on. */
  #results(
    results: unknown[],
    stamped: boolean,
    values: ResultsMessage["values"],
    from: number,
  ): void {
    // Stamped results have one more column, the end: `seq, ms, end, value`.
    const stride = stamped ? 4 : 3;
    for (let i = from; i < results.length; i += stride) {
      const signed = results[i] as number;
      const seq = signed < 0 ? -signed : signed;
      const item = this.tasks.get(seq);
      if (item === undefined) continue;
      this.tasks.delete(seq);
      this.release(seq);
      const ms = results[i + 1] as number;
      this.runMs = this.runMs === undefined ? ms : this.runMs * 0.8 + ms * 0.2;
      // In epoch ms: each side's clock counts from its own origin.
      const end = stamped ? this.#origin + (results[i + 2] as number) : -1;
      const value = results[i + stride - 1];
      if (signed > 0) this.events.result(this, item, true, value, undefined, ms, end);
      else {
        const chunkValues = values?.find(([of]) => of === seq)?.[1];
        const error = decodeError(value as WireError);
        this.events.result(this, item, false, error, chunkValues, ms, end);
      }
    }
  }

  /**
   * Runs a task's call to one of its callbacks, here on the host, and queues the answer. A
   * callback that throws answers the call with its error; it never reaches the pool.
   */
  #call(call: WireCall): void {
    const fn = this.#callbacks.get(call.seq)?.[call.proxy];
    if (!fn) {
      const error = new InvalidStateError(
        "the task that received this callback was stopped or has settled: it was not called",
      );
      return this.#reply({ call: call.call, ok: false, error: encodeError(error) });
    }
    let result: unknown;
    try {
      result = fn(...call.args);
    } catch (error) {
      return this.#reply({ call: call.call, ok: false, error: encodeError(error) });
    }
    if (!isThenable(result)) return this.#reply({ call: call.call, ok: true, value: result });
    Promise.resolve(result).then(
      (value) => this.#reply({ call: call.call, ok: true, value }),
      (error) => this.#reply({ call: call.call, ok: false, error: encodeError(error) }),
    );
  }

  /** Answers go out together, once the calls that arrived with them have run. */
  #reply(reply: WireReply): void {
    this.#replies.push(reply);
    if (this.#repliesQueued) return;
    this.#repliesQueued = true;
    queueMicrotask(() => {
      this.#repliesQueued = false;
      const replies = this.#replies;
      this.#replies = [];
      if (this.state === "dead") return;
      try {
        this.post({ type: "replies", replies }, []);
      } catch {
        // A value cannot be sent: send them one by one and fail only that call.
        for (const r of replies) {
          try {
            this.post({ type: "replies", replies: [r] }, []);
          } catch (error) {
            this.#send({ call: r.call, ok: false, error: encodeError(error) });
          }
        }
      }
    });
  }

  #send(reply: WireReply): void {
    try {
      this.post({ type: "replies", replies: [reply] }, []);
    } catch {
      // The worker is gone: nobody waits for the answer.
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  return typeof (value as PromiseLike<unknown>).then === "function";
}

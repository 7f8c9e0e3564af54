// The actor that runs inside every pool worker, thread or process: it handles `init`, `run` and
// `abort` messages. It catches everything: a task's failure becomes that task's result, and
// anything that would end the worker (Deno.exit(), an uncaught error, and self.close() in a
// thread) is announced first, so the host never waits for an answer that cannot come.

import {
  Ctl,
  type FnRef,
  type HostMessage,
  type InitMessage,
  PROTOCOL_VERSION,
  type RunBatch,
  type RunMessage,
  STAMPED,
  TASK_HEADER,
  type TaskExtras,
  type WireCall,
  type WireReply,
  type WorkerMessage,
} from "./_protocol.ts";
import { decodeError, encodeError, indexModuleErrors } from "./error_codec.ts";
import { callWithSignal, type SignalSource } from "./task_signal.ts";
import { InvalidStateError, TimeoutError } from "../future/errors.ts";
import { reviveProxies } from "./_proxy_wire.ts";
import { Queue } from "../future/_queue.ts";
import { claim } from "./_claims.ts";
import { inTraceContext } from "./_trace_context.ts";

type Fn = (...args: unknown[]) => unknown;

/** One task of a batch, read out of its columns. */
interface WireTask {
  seq: number;
  /** Its claim slot, or -1. */
  slot: number;
  /** Its function's index in `table`. */
  fn: number;
  args: unknown[];
  extras: TaskExtras | undefined;
}

/** How the actor talks to its host. */
export interface ActorEndpoint {
  /** Sends a message; throws when a value in it cannot be sent. */
  post(message: WorkerMessage): void;
  /** Ends this worker, once its end has been announced. */
  end(code: number): void;
  /**
   * Tells the host that task `seq` starts, where the host cannot see claims in shared memory (a
   * process). Called just before the task runs; the message must be on its way when it returns.
   */
  started?(seq: number): void;
}

/** The running actor, for the entry point that feeds it messages. */
export interface Actor {
  receive(message: HostMessage): void;
  announceExit(cause: "close" | "exit" | "uncaught", code: number, error?: unknown): void;
}

let endpoint: ActorEndpoint;
let loaders: Record<string, () => Promise<Record<string, unknown>>> = {};
let instance: Record<string, unknown> | undefined;
const modules: Record<string, unknown>[] = [];
const compiled = new Map<number, Fn>();
/** The functions the host has sent, by index (see `RunMessage.fns`). */
const table: FnRef[] = [];
const asyncTasks = new Map<number, TaskSignal>();
let ctl: Int32Array<ArrayBufferLike> = new Int32Array(Ctl.Size);
/** The task whose synchronous part is running, or 0. */
let syncSeq = 0;
/** Where sync/_shared.ts looks for whether this worker was ended (the same registry symbol). */
const THREAD_ENDED = Symbol.for("@concurrent/futures/thread-ended");
/** The part of the Web Locks API used here (Deno's types leave it out). */
interface WebLocks {
  request(name: string, callback: () => Promise<void>): Promise<void>;
}
/** Results not yet sent, flat as in `ResultsMessage.results`. */
let outbox: unknown[] = [];
/** The values of failed chunks among them, as in `ResultsMessage.values`. */
let outboxValues: [number, unknown[]][] | undefined;
/**
 * The tasks among them that are map() chunks done whole (their value is the list of the items'
 * values): one value that cannot be sent fails the chunk from that item on, not before it.
 */
let outboxChunks: Set<number> | undefined;
/** Whether the host asked for end times (`StampMessage`). */
let stamping = false;
/** Whether the outbox holds stamped results (`STAMPED`, then `seq, ms, end, value` each). */
let outboxStamped = false;
/** Calls to proxied callbacks not yet sent; they go out before the results flushed with them. */
let calls: WireCall[] = [];
/** Calls waiting for the host's reply, by call number. */
const awaiting = new Map<number, PromiseWithResolvers<unknown>>();
/** Tasks that received proxies and have not settled: their stand-ins may still call. */
const calling = new Set<number>();
let lastCall = 0;
let flushQueued = false;
/** While a batch of tasks runs: results that settle wait for the flush at its end. */
let inBatch = false;
let lastFlush = 0;
/**
 * The clock (`performance.now()`) when the last result was recorded: a flush that sends results
 * and the check after a task use it instead of reading the clock again (each read is an op).
 */
let lastSettled = 0;
/** Results recorded so far: tells whether a task settled while it ran. */
let settledCount = 0;
// Results of a batch go out together, but not later than this after the previous ones: a long
// batch must not hold back finished results (the pool waits on them to send more work).
const FLUSH_MS = 0.5;
let exiting = false;

const nativeAborted = Object.getOwnPropertyDescriptor(AbortSignal.prototype, "aborted")!.get!;

/** A task's signal, made on first use. Its `aborted` also reads the shared abort slot. */
class TaskSignal implements SignalSource {
  readonly #seq: number;
  #controller: AbortController | undefined;
  // AbortController.abort() reads `signal.aborted` itself: while it runs, the getter must give the
  // native answer, or it would call abort() again without end.
  #aborting = false;

  constructor(seq: number) {
    this.#seq = seq;
  }

  get signal(): AbortSignal {
    if (this.#controller) return this.#controller.signal;
    const controller = new AbortController();
    const signal = controller.signal;
    const seq = this.#seq;
    const aborted = (): boolean => {
      if (nativeAborted.call(signal)) return true;
      if (this.#aborting || Atomics.load(ctl, Ctl.Abort) !== seq) return false;
      const reason = Atomics.load(ctl, Ctl.AbortKind) === 1
        ? new TimeoutError("the task ran past its timeout")
        : new DOMException("the task was aborted", "AbortError");
      this.abort(reason);
      return true;
    };
    // Polling reads shared memory, so a loop that never yields still sees the abort.
    Object.defineProperty(signal, "aborted", { get: aborted, configurable: true });
    Object.defineProperty(signal, "throwIfAborted", {
      value: () => {
        if (aborted()) throw signal.reason;
      },
      configurable: true,
    });
    this.#controller = controller;
    return signal;
  }

  abort(reason: unknown): void {
    if (!this.#controller || this.#aborting) return;
    this.#aborting = true;
    try {
      this.#controller.abort(reason);
    } finally {
      this.#aborting = false;
    }
  }
}

function post(message: WorkerMessage): void {
  endpoint.post(message);
}

function flush(): void {
  flushQueued = false;
  // Results are recorded in the same turn as their flush (a microtask later at most).
  lastFlush = outbox.length > 0 ? lastSettled : performance.now();
  if (calls.length > 0) sendCalls();
  if (outbox.length === 0) return;
  const results = outbox;
  const values = outboxValues;
  const chunks = outboxChunks;
  const type = outboxStamped ? "stamped" : "results";
  outbox = [];
  outboxValues = undefined;
  outboxChunks = undefined;
  try {
    // Stamped results start with their mark (see settle()); a message with values has its type.
    if (values) post({ type, results: outboxStamped ? results.slice(1) : results, values });
    else post(results);
  } catch {
    // One of the values cannot be cloned: send them one by one and fail only that one.
    const stride = outboxStamped ? 4 : 3;
    // Past the STAMPED mark, if it was put first (no seq is 0).
    for (let i = results[0] === STAMPED ? 1 : 0; i < results.length; i += stride) {
      const signed = results[i] as number;
      const one = results.slice(i, i + stride);
      const chunkValues = signed < 0 ? values?.find(([seq]) => seq === -signed) : undefined;
      try {
        post(
          chunkValues ? { type, results: one, values: [chunkValues] } : { type, results: one },
        );
      } catch (error) {
        const seq = signed < 0 ? -signed : signed;
        one[0] = -seq;
        if (signed > 0 && chunks?.has(seq)) {
          // A chunk's items before the first value that cannot be sent keep their values, as
          // they would have one item a task.
          const items = one[stride - 1] as unknown[];
          const { sendable, error: itemError } = sendablePrefix(items);
          one[stride - 1] = encodeError(itemError ?? error);
          post({ type, results: one, values: [[seq, sendable]] });
          continue;
        }
        one[stride - 1] = encodeError(error);
        post({ type, results: one });
      }
    }
  }
}

/** The values before the first one that cannot be cloned, and that one's error. */
function sendablePrefix(values: unknown[]): { sendable: unknown[]; error?: unknown } {
  for (let i = 0; i < values.length; i++) {
    try {
      structuredClone(values[i]);
    } catch (error) {
      return { sendable: values.slice(0, i), error };
    }
  }
  return { sendable: values };
}

function sendCalls(): void {
  const batch = calls;
  calls = [];
  try {
    post({ type: "calls", calls: batch });
  } catch {
    // An argument cannot be cloned: send them one by one and reject only that call.
    for (const call of batch) {
      try {
        post({ type: "calls", calls: [call] });
      } catch (error) {
        answer({ call: call.call, ok: false, error: encodeError(error) });
      }
    }
  }
}

function answer(reply: WireReply): void {
  const pending = awaiting.get(reply.call);
  if (!pending) return;
  awaiting.delete(reply.call);
  if (reply.ok) pending.resolve(reply.value);
  else pending.reject(decodeError(reply.error));
}

/** The stand-in for proxied callback `id` of task `seq`. */
function remote(seq: number, id: number): Fn {
  return (...args: unknown[]): Promise<unknown> => {
    const pending = Promise.withResolvers<unknown>();
    // Fire-and-forget: a call nobody awaits must not become an unhandled rejection.
    pending.promise.catch(() => {});
    if (!calling.has(seq)) {
      pending.reject(
        new InvalidStateError(
          "the task that received this callback has settled: it was not called",
        ),
      );
      return pending.promise;
    }
    lastCall = lastCall >= Number.MAX_SAFE_INTEGER ? 1 : lastCall + 1;
    awaiting.set(lastCall, pending);
    calls.push({ seq, proxy: id, call: lastCall, args });
    // A task that never yields still reports: calls leave in batches at most FLUSH_MS apart.
    if (performance.now() - lastFlush > FLUSH_MS) flush();
    else if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
    return pending.promise;
  };
}

function settle(seq: number, start: number, ok: boolean, outcome: unknown, values?: unknown[]) {
  calling.delete(seq);
  if (seq === actorCall) {
    actorCall = undefined;
    // After an async call, the next one starts from here (a sync one continues the loop).
    if (!actorLoop && actorInbox.length > 0) queueMicrotask(nextActorCall);
  }
  settledCount++;
  const now = lastSettled = performance.now();
  const ms = now - start;
  if (stamping !== outboxStamped) {
    // The host asked for end times, or no longer: results already waiting go in their layout.
    if (outbox.length > 0) flush();
    outboxStamped = stamping;
  }
  const signed = ok ? seq : -seq;
  const value = ok ? outcome : encodeError(outcome);
  // The end time, read anyway for the run time, spares the host a clock read of its own. The
  // mark that says so goes first as the outbox fills: put in front when it is sent (unshift),
  // it made the message dearer to clone, 0.3–0.6 µs of a round trip.
  if (outboxStamped) {
    if (outbox.length === 0) outbox.push(STAMPED);
    outbox.push(signed, ms, now, value);
  } else outbox.push(signed, ms, value);
  if (!ok && values) (outboxValues ??= []).push([seq, values]);
  if (!flushQueued && !inBatch) {
    flushQueued = true;
    queueMicrotask(flush);
  }
}

function compile(source: string, name?: string, site?: string): Fn {
  // The sourceURL names the function and where it was submitted from, for its stack frames.
  const url = `\n//# sourceURL=by-source:${name ?? "anonymous"}${site ? `@${site}` : ""}`;
  if (name) {
    // Binding its own name keeps `fn.name` and lets a named arrow call itself.
    try {
      return new Function(`const ${name} = (${source});\nreturn ${name};${url}`)() as Fn;
    } catch {
      // A reserved word as name, or not an expression: try the plain forms.
    }
  }
  try {
    return new Function(`return (${source});${url}`)() as Fn;
  } catch (error) {
    // Method shorthand (`name(a) { … }`) is not an expression on its own.
    try {
      const holder = new Function(`return ({ ${source} });`)() as Record<string, Fn>;
      const fn = Object.values(holder)[0];
      if (typeof fn === "function") return fn;
    } catch {
      // Fall through to the first error, which describes the source as given.
    }
    throw error;
  }
}

/** A user actor's state: its module's default export, constructed when it is a class. */
function construct(exported: unknown, args: unknown[]): Record<string, unknown> {
  if (typeof exported === "function") {
    return new (exported as new (...args: unknown[]) => Record<string, unknown>)(...args);
  }
  if (exported !== null && typeof exported === "object") {
    // Not ignored: the caller meant them for a constructor.
    if (args.length > 0) {
      throw new TypeError(
        `an actor module whose default export is an object (not a class) takes no 'args': received ${args.length}`,
      );
    }
    return exported as Record<string, unknown>;
  }
  throw new TypeError(
    `an actor module's default export must be a class or an object: received ${typeof exported}`,
  );
}

/**
 * The function at `index` of the table. Looked up each time: an export read through its module's
 * namespace follows the module if it rebinds it, as an actor's method follows its instance.
 */
function resolveIndex(index: number): Fn {
  const ref = table[index];
  if (ref === undefined) throw new Error(`no function was sent for index ${index}`);
  return resolve(ref);
}

function resolve(ref: FnRef): Fn {
  if ("method" in ref) {
    const method = instance?.[ref.method];
    if (typeof method !== "function") {
      throw new TypeError(`the actor has no method '${ref.method}'`);
    }
    return (method as Fn).bind(instance);
  }
  if ("module" in ref) {
    const fn = modules[ref.module]?.[ref.name];
    if (typeof fn !== "function") {
      throw new TypeError(`'${ref.name}' is not a function exported by task module ${ref.module}`);
    }
    return fn as Fn;
  }
  let fn = compiled.get(ref.id);
  if (!fn) {
    fn = mainExport(ref) ?? compile(ref.source, ref.name, ref.site);
    compiled.set(ref.id, fn);
  }
  return fn;
}

/**
 * A function sent by source that the host could not tell from an export of the main module:
 * the export of that name (or the default one) when its text is the same; else the host's
 * refusal, if it had one.
 */
function mainExport(ref: Extract<FnRef, { id: number }>): Fn | undefined {
  if (ref.exportOf === undefined) return undefined;
  const namespace = modules[ref.exportOf];
  for (const candidate of [namespace?.[ref.name ?? ""], namespace?.default]) {
    if (
      typeof candidate === "function" && Function.prototype.toString.call(candidate) === ref.source
    ) {
      return candidate as Fn;
    }
  }
  if (ref.refused === undefined) return undefined;
  const message = ref.refused;
  return () => {
    throw new TypeError(message);
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  if (value === null || (typeof value !== "object" && typeof value !== "function")) return false;
  return typeof (value as PromiseLike<unknown>).then === "function";
}

function runCall(task: WireTask, fn: Fn, signal: TaskSignal, start: number): void {
  let result: unknown;
  try {
    result = callWithSignal(signal, fn, task.args);
  } catch (error) {
    return settle(task.seq, start, false, error);
  }
  if (!isThenable(result)) return settle(task.seq, start, true, result);
  asyncTasks.set(task.seq, signal);
  result.then(
    (value) => {
      asyncTasks.delete(task.seq);
      settle(task.seq, start, true, value);
    },
    (error) => {
      asyncTasks.delete(task.seq);
      settle(task.seq, start, false, error);
    },
  );
}

function runChunk(task: WireTask, fn: Fn, signal: TaskSignal, start: number): void {
  const items = task.args[0] as unknown[];
  const values: unknown[] = [];
  const fail = (error: unknown) => {
    asyncTasks.delete(task.seq);
    settle(task.seq, start, false, error, values);
  };
  let i = 0;
  // Synchronous items run in one loop; the first promise switches the rest to a promise chain.
  const step = (): void => {
    for (; i < items.length; i++) {
      let result: unknown;
      try {
        result = callWithSignal(signal, fn, [items[i]]);
      } catch (error) {
        return fail(error);
      }
      if (isThenable(result)) {
        i++;
        asyncTasks.set(task.seq, signal);
        result.then((value) => {
          values.push(value);
          step();
        }, fail);
        return;
      }
      values.push(result);
    }
    asyncTasks.delete(task.seq);
    settle(task.seq, start, true, values);
    // Noted once its result is in the outbox (settle() may send what was there before it).
    (outboxChunks ??= new Set()).add(task.seq);
  };
  step();
}

function run(flat: RunBatch, extras: RunMessage["extras"]): void {
  inBatch = true;
  try {
    runBatch(flat, extras);
  } finally {
    inBatch = false;
    // What the batch's synchronous tasks returned goes now, without waiting for a microtask.
    if (outbox.length > 0) flush();
  }
}

function runBatch(flat: RunBatch, extras: RunMessage["extras"]): void {
  let next = 0;
  for (let i = 0, t = 0; i < flat.length; t++) {
    const nargs = flat[i + 3] as number;
    const start = i + TASK_HEADER;
    let taskExtras: TaskExtras | undefined;
    if (extras !== undefined && next < extras.length && extras[next]![0] === t) {
      taskExtras = extras[next++]![1];
    }
    const task: WireTask = {
      seq: flat[i + 1] as number,
      slot: flat[i + 2] as number,
      fn: flat[i] as number,
      args: flat.slice(start, start + nargs),
      extras: taskExtras,
    };
    i = start + nargs;
    // An actor handles one message at a time: its calls wait here, unclaimed (so a restart can
    // deliver them again), until the one before has settled.
    if (instance !== undefined) actorInbox.push(task);
    else runTask(task);
  }
  if (instance !== undefined) nextActorCall();
}

/** Calls queued on the actor, in order; `actorCall` is the one being handled. */
const actorInbox = new Queue<WireTask>();
let actorCall: number | undefined;
let actorLoop = false;

function nextActorCall(): void {
  if (actorLoop) return;
  actorLoop = true;
  try {
    while (actorCall === undefined && actorInbox.length > 0) {
      const task = actorInbox.shift()!;
      actorCall = task.seq;
      // A call that settles at once clears `actorCall` in `settle()`, and the loop goes on.
      if (!runTask(task)) actorCall = undefined;
    }
  } finally {
    actorLoop = false;
  }
}

/** Runs one task; false if the host took it back before it started. */
function runTask(task: WireTask): boolean {
  // Claim the task, unless the host took it back (see _claims.ts).
  if (!claim(ctl, task.seq, task.slot)) return false;
  if (task.slot < 0) endpoint.started?.(task.seq);
  const settledBefore = settledCount;
  const start = performance.now();
  const signal = new TaskSignal(task.seq);
  syncSeq = task.seq;
  try {
    const proxies = task.extras?.proxies;
    if (proxies) {
      const seq = task.seq;
      reviveProxies(task.args, proxies, (id) => remote(seq, id));
      calling.add(seq);
    }
    const fn = resolveIndex(task.fn);
    const run = task.extras?.kind === "chunk" ? runChunk : runCall;
    const traceparent = task.extras?.traceparent;
    if (traceparent === undefined) run(task, fn, signal, start);
    else inTraceContext(traceparent, () => run(task, fn, signal, start));
  } catch (error) {
    settle(task.seq, start, false, error);
  }
  syncSeq = 0;
  Atomics.store(ctl, Ctl.Returned, task.seq);
  if (outbox.length > 0) {
    // A task that settled as it ran has just read the clock.
    const now = settledCount !== settledBefore ? lastSettled : performance.now();
    if (now - lastFlush > FLUSH_MS) flush();
  }
  return true;
}

async function init(message: InitMessage): Promise<void> {
  if (message.version !== PROTOCOL_VERSION) {
    const error = new Error(`protocol version ${message.version} is not ${PROTOCOL_VERSION}`);
    return post({ type: "initFailed", stage: "protocol", error: encodeError(error) });
  }
  if (message.aliveLock !== undefined) {
    // Granted at once and held until the thread ends, however it ends.
    const locks = (navigator as { locks?: WebLocks }).locks;
    locks?.request(message.aliveLock, () => new Promise<void>(() => {})).catch(() => {});
  }
  // Without shared memory (a process), claims always succeed and aborts come as messages.
  if (message.ctl) {
    const words = ctl = new Int32Array(message.ctl);
    // Read by the blocking waits of sync/ (whatever copy of the library the tasks import).
    Object.defineProperty(globalThis, THREAD_ENDED, {
      // Ended, or the task whose synchronous part is running was stopped (a blocking wait there
      // wakes inside a task that its pool has given up on).
      value: () =>
        Atomics.load(words, Ctl.Ended) === 1 ||
        (syncSeq !== 0 && Atomics.load(words, Ctl.Abort) === syncSeq),
      configurable: true,
    });
  }
  for (const url of message.modules) {
    try {
      const load = loaders[url];
      const namespace = load ? await load() : await import(url);
      modules.push(namespace);
      indexModuleErrors(url, namespace);
    } catch (error) {
      return post({ type: "initFailed", stage: "module", error: encodeError(error) });
    }
  }
  if (message.actor) {
    try {
      instance = construct(modules[message.actor.module]?.default, message.actor.args);
    } catch (error) {
      return post({ type: "initFailed", stage: "actor", error: encodeError(error) });
    }
  }
  if (message.initializer) {
    try {
      await resolve(message.initializer)(...message.initargs);
    } catch (error) {
      return post({ type: "initFailed", stage: "initializer", error: encodeError(error) });
    }
  }
  post({ type: "ready", origin: performance.timeOrigin, now: performance.now() });
}

function announceExit(cause: "close" | "exit" | "uncaught", code: number, error?: unknown): void {
  if (exiting) return;
  exiting = true;
  flush();
  if (error === undefined) post({ type: "exit", cause, code });
  else post({ type: "exit", cause, code, error: encodeError(error) });
}

/**
 * Starts the actor on `channel`: wraps Deno.exit() and catches uncaught errors. `load` imports
 * task modules by URL where the entry point knows how (an import written in its own source needs
 * no read permission).
 */
export function startActor(
  channel: ActorEndpoint,
  load: Record<string, () => Promise<Record<string, unknown>>> = {},
): Actor {
  endpoint = channel;
  loaders = load;
  const realExit = Deno.exit;
  Deno.exit = (code?: number): never => {
    announceExit("exit", code ?? 0);
    return realExit(code);
  };
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    announceExit("uncaught", 1, event.error ?? new Error(event.message));
    channel.end(1);
  });
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    announceExit("uncaught", 1, event.reason);
    channel.end(1);
  });
  return {
    receive(message) {
      if (Array.isArray(message)) run(message, undefined);
      else if (message.type === "run") {
        for (const ref of message.fns) table.push(ref);
        run(message.tasks, message.extras);
      } else if (message.type === "replies") message.replies.forEach(answer);
      else if (message.type === "stamp") stamping = message.on;
      else if (message.type === "ping") post({ type: "pong", id: message.id });
      else if (message.type === "abort") {
        asyncTasks.get(message.seq)?.abort(decodeError(message.reason));
      } else if (message.type === "init") void init(message);
    },
    announceExit,
  };
}

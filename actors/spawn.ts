/**
 * {@linkcode spawn}: user actors. An actor is a Web Worker that owns its state and handles one
 * message at a time; its methods are its messages, called with full types.
 *
 * @module
 */

import { InvalidStateError, WorkerCrashedError } from "../future/errors.ts";
import { startTimer } from "../future/_timer.ts";
import { messageOf } from "../future/_text.ts";
import { isCloneError, type WorkerPermissions } from "./_transport.ts";
import { checkWorkerOptionsFlag } from "./_worker_options_flag.ts";
import type { Dispatch, PoolWorker, WorkerEvents, WorkerExit } from "./_pool_worker.ts";
import { WORKER_READS, WorkerHandle } from "./_worker_handle.ts";
import { checkPermissions, checkWorkerPermissions } from "./_permissions.ts";
import { RestartSupervisor } from "./_restart_supervisor.ts";
import { type Backoff, checkBackoff, resolveBackoff } from "./_backoff.ts";
import { checkAliases, checkKnownKeys, OPTION_ALIASES, refuse } from "../future/_options.ts";

export type { Backoff };
import { moduleUrl } from "./_module_url.ts";
import { Queue } from "../future/_queue.ts";
import { rejectSoon } from "../future/_reject_soon.ts";
import { indexModuleErrors } from "./error_codec.ts";

// Calls sent ahead to an actor's worker at most: each keeps a claim slot there, so that a restart
// can tell the call being handled from the ones still waiting, which are delivered again.
const MAX_SENT = 128;
// More calls are sent once the worker has this many or fewer left: it still has work meanwhile,
// and the next message carries many calls instead of one call for each answer.
const REFILL_AT = MAX_SENT / 2;

/**
 * Options for {@linkcode spawn}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spawn } from "@concurrent/futures";
 * // The actor's module (here, the repository's tests/fixtures/actors/counter.ts):
 * //   export default class Counter {
 * //     #count: number;
 * //     constructor(start = 0) { this.#count = start; }
 * //     increment(by = 1): number { return this.#count += by; }
 * //   }
 * const url = new URL("./tests/fixtures/actors/counter.ts", new URL("../", import.meta.url));
 * type Counter = { increment(by?: number): number };
 * await using counter = await spawn<Counter>(url, {
 *   args: [10],
 *   onCrash: "restart",
 *   name: "counter",
 * });
 * assert.equal(await counter.increment(5), 15);
 * ```
 */
export interface ActorOptions<A extends unknown[] = unknown[]> {
  /**
   * Arguments for the constructor, when the module's default export is a class. Typed against
   * the constructor's parameters when spawned as `spawn<typeof Class>(…)`.
   */
  args?: A;
  /**
   * What a crash does. `"stop"`: the message being handled and those queued reject with
   * `WorkerCrashedError`, and the actor is stopped. `"restart"`: the message being handled rejects
   * with `WorkerCrashedError`, the state is rebuilt (the module's default export is constructed
   * again), and the queued messages are delivered after the restart. The pools' option of the
   * same name chooses between `"restart"` and `"break"`.
   * @default {"stop"}
   */
  onCrash?: "stop" | "restart";
  /**
   * What a crash does.
   * @deprecated Use `onCrash` (same values); removed in 0.3.0.
   */
  supervision?: "stop" | "restart";
  /**
   * With `"restart"`: more crashes than `max` within `within` ms stop the actor.
   * @default {{ max: 3, within: 60_000 }}: it counts the crashes of this one actor's worker, so
   * it is lower than a pool's (which counts all its workers')
   */
  restartLimit?: { max: number; within: number };
  /**
   * With `"restart"`: how restarts back off (see {@linkcode Backoff}). The first restart is
   * immediate, then each crash in a row waits `initial`, `initial·multiplier` … up to `max` ms,
   * stretched by up to `jitter` of itself at random; `resetAfter` ms without a crash start over.
   * @default {{ initial: 100, max: 5_000, multiplier: 2, jitter: 0.2, resetAfter: restartLimit.within }}:
   * slower than a pool's (an actor restarted rebuilds its state; a pool has other workers meanwhile)
   */
  restartBackoff?: Backoff;
  /**
   * How restarts back off.
   * @deprecated Use `restartBackoff` (same fields); removed in 0.3.0.
   */
  backoff?: Backoff;
  /** The worker's permissions (needs Deno's `--unstable-worker-options` unless `"inherit"`). */
  permissions?: WorkerPermissions;
  /** A name, for messages and the worker's name. */
  name?: string;
  /**
   * Ends the actor's worker after this many ms with no message pending or being handled, so that
   * an actor nobody stops does not keep the process alive (a Web Worker cannot be unref'd). The
   * next call starts a new worker and constructs the default export again with `args`: the
   * state is rebuilt from scratch, so set it only for actors whose state can be (a cache, a
   * connection, a loaded model) or lives elsewhere. `0` ends the worker as soon as it is idle.
   * @default {Infinity}: ending an actor's worker loses its state, so it is never done unasked
   * (pools default to 1000 ms, `toThread()`'s default executor to 250 ms: their workers hold none)
   */
  idleTimeout?: number;
}

/**
 * The methods of `T`, each returning a promise; not those that a reference never sends (see
 * {@linkcode ActorRef}: `then`, `toJSON`, `constructor`, `valueOf`, `toString`, `toLocaleString`).
 *
 * @example A stand-in for an actor, in a test
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ActorMethods } from "@concurrent/futures";
 *
 * type Greeter = { prefix: string; greet(name: string): string };
 * // `prefix` is not a method, so it is not there; `greet` returns a promise.
 * const fake: ActorMethods<Greeter> = { greet: async (name) => `hi, ${name}` };
 * assert.equal(await fake.greet("Ada"), "hi, Ada");
 * ```
 */
export type ActorMethods<T> = {
  [
    K in keyof T as K extends
      "then" | "toJSON" | "constructor" | "valueOf" | "toString" | "toLocaleString" ? never
      : T[K] extends (...args: never[]) => unknown ? K
      : never
  ]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
};

/**
 * A reference to a running actor: its methods (each call is a message, handled one at a time,
 * and returns a promise of the result), and `stop()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ActorRef, InvalidStateError, spawn } from "@concurrent/futures";
 * // The actor's module (here, the repository's tests/fixtures/actors/greeter.ts):
 * //   export default { greet(name: string): string { return `hello, ${name}`; } };
 * const url = new URL("./tests/fixtures/actors/greeter.ts", new URL("../", import.meta.url));
 * type Greeter = { greet(name: string): string };
 * const greeter: ActorRef<Greeter> = await spawn<Greeter>(url);
 * assert.equal(await greeter.greet("Ada"), "hello, Ada");
 * await greeter.stop();
 * await assert.rejects(greeter.greet("Bob"), InvalidStateError);
 * ```
 */
export type ActorRef<T> = ActorMethods<T> & {
  /**
   * Stops the actor once the messages already sent are handled; further calls reject with
   * `InvalidStateError`. Calling it twice is fine. (Executors call this `shutdown()`; an actor's
   * method names are its own, so the reference reserves one short name, Akka's `stop`.)
   */
  stop(): Promise<void>;
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
};

interface Call {
  method: string;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

let nextId = 1;

/** The supervisor of one actor: its mailbox, its worker, and its restarts. */
class ActorCell implements WorkerEvents<Call> {
  readonly label: string;
  readonly #url: string;
  readonly #args: unknown[];
  readonly #options: ActorOptions;
  #worker: WorkerHandle<Call> | undefined;
  #mailbox = new Queue<Call>();
  /**
   * One reference per method name: the worker's function table keys references by identity, so a
   * new one per call grew it (on both sides) by one entry a call.
   */
  readonly #methods = new Map<string, { method: string }>();
  /** Calls sent to the worker and not answered: it handles them one at a time, in order. */
  #inflight = 0;
  #started = Promise.withResolvers<void>();
  #stopping: PromiseWithResolvers<void> | undefined;
  #stopped = false;
  /** What stopped it, when it did not stop on request. */
  #endedBy: unknown;
  /** The restart limit and backoff, as a pool's workers have them. */
  readonly #restarts: RestartSupervisor;
  #stopRestartTimer: (() => void) | undefined;
  #stopIdleTimer: (() => void) | undefined;
  /** The worker was ended while idle (`idleTimeout`); the next call starts another. */
  #passive = false;
  /** A worker of this actor got ready once: a failed start after it is a failed restart. */
  #wasReady = false;

  constructor(url: string, options: ActorOptions) {
    this.#url = url;
    this.#args = options.args ?? [];
    this.#options = options;
    this.label = options.name ? `actor '${options.name}'` : `actor ${url}`;
    const limit = options.restartLimit ?? { max: 3, within: 60_000 };
    const at = { action: "spawn an actor", path: "restartBackoff" };
    this.#restarts = new RestartSupervisor(
      limit,
      // Crashes further apart than the restart limit's window are not in a row.
      resolveBackoff(at, checkBackoff(at, options.restartBackoff), {
        ...ACTOR_BACKOFF,
        resetAfter: limit.within,
      }),
    );
    this.#started.promise.catch(() => {});
    this.#start();
  }

  get started(): Promise<void> {
    return this.#started.promise;
  }

  call(method: string, args: unknown[]): Promise<unknown> {
    if (this.#stopping || this.#stopped) {
      // Stopped by a crash (or a failed start): the call says which.
      const why = this.#endedBy;
      return rejectSoon(
        new InvalidStateError(
          `Cannot call '${method}' on ${this.label}: it is stopped${
            why === undefined ? "" : ` (${messageOf(why)})`
          }`,
          why === undefined ? undefined : { cause: why },
        ),
      );
    }
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.#mailbox.push({ method, args, resolve, reject });
    this.#stopIdleTimer?.();
    this.#stopIdleTimer = undefined;
    if (this.#passive) {
      this.#passive = false;
      this.#start();
    }
    this.#deliver();
    return promise;
  }

  stop(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#stopping ??= Promise.withResolvers();
    // Waiting out a restart's backoff with nothing to deliver: there is nothing to restart for.
    if (this.#stopRestartTimer && this.#mailbox.length === 0) this.#end();
    else this.#deliver();
    return this.#stopping.promise;
  }

  // --- worker events ---

  ready(): void {
    this.#wasReady = true;
    this.#started.resolve();
    this.#deliver();
  }

  initFailed(worker: PoolWorker<Call>, stage: string, error: unknown): void {
    worker.terminate();
    if (this.#wasReady) {
      // A rebuild after a crash (or after idleTimeout) that failed is a crash too: it counts
      // toward the restart limit, and the calls waiting for it get a WorkerCrashedError.
      const how = `could not restart (${stage}): ${messageOf(error)}`;
      return this.#crashed((what) =>
        new WorkerCrashedError(`${this.label} ${how} ${what}`, { cause: error })
      );
    }
    const reason = new Error(`${this.label} could not start (${stage}): ${messageOf(error)}`, {
      cause: error,
    });
    this.#started.reject(reason);
    this.#end(reason);
  }

  result(_worker: PoolWorker<Call>, call: Call, ok: boolean, outcome: unknown): void {
    this.#inflight--;
    if (ok) call.resolve(outcome);
    else call.reject(outcome);
    this.#deliver();
  }

  exited(_worker: PoolWorker<Call>, exit: WorkerExit, started: Call[], unstarted: Call[]): void {
    this.#inflight = 0;
    for (let i = unstarted.length - 1; i >= 0; i--) this.#mailbox.unshift(unstarted[i]!);
    const how = exit.cause === "exit"
      ? `called Deno.exit(${exit.code})`
      : exit.cause === "close"
      ? "called self.close()"
      : `failed with an uncaught error: ${messageOf(exit.error)}`;
    const crash = (what: string) =>
      new WorkerCrashedError(`${this.label} ${how} ${what}`, {
        exitCode: exit.code,
        cause: exit.error,
      });
    for (const call of started) call.reject(crash(`while handling '${call.method}'`));
    this.#crashed(crash);
  }

  /** After a crash: restarts after the backoff, or stops for good (past the restart limit). */
  #crashed(crash: (what: string) => Error): void {
    // The idle time counted was the dead worker's: passivating during the backoff would let the
    // next call start a worker at once, beside the one the restart then starts.
    this.#stopIdleTimer?.();
    this.#stopIdleTimer = undefined;
    const now = performance.now();
    if (this.#options.onCrash === "restart" && !this.#stopping && this.#restarts.crashed(now)) {
      const delay = Math.max(0, this.#restarts.waitBeforeSpawn(now));
      this.#stopRestartTimer = startTimer(() => {
        this.#stopRestartTimer = undefined;
        this.#start();
      }, delay);
    } else {
      const error = crash("and is stopped");
      this.#started.reject(error);
      this.#end(error);
    }
  }

  // --- internals ---

  #start(): void {
    // One worker per actor: a second would hold state of its own and outlive stop().
    if (this.#worker && this.#worker.state !== "dead") return;
    try {
      this.#spawnWorker();
    } catch (error) {
      // Only its `args` in the start message can fail to clone.
      const reason = isCloneError(error)
        ? new TypeError(
          `Cannot spawn ${this.label} as 'args' must be values a worker can receive: ${
            messageOf(error)
          }`,
          { cause: error },
        )
        : new Error(`${this.label} could not start: ${messageOf(error)}`, { cause: error });
      this.#started.reject(reason);
      this.#end(reason);
    }
  }

  #spawnWorker(): void {
    this.#worker = new WorkerHandle<Call>(nextId++, {
      name: this.label,
      permissions: this.#options.permissions,
      modules: [this.#url],
      initializer: undefined,
      initargs: [],
      actor: { module: 0, args: this.#args },
    }, this);
  }

  /**
   * Sends the queued calls once the worker is ready, several per message: the worker handles them
   * one at a time, in order, so a call costs no round trip of its own. Ends a requested stop.
   */
  #deliver(): void {
    const worker = this.#worker;
    if (!worker || worker.state !== "ready" || this.#mailbox.length === 0) {
      if (this.#inflight > 0 || (worker && worker.state !== "ready")) return;
      if (this.#stopping && this.#mailbox.length === 0) this.#end();
      else if (worker && this.#mailbox.length === 0) this.#whenIdle();
      return;
    }
    if (this.#inflight > REFILL_AT) return;
    const batch: Dispatch<Call>[] = [];
    while (this.#inflight + batch.length < MAX_SENT && this.#mailbox.length > 0) {
      const call = this.#mailbox.shift()!;
      batch.push({
        item: call,
        kind: "call",
        fn: this.#methodRef(call.method),
        args: call.args,
        transfer: undefined,
      });
    }
    this.#inflight += batch.length;
    for (const { item, error } of worker.send(batch)) {
      this.#inflight--;
      // A microtask later (see rejectSoon): it is the call's own promise, still in its call.
      queueMicrotask(() => item.reject(error));
    }
    if (this.#inflight === 0) this.#deliver();
  }

  #methodRef(method: string): { method: string } {
    let ref = this.#methods.get(method);
    if (!ref) this.#methods.set(method, ref = { method });
    return ref;
  }

  /** With `idleTimeout`, ends the worker once it has been idle that long. */
  #whenIdle(): void {
    const idleTimeout = this.#options.idleTimeout ?? Infinity;
    if (idleTimeout === Infinity || this.#stopIdleTimer) return;
    const passivate = () => {
      this.#stopIdleTimer = undefined;
      if (this.#inflight > 0 || this.#mailbox.length > 0 || this.#stopped || !this.#worker) return;
      this.#worker.terminate();
      this.#worker = undefined;
      this.#passive = true;
    };
    if (idleTimeout === 0) passivate();
    else this.#stopIdleTimer = startTimer(passivate, idleTimeout);
  }

  /** Stops for good: ends the worker; what is left in the mailbox rejects with `error`. */
  #end(error?: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#endedBy = error;
    this.#stopRestartTimer?.();
    this.#stopIdleTimer?.();
    this.#worker?.terminate();
    const reason = error ?? new InvalidStateError(`${this.label} was stopped`);
    for (const call of this.#mailbox.drain()) call.reject(reason);
    this.#stopping?.resolve();
  }
}

/**
 * Starts an actor: a Web Worker that owns its state and handles one message at a time. The
 * module's default export is a class (constructed in the worker with `options.args`) or an object;
 * its methods are the actor's messages. The returned reference calls them with full types: each
 * call returns a promise of the method's result (or rejects with its error, which keeps its class).
 *
 * @typeParam C the actor's class, as `typeof Class`: `args` are checked against its constructor,
 * and the reference has its instance's methods
 * @param module the actor module: a URL, or a path relative to the working directory
 * @param options constructor `args`, `onCrash`, `restartLimit`, `restartBackoff`, `permissions`,
 * `name`, `idleTimeout`
 * @returns a reference, once the actor has started
 * @throws {Error} when the module cannot be loaded or its default export cannot be constructed
 * @throws {RangeError} or {TypeError} for an option out of range, naming it and the value
 *
 * @example
 * ```ts ignore
 * // counter.ts
 * export default class Counter {
 *   #count: number;
 *   constructor(start: number) {
 *     this.#count = start;
 *   }
 *   increment(by = 1): number {
 *     return (this.#count += by);
 *   }
 * }
 *
 * // main.ts
 * import { spawn } from "@concurrent/futures";
 * import type Counter from "./counter.ts";
 *
 * await using counter = await spawn<typeof Counter>(new URL("./counter.ts", import.meta.url), {
 *   args: [10], // checked: `args: ["ten"]` does not compile
 *   onCrash: "restart",
 * });
 * console.log(await counter.increment(5)); // 15
 * ```
 */
export function spawn<C extends abstract new (...args: never[]) => object>(
  module: string | URL,
  options?: ActorOptions<ConstructorParameters<C>>,
): Promise<ActorRef<InstanceType<C>>>;
/**
 * Starts an actor typed by its instance or object type `T` (`args` are not checked then; write
 * `spawn<typeof Class>(…)` to check them).
 *
 * @typeParam T the actor's instance type, or the type of the object the module exports
 * @param module the actor module: a URL, or a path relative to the working directory
 * @param options constructor `args`, `onCrash`, `restartLimit`, `restartBackoff`, `permissions`,
 * `name`, `idleTimeout`
 * @returns a reference, once the actor has started
 * @throws {Error} when the module cannot be loaded or its default export cannot be constructed
 * @throws {RangeError} or {TypeError} for an option out of range or an unknown option key
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spawn } from "@concurrent/futures";
 * // The actor's module (here, the repository's tests/fixtures/actors/greeter.ts):
 * //   export default { greet(name: string): string { return `hello, ${name}`; } };
 * const url = new URL("./tests/fixtures/actors/greeter.ts", new URL("../", import.meta.url));
 * await using greeter = await spawn<{ greet(name: string): string }>(url);
 * assert.equal(await greeter.greet("Ada"), "hello, Ada");
 * ```
 */
export function spawn<T extends object>(
  module: string | URL,
  options?: T extends abstract new (...args: never[]) => unknown ? never : ActorOptions,
): Promise<ActorRef<T>>;
export async function spawn(
  module: string | URL,
  options?: ActorOptions,
): Promise<ActorRef<object>> {
  const url = moduleUrl(module, "spawn an actor", "module");
  const checked = checkOptions(options);
  checkPermissions("spawn an actor", { read: [...WORKER_READS, url], run: false });
  const cell = new ActorCell(url, checked);
  // The module is imported here too, so that the error classes it exports keep their class.
  // A module that cannot load on this thread only loses that.
  const local = import(url).then(
    (namespace) => indexModuleErrors(url, namespace),
    () => {},
  );
  await cell.started;
  await local;
  const stop = () => cell.stop();
  return new Proxy({} as ActorRef<object>, {
    get(_, key) {
      if (key === "stop") return stop;
      if (key === Symbol.asyncDispose) return stop;
      // Keys that runtimes, serializers and inspectors probe are never remote calls: not a
      // thenable (`await spawn(…)` must give the reference itself), no `toJSON` (JSON.stringify
      // would start a call whose rejection nobody handles), no `constructor`.
      if (typeof key === "symbol" || NOT_MESSAGES.has(key)) return undefined;
      return (...args: unknown[]) => cell.call(key, args);
    },
  });
}

// The names ActorMethods leaves out.
const NOT_MESSAGES = new Set<string>([
  "then",
  "toJSON",
  "constructor",
  "valueOf",
  "toString",
  "toLocaleString",
]);

/** An actor's restart backoff when none is given (`resetAfter`: the restart limit's window). */
const ACTOR_BACKOFF = { initial: 100, max: 5_000, multiplier: 2, jitter: 0.2, resetAfter: 60_000 };

const ACTOR_OPTION_KEYS = [
  "args",
  "onCrash",
  "restartLimit",
  "restartBackoff",
  "permissions",
  "name",
  "idleTimeout",
  ...Object.keys(OPTION_ALIASES.actor),
];

/** Checks spawn()'s options, the deprecated names read as the new ones. */
function checkOptions(given: ActorOptions | undefined): ActorOptions {
  const what = "spawn an actor";
  const at = (path: string) => ({ action: what, path });
  if (given === undefined) return {};
  if (given === null || typeof given !== "object" || Array.isArray(given)) {
    refuse(at("options"), "an object", given, false);
  }
  checkKnownKeys(what, given, ACTOR_OPTION_KEYS);
  const options = checkAliases(
    at(""),
    given as Record<string, unknown>,
    OPTION_ALIASES.actor,
  ) as ActorOptions;
  const permissions = options.permissions;
  checkWorkerPermissions(what, permissions);
  if (permissions !== undefined && permissions !== "inherit") checkWorkerOptionsFlag(what);
  if (options.args !== undefined && !Array.isArray(options.args)) {
    refuse(at("args"), "an array", options.args, false);
  }
  if (options.name !== undefined && (typeof options.name !== "string" || options.name === "")) {
    refuse(at("name"), "a non-empty string", options.name, false);
  }
  const idleTimeout = options.idleTimeout;
  if (idleTimeout !== undefined && !(typeof idleTimeout === "number" && idleTimeout >= 0)) {
    refuse(at("idleTimeout"), "a number of ms >= 0", idleTimeout);
  }
  // Errors name the key the caller wrote, old or new.
  const onCrash = options.onCrash;
  if (onCrash !== undefined && onCrash !== "stop" && onCrash !== "restart") {
    const key = given.supervision !== undefined ? "supervision" : "onCrash";
    refuse(at(key), `"stop" or "restart"`, onCrash, false);
  }
  const limit = options.restartLimit;
  if (
    limit !== undefined &&
    (limit === null || typeof limit !== "object" || !Number.isInteger(limit.max) ||
      limit.max < 0 || !(limit.within >= 0))
  ) {
    refuse(at("restartLimit"), "{ max: integer >= 0, within: ms >= 0 }", limit, false);
  }
  const backoffAt = at(given.backoff !== undefined ? "backoff" : "restartBackoff");
  resolveBackoff(backoffAt, checkBackoff(backoffAt, options.restartBackoff), ACTOR_BACKOFF);
  // Restarts are tuned only where there are restarts: a setting is never ignored.
  if (onCrash !== "restart") {
    const key = limit !== undefined
      ? "restartLimit"
      : options.restartBackoff !== undefined
      ? (given.backoff !== undefined ? "backoff" : "restartBackoff")
      : undefined;
    if (key !== undefined) {
      throw new TypeError(
        `Cannot ${what} as '${key}' applies only with onCrash: "restart" (the actor stops at its first crash): received onCrash ${
          onCrash === undefined ? 'unset ("stop")' : JSON.stringify(onCrash)
        }`,
      );
    }
  }
  return options;
}

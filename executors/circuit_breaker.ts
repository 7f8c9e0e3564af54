/**
 * Circuit breakers keyed by domain: each domain opens after failures in a row (or too high a
 * failure ratio), rejects calls while open, and lets probes through once it has waited.
 *
 * @module
 */

import { CircuitOpenError } from "../future/errors.ts";
import { check as checkOption } from "./_check.ts";
import { checkKnownKeys } from "../future/_options.ts";

const WHAT = "create circuit breakers";
const BREAKER_KEYS = [
  "threshold",
  "halfOpenAfter",
  "halfOpenProbes",
  "maxDomains",
  "failureRatio",
  "isFailure",
  "now",
  "onStateChange",
] as const;

/**
 * The state of one domain's circuit: `"closed"` lets calls through, `"open"` rejects them,
 * `"halfOpen"` lets a limited number of probes through to decide which of the two comes next.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreakers, type CircuitState } from "@concurrent/futures";
 *
 * const breakers = new CircuitBreakers({ threshold: 3, halfOpenAfter: 1_000 });
 * const state: CircuitState = breakers.state("api.example");
 * assert(state === "closed");
 * ```
 */
export type CircuitState = "closed" | "open" | "halfOpen";

/**
 * Options of {@linkcode CircuitBreakers} (the executor option `circuitBreaker`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CircuitBreakerOptions } from "@concurrent/futures";
 *
 * const options: CircuitBreakerOptions = {
 *   threshold: 5,
 *   halfOpenAfter: 10_000,
 *   failureRatio: { ratio: 0.5, window: 60_000, minimumCalls: 20 },
 * };
 * assert(options.threshold === 5);
 * ```
 */
export interface CircuitBreakerOptions {
  /** Failures in a row that open a domain's circuit. */
  threshold: number;
  /** Milliseconds an open circuit waits before it lets a probe through. */
  halfOpenAfter: number;
  /**
   * Also open a circuit when, over the last `window` ms, at least `minimumCalls` calls ended and
   * `failures / calls >= ratio`. Calls are counted in ten time buckets, so a call leaves the
   * window between `0.9 * window` and `window` ms after it ended.
   */
  failureRatio?: { ratio: number; window: number; minimumCalls: number };
  /**
   * Probes let through at once while half-open; further calls are rejected at once.
   * @default {1}
   */
  halfOpenProbes?: number;
  /**
   * The most domains tracked. When a new domain comes and the registry is full, the least
   * recently entered closed breaker with no call in flight is forgotten; when every breaker is
   * open or half-open, the one opened first (the nearest to letting a probe through) with no call
   * in flight is. A forgotten open domain starts again closed: it may be called before its
   * `halfOpenAfter` is over, which is the price of a bounded registry (5000 failing domains keep
   * at most this many breakers). Only breakers with calls in flight can take the registry past
   * this bound, as many as there are such calls.
   * @default {1000}
   */
  maxDomains?: number;
  /**
   * Whether an error passed to {@linkcode CircuitPermit.failure} counts as a failure. An error it
   * does not count is ignored, as with {@linkcode CircuitPermit.release}. If it throws, the
   * error counts and what it threw is reported with `reportError()`.
   * By default every error except a `CircuitOpenError` counts.
   */
  isFailure?: (error: unknown) => boolean;
  /**
   * The clock, in milliseconds.
   * @default {Date.now}
   */
  now?: () => number;
  /**
   * Called after a domain's circuit changes state. What it throws is reported with
   * `reportError()` and does not affect the breakers.
   */
  onStateChange?: (
    event: { domain: string; from: CircuitState; to: CircuitState },
  ) => void;
}

/**
 * Permission for one call, given by {@linkcode CircuitBreakers.enter}. Settle it once with one of
 * its methods when the call ends; later calls to any of them are ignored. A permit that is never
 * settled keeps its half-open probe slot.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreakers } from "@concurrent/futures";
 *
 * const breakers = new CircuitBreakers({ threshold: 1, halfOpenAfter: 1_000 });
 * const permit = breakers.enter("api.example");
 * permit.failure(new Error("503"));
 * assert(breakers.state("api.example") === "open");
 * ```
 */
export interface CircuitPermit {
  /** The call succeeded: ends a run of failures, and closes a half-open circuit. */
  success(): void;
  /** The call failed with `error`: counts if `isFailure(error)`, and reopens a half-open circuit. */
  failure(error: unknown): void;
  /** The call ended without saying anything about the domain (the caller aborted it). */
  release(): void;
}

/**
 * A snapshot of one domain's circuit, from {@linkcode CircuitBreakers.stats}. The totals count
 * since the domain's breaker was created (it is created again after being forgotten).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreakers, type DomainCircuitStats } from "@concurrent/futures";
 *
 * const breakers = new CircuitBreakers({ threshold: 3, halfOpenAfter: 1_000 });
 * breakers.enter("api.example").success();
 * const stats: DomainCircuitStats | undefined = breakers.stats().get("api.example");
 * assert(stats?.successes === 1);
 * ```
 */
export interface DomainCircuitStats {
  /** The state now (an open circuit whose wait is over shows as `"halfOpen"`). */
  state: CircuitState;
  /** Failures in a row since the last success. */
  consecutiveFailures: number;
  /** Calls that succeeded. */
  successes: number;
  /** Calls whose failure counted. */
  failures: number;
  /** Calls released, or whose error `isFailure` did not count. */
  ignored: number;
  /** Calls refused with `CircuitOpenError`. */
  rejected: number;
  /** Permits given and not yet settled. */
  inFlight: number;
  /** When the circuit last opened (clock time), while open or half-open. */
  openedAt?: number;
  /** Milliseconds until a probe may go through, while open. */
  retryAfter?: number;
  /** Calls and failures in the current `failureRatio` window, when that option is set. */
  window?: { calls: number; failures: number };
}

const BUCKETS = 10;

/** Call and failure counts over a sliding time window, in fixed buckets. */
class FailureWindow {
  #size: number;
  #buckets = Array.from(
    { length: BUCKETS },
    () => ({ slot: -Infinity, calls: 0, failures: 0 }),
  );

  constructor(window: number) {
    this.#size = window / BUCKETS;
  }

  record(now: number, failed: boolean) {
    const slot = Math.floor(now / this.#size);
    const bucket = this.#buckets[((slot % BUCKETS) + BUCKETS) % BUCKETS]!;
    if (bucket.slot !== slot) {
      Object.assign(bucket, { slot, calls: 0, failures: 0 });
    }
    bucket.calls++;
    if (failed) bucket.failures++;
  }

  totals(now: number): { calls: number; failures: number } {
    const oldest = Math.floor(now / this.#size) - BUCKETS;
    let calls = 0, failures = 0;
    for (const bucket of this.#buckets) {
      if (bucket.slot <= oldest) continue;
      calls += bucket.calls;
      failures += bucket.failures;
    }
    return { calls, failures };
  }

  reset() {
    for (const bucket of this.#buckets) bucket.slot = -Infinity;
  }
}

/** One domain's circuit. */
class Circuit {
  state: CircuitState = "closed";
  /** Bumped on every state change, so a permit can tell whether it is still a live probe. */
  epoch = 0;
  openedAt = 0;
  probes = 0;
  inFlight = 0;
  successes = 0;
  failures = 0;
  ignored = 0;
  rejected = 0;
  /** The failure that last opened the circuit: the `cause` of its `CircuitOpenError`s. */
  openedBy: { error: unknown } | undefined;
  // Its place in the eviction order (see EvictionOrder).
  /** When it was last entered, on the registry's counter. */
  entered = 0;
  /** Its key in the eviction order of its state: `entered` while closed, else `openedAt`. */
  key = 0;
  /** When it last took its place, on the registry's counter: tells stale heap entries apart. */
  order = 0;
  /** The list it is in, if any. */
  list: Set<Circuit> | undefined;
  /** The `order` of its heap entry, if it has one. */
  heaped = -1;
  /** Forgotten by the registry. */
  gone = false;

  constructor(
    readonly domain: string,
    readonly run: FailureRun,
    readonly window: FailureWindow | undefined,
  ) {}
}

/** A heap entry: the circuit's key and order when it was pushed. */
interface Entry {
  circuit: Circuit;
  key: number;
  order: number;
}

const before = (a: Entry | Circuit, b: Entry | Circuit) =>
  a.key < b.key || (a.key === b.key && a.order < b.order);

/**
 * The circuits of one kind (closed, or open and half-open) in eviction order: by `key`, then
 * `order`. Most take their place with the largest key yet and go at the end of a list, which
 * keeps that order. The list may hold busy circuits, and closed ones entered again since (they
 * keep their old place, so that a call costs no move): eviction takes them out as it passes them,
 * once per place, so it never looks at them again. A circuit out of the list, or that took its
 * place with a smaller key (a circuit closed by a probe goes back to its last entry; a clock that
 * went back), goes into a heap once idle. The first idle circuit of the list and the top of the
 * heap are the two candidates, so choosing one costs O(1) amortized, plus O(log n) for a circuit
 * that went through the heap.
 */
class EvictionOrder {
  #list = new Set<Circuit>();
  #last = -Infinity;
  #heap: Entry[] = [];

  /** @param keyOf The circuit's key now, which may have grown since it took its place. */
  constructor(readonly keyOf: (circuit: Circuit) => number) {}

  /** Places `circuit` (its `order` is new); it must be out of every list. */
  add(circuit: Circuit) {
    const key = circuit.key = this.keyOf(circuit);
    if (key >= this.#last) {
      this.#last = key;
      this.#list.add(circuit);
      circuit.list = this.#list;
    } else this.idle(circuit);
  }

  /** Tells the order that `circuit` may have no call in flight any more. */
  idle(circuit: Circuit) {
    const { order } = circuit;
    if (circuit.gone || circuit.list || circuit.inFlight > 0 || circuit.heaped === order) return;
    circuit.heaped = order;
    const heap = this.#heap;
    let i = heap.push({ circuit, key: circuit.key, order }) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Takes out and returns the first idle circuit, if any. */
  take(): Circuit | undefined {
    let first: Circuit | undefined;
    for (const circuit of this.#list) {
      const key = this.keyOf(circuit);
      if (circuit.inFlight === 0 && key === circuit.key) {
        first = circuit;
        break;
      }
      // Busy, or entered again since it took its place (so later than its place says): out of
      // the list for good, into the heap with its key now once idle.
      this.#list.delete(circuit);
      circuit.list = undefined;
      circuit.key = key;
      this.idle(circuit);
    }
    let top = this.#heap[0];
    while (top && (top.order !== top.circuit.order || top.circuit.inFlight > 0)) {
      this.#pop();
      // A probe in flight: back into the heap once idle.
      if (top.order === top.circuit.order) top.circuit.heaped = -1;
      top = this.#heap[0];
    }
    if (top && (!first || before(top, first))) {
      this.#pop();
      return top.circuit;
    }
    if (first) {
      this.#list.delete(first);
      first.list = undefined;
    }
    return first;
  }

  #pop() {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0;;) {
      const left = 2 * i + 1, right = left + 1;
      let least = i;
      if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

/** Failures in a row; `failure()` says whether they reached the threshold. */
class FailureRun {
  state = 0;
  constructor(readonly threshold: number) {}
  success(): void {
    this.state = 0;
  }
  failure(): boolean {
    return ++this.state >= this.threshold;
  }
}

/** Throws unless `ok`, naming the option `circuitBreaker${name}`. */
function check(
  ok: boolean,
  name: string,
  rule: string,
  value: unknown,
  range = typeof value === "number",
) {
  checkOption(ok, WHAT, `circuitBreaker${name}`, rule, value, range);
}

const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 1;
const isObject = (value: unknown) => typeof value === "object" && value !== null;

function checkOptional(value: unknown, name: string, isCallback: boolean) {
  if (value === undefined) return;
  if (isCallback) {
    check(typeof value === "function", name, "a function", value, false);
  } else check(isCount(value), name, "a positive integer", value);
}

function validate(options: unknown): CircuitBreakerOptions {
  check(isObject(options), "", "an object", options, false);
  const o = options as Record<string, unknown>;
  checkKnownKeys(WHAT, o, BREAKER_KEYS, "a circuit breaker option", "circuitBreaker.");
  check(isCount(o.threshold), ".threshold", "a positive integer", o.threshold);
  const wait = o.halfOpenAfter;
  check(
    typeof wait === "number" && wait >= 0 && Number.isFinite(wait),
    ".halfOpenAfter",
    "a non-negative finite number",
    wait,
  );
  checkOptional(o.halfOpenProbes, ".halfOpenProbes", false);
  checkOptional(o.maxDomains, ".maxDomains", false);
  checkOptional(o.isFailure, ".isFailure", true);
  checkOptional(o.now, ".now", true);
  checkOptional(o.onStateChange, ".onStateChange", true);
  if (o.failureRatio === undefined) {
    return o as unknown as CircuitBreakerOptions;
  }
  check(
    isObject(o.failureRatio),
    ".failureRatio",
    "an object",
    o.failureRatio,
    false,
  );
  checkKnownKeys(
    WHAT,
    o.failureRatio as object,
    ["ratio", "window", "minimumCalls"],
    "a failure ratio field",
    "circuitBreaker.failureRatio.",
  );
  const { ratio, window, minimumCalls } = o.failureRatio as Record<
    string,
    unknown
  >;
  check(
    typeof ratio === "number" && ratio > 0 && ratio <= 1,
    ".failureRatio.ratio",
    "a number greater than 0 and at most 1",
    ratio,
  );
  check(
    typeof window === "number" && window > 0 && Number.isFinite(window),
    ".failureRatio.window",
    "a positive finite number",
    window,
  );
  check(
    isCount(minimumCalls),
    ".failureRatio.minimumCalls",
    "a positive integer",
    minimumCalls,
  );
  return o as unknown as CircuitBreakerOptions;
}

/**
 * A registry of circuit breakers, one per domain, created on first use. Each domain's circuit
 * opens after `threshold` failures in a row (or, with `failureRatio`, too many failures over a
 * window); while open, {@linkcode CircuitBreakers.enter} throws `CircuitOpenError`. Once
 * `halfOpenAfter` ms have passed, the next look at the domain makes it half-open (there is no
 * timer): up to `halfOpenProbes` calls go through, the first to succeed closes the circuit and the
 * first to fail opens it again for another `halfOpenAfter`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CircuitBreakers, CircuitOpenError } from "@concurrent/futures";
 *
 * let now = 0;
 * const breakers = new CircuitBreakers({ threshold: 2, halfOpenAfter: 1_000, now: () => now });
 * breakers.enter("api.example").failure(new Error("503"));
 * breakers.enter("api.example").failure(new Error("503"));
 * try {
 *   breakers.enter("api.example");
 * } catch (error) {
 *   assert(error instanceof CircuitOpenError && error.retryAfter === 1_000);
 * }
 * now = 1_000;
 * breakers.enter("api.example").success();
 * assert(breakers.state("api.example") === "closed");
 * ```
 */
export class CircuitBreakers {
  #options: CircuitBreakerOptions;
  #probes: number;
  #maxDomains: number;
  #now: () => number;
  /** In order of last entry (the order of `stats()`). */
  #circuits = new Map<string, Circuit>();
  /** Idle closed circuits are forgotten first, by last entry; then open ones, by `openedAt`. */
  #closed = new EvictionOrder((circuit) => circuit.entered);
  #open = new EvictionOrder((circuit) => circuit.openedAt);
  /** Counts entries and places taken in an eviction order. */
  #counter = 0;
  #trimming = false;

  /**
   * Creates an empty registry.
   *
   * @param options When circuits open and close.
   * @throws {TypeError} If an option has the wrong type.
   * @throws {RangeError} If a number is out of range, such as `threshold: 0`.
   */
  constructor(options: CircuitBreakerOptions) {
    const { failureRatio } = validate(options);
    this.#options = { ...options };
    if (failureRatio) this.#options.failureRatio = { ...failureRatio };
    this.#probes = options.halfOpenProbes ?? 1;
    this.#maxDomains = options.maxDomains ?? 1000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Asks to make a call to `domain`.
   *
   * @param domain The domain the call goes to, such as a host name.
   * @returns A permit to settle when the call ends.
   * @throws {CircuitOpenError} If the domain's circuit is open, or half-open with every probe
   * slot taken (then `retryAfter` is 0: the probes decide).
   */
  enter(domain: string): CircuitPermit {
    let circuit = this.#circuits.get(domain);
    if (circuit) {
      this.#circuits.delete(domain);
    } else {
      this.#evict(1);
      const ratio = this.#options.failureRatio;
      circuit = new Circuit(
        domain,
        new FailureRun(this.#options.threshold),
        ratio && new FailureWindow(ratio.window),
      );
    }
    this.#circuits.set(domain, circuit);
    circuit.entered = ++this.#counter;
    // One already in the list keeps its place there until eviction comes to it.
    if (circuit.state === "closed" && !circuit.list) this.#place(circuit);
    this.#advance(domain, circuit);
    const probe = circuit.state === "halfOpen";
    if (circuit.state === "open" || probe && circuit.probes >= this.#probes) {
      circuit.rejected++;
      throw new CircuitOpenError(
        domain,
        this.#retryAfter(circuit),
        circuit.openedBy && { cause: circuit.openedBy.error },
      );
    }
    if (probe) circuit.probes++;
    circuit.inFlight++;
    return this.#permit(domain, circuit, probe);
  }

  /**
   * The state of `domain`'s circuit (`"closed"` for a domain never seen).
   *
   * @param domain The domain.
   * @returns Its state now.
   */
  state(domain: string): CircuitState {
    const circuit = this.#circuits.get(domain);
    if (!circuit) return "closed";
    this.#advance(domain, circuit);
    return circuit.state;
  }

  /**
   * A snapshot of every tracked domain's circuit.
   *
   * @returns The stats, keyed by domain, least recently entered first.
   */
  stats(): Map<string, DomainCircuitStats> {
    const now = this.#now();
    const stats = new Map<string, DomainCircuitStats>();
    for (const [domain, circuit] of this.#circuits) {
      this.#advance(domain, circuit);
      const { state, successes, failures, ignored, rejected, inFlight } = circuit;
      const entry: DomainCircuitStats = {
        state,
        consecutiveFailures: circuit.run.state,
        successes,
        failures,
        ignored,
        rejected,
        inFlight,
      };
      if (state !== "closed") entry.openedAt = circuit.openedAt;
      if (state === "open") entry.retryAfter = this.#retryAfter(circuit);
      if (circuit.window) entry.window = circuit.window.totals(now);
      stats.set(domain, entry);
    }
    return stats;
  }

  #permit(domain: string, circuit: Circuit, probe: boolean): CircuitPermit {
    const epoch = circuit.epoch;
    let settled = false;
    const settle = (outcome: "success" | "failure" | "ignored", error?: unknown) => {
      if (settled) return;
      settled = true;
      circuit.inFlight--;
      // Past maxDomains while calls were in flight: back within it once they end.
      if (circuit.inFlight === 0 && this.#circuits.size > this.#maxDomains && !this.#trimming) {
        this.#trimming = true;
        queueMicrotask(() => {
          this.#trimming = false;
          this.#evict(0);
        });
      }
      // Only a probe of the current half-open period decides it; a probe's slot is gone once
      // the state has changed, and calls let in while closed only count while it stays closed.
      const live = probe && circuit.epoch === epoch;
      if (live) circuit.probes--;
      if (outcome === "ignored") {
        circuit.ignored++;
      } else if (outcome === "success") {
        circuit.successes++;
        if (live) this.#change(domain, circuit, "closed");
        else if (circuit.state === "closed") {
          circuit.run.success();
          this.#record(circuit, false);
        }
      } else {
        circuit.failures++;
        if (live) {
          circuit.run.failure();
          circuit.openedBy = { error };
          this.#change(domain, circuit, "open");
        } else if (circuit.state === "closed") {
          const tripped = circuit.run.failure();
          if (this.#record(circuit, true) || tripped) {
            circuit.openedBy = { error };
            this.#change(domain, circuit, "open");
          }
        }
      }
      if (circuit.inFlight === 0) this.#order(circuit).idle(circuit);
    };
    return {
      success: () => settle("success"),
      failure: (error) => {
        if (!settled) settle(this.#counts(error) ? "failure" : "ignored", error);
      },
      release: () => settle("ignored"),
    };
  }

  #counts(error: unknown): boolean {
    const isFailure = this.#options.isFailure;
    if (!isFailure) return !(error instanceof CircuitOpenError);
    try {
      return isFailure(error);
    } catch (thrown) {
      // Reported after the engine's step (see Future's callbacks).
      queueMicrotask(() => reportError(thrown));
      return true;
    }
  }

  /** Records an outcome in the failure-ratio window; returns whether the ratio is reached. */
  #record(circuit: Circuit, failed: boolean): boolean {
    const ratio = this.#options.failureRatio;
    if (!ratio || !circuit.window) return false;
    const now = this.#now();
    circuit.window.record(now, failed);
    const { calls, failures } = circuit.window.totals(now);
    return calls >= ratio.minimumCalls && failures / calls >= ratio.ratio;
  }

  #retryAfter(circuit: Circuit): number {
    if (circuit.state !== "open") return 0;
    const elapsed = this.#now() - circuit.openedAt;
    // A clock that went back (Date.now can) lets a probe through rather than holding the
    // circuit open until the clock catches up.
    return elapsed < 0 ? 0 : Math.max(0, this.#options.halfOpenAfter - elapsed);
  }

  #advance(domain: string, circuit: Circuit) {
    if (circuit.state === "open" && this.#retryAfter(circuit) === 0) {
      this.#change(domain, circuit, "halfOpen");
    }
  }

  #change(domain: string, circuit: Circuit, to: CircuitState) {
    const from = circuit.state;
    circuit.state = to;
    circuit.epoch++;
    circuit.probes = 0;
    if (to === "open") circuit.openedAt = this.#now();
    if (to === "closed") {
      circuit.run.success();
      circuit.window?.reset();
    }
    // Opened again, or closed by a probe: a new place. Half-open keeps the place of open.
    if (to !== "halfOpen") this.#place(circuit);
    try {
      this.#options.onStateChange?.({ domain, from, to });
    } catch (error) {
      // Reported after the engine's step (see Future's callbacks).
      queueMicrotask(() => reportError(error));
    }
  }

  #order(circuit: Circuit): EvictionOrder {
    return circuit.state === "closed" ? this.#closed : this.#open;
  }

  /** Gives `circuit` a new place in the eviction order of its state. */
  #place(circuit: Circuit) {
    if (circuit.gone) return;
    circuit.list?.delete(circuit);
    circuit.list = undefined;
    circuit.order = ++this.#counter;
    this.#order(circuit).add(circuit);
  }

  /**
   * Drops idle breakers until `room` more fit within `maxDomains`: the least recently entered
   * closed ones first, then the open (or half-open) ones opened first. Breakers with a call in
   * flight stay, so the registry grows past `maxDomains` by at most as many as they are.
   */
  #evict(room: number) {
    while (this.#circuits.size > this.#maxDomains - room) {
      const victim = this.#closed.take() ?? this.#open.take();
      if (!victim) return;
      victim.gone = true;
      if (this.#circuits.get(victim.domain) === victim) this.#circuits.delete(victim.domain);
    }
  }
}

/**
 * What a task that already ran rejects with when the open circuit stops its retries: its own last
 * error, with the `CircuitOpenError` as its non-enumerable `circuit` property (when the error is
 * an object that can take it). A task that never ran rejects with the `CircuitOpenError` itself.
 */
export function stoppedByCircuit(lastError: unknown, open: CircuitOpenError): unknown {
  if (
    (typeof lastError === "object" && lastError !== null) || typeof lastError === "function"
  ) {
    try {
      if (!Object.hasOwn(lastError, "circuit") && Object.isExtensible(lastError)) {
        Object.defineProperty(lastError, "circuit", {
          value: open,
          configurable: true,
          writable: true,
        });
      }
    } catch {
      // A proxy that refuses: the error goes on without the context.
    }
  }
  return lastError;
}

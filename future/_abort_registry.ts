// One "abort" listener per signal, shared by every task and waiter of the library that stops when
// that signal aborts. Deno's addEventListener() and removeEventListener() scan the signal's whole
// list of listeners: a listener each for 100,000 tasks sharing one signal cost minutes. Here the
// signal holds one listener, and each subscriber is an entry in a set, added and deleted in O(1).

import { Subscribers } from "./_subscribers.ts";

/** What runs when the signal aborts: a function, or an object whose `signalAborted()` is called. */
export type AbortHandler = (() => void) | { signalAborted(): void };

/** The subscribers of one signal, and its one listener (`handleEvent`). */
class SignalSubscribers extends Subscribers<AbortHandler> {
  readonly #signal: AbortSignal;

  constructor(signal: AbortSignal, handler: AbortHandler) {
    super(handler);
    this.#signal = signal;
  }

  /**
   * The abort event: calls each handler in the order they subscribed, as the separate listeners
   * did. A handler unsubscribed meanwhile (another's effect settled it) is skipped, as a removed
   * listener is; none subscribes now (the signal is aborted, see `subscribeAbort`).
   */
  handleEvent(): void {
    this.drain(call);
    if (Slot.get(this.#signal) === this) Slot.set(this.#signal, undefined);
  }
}

function call(handler: AbortHandler): void {
  try {
    if (typeof handler === "function") handler();
    else handler.signalAborted();
  } catch (error) {
    // Reported once the other handlers have run, as a future's callbacks are.
    queueMicrotask(() => reportError(error));
  }
}

// Where a signal's subscribers are found: in a private field that `Slot` adds to the signal itself
// (a class whose base constructor returns its argument adds its fields to that object). A
// WeakMap keyed by the signals would do, but 100,000 signals alive in one (a signal per request,
// each with a task) cost microseconds each in the garbage collector: a field costs what any
// property does. No other code can see the field (it is private), and it holds nothing once the
// last subscriber has left. The WeakMap serves a signal that cannot take a field (frozen).
class ReturnsItsArgument {
  constructor(object: object) {
    return object;
  }
}

class Slot extends ReturnsItsArgument {
  #subscribers: SignalSubscribers | undefined;

  static get(signal: AbortSignal): SignalSubscribers | undefined {
    if (#subscribers in signal) return (signal as Slot).#subscribers;
    return frozen === undefined ? undefined : frozen.get(signal);
  }

  static set(signal: AbortSignal, subscribers: SignalSubscribers | undefined): void {
    if (#subscribers in signal) (signal as Slot).#subscribers = subscribers;
    else if (subscribers === undefined) frozen?.delete(signal);
    else if (Object.isExtensible(signal)) new Slot(signal).#subscribers = subscribers;
    else (frozen ??= new WeakMap()).set(signal, subscribers);
  }
}

// Made for the first signal that needs it: until then, no lookup in it for a signal seen anew.
let frozen: WeakMap<AbortSignal, SignalSubscribers> | undefined;

/**
 * Calls `handler` when `signal` aborts, as `addEventListener("abort", handler, { once: true })`
 * would, in the order of subscription among the library's subscribers (one listener of the
 * signal serves them all, at the place of the first). Adding a handler already subscribed to
 * this signal does nothing. The caller checks `signal.aborted` first: as a listener added then,
 * a handler subscribed to an aborted signal would never be called.
 */
export function subscribeAbort(signal: AbortSignal, handler: AbortHandler): void {
  const subscribers = Slot.get(signal);
  if (subscribers !== undefined) return subscribers.add(handler);
  const created = new SignalSubscribers(signal, handler);
  Slot.set(signal, created);
  signal.addEventListener("abort", created, { once: true });
}

/** Undoes `subscribeAbort(signal, handler)`, in O(1); does nothing if `handler` is not subscribed. */
export function unsubscribeAbort(signal: AbortSignal, handler: AbortHandler): void {
  const subscribers = Slot.get(signal);
  if (subscribers === undefined || !subscribers.delete(handler)) return;
  Slot.set(signal, undefined);
  signal.removeEventListener("abort", subscribers);
}

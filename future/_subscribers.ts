// A set of subscribers, in the order they subscribed, shared by the library's one-listener
// registries (an abort signal's, a deadline's): most serve a single subscriber, which costs no
// `Set`; each is added and deleted in O(1).

/** Subscribers of one event source; `drain()` hands each to a caller once. */
export class Subscribers<H> {
  /** The only subscriber, while there has been one. */
  #one: H | undefined;
  /** From the second subscriber on: a `Set` iterates in insertion order, the order subscribed. */
  #many: Set<H> | undefined;

  constructor(first: H) {
    this.#one = first;
  }

  /** Adds `handler`; adding one already there does nothing. */
  add(handler: H): void {
    if (this.#many !== undefined) this.#many.add(handler);
    else if (handler !== this.#one) this.#many = new Set([this.#one!, handler]);
  }

  /** Removes `handler` if it is there; returns whether none is left. */
  delete(handler: H): boolean {
    if (this.#many !== undefined) return this.#many.delete(handler) && this.#many.size === 0;
    if (handler !== this.#one) return false;
    this.#one = undefined;
    return true;
  }

  /**
   * Calls `call` with each subscriber in the order they subscribed, each deleted before it is
   * called (as a `once` listener is removed); one deleted meanwhile is skipped.
   */
  drain(call: (handler: H) => void): void {
    const many = this.#many;
    if (many === undefined) {
      const one = this.#one;
      this.#one = undefined;
      if (one !== undefined) call(one);
      return;
    }
    for (const handler of many) {
      many.delete(handler);
      call(handler);
    }
  }
}

// A FIFO queue of jobs threaded through the jobs themselves: push, shift, unshift and remove are
// O(1) and allocate nothing, so a job cancelled while it waits leaves the queue at once (a queue
// holding a million cancelled jobs until each reached the head would hold their memory too).

/** The links a queued item carries: in one queue at a time. */
export interface QueueLinks<T> {
  nextQueued: T | undefined;
  previousQueued: T | undefined;
  /** The queue it is in, if any. */
  queuedIn: object | undefined;
}

/** A first-in first-out queue with removal from anywhere. */
export class JobQueue<T extends QueueLinks<T>> {
  #head: T | undefined;
  #tail: T | undefined;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  peek(): T | undefined {
    return this.#head;
  }

  push(item: T): void {
    this.#link(item);
    item.previousQueued = this.#tail;
    if (this.#tail) this.#tail.nextQueued = item;
    else this.#head = item;
    this.#tail = item;
  }

  /** Puts an item back at the front, to be taken next. */
  unshift(item: T): void {
    this.#link(item);
    item.nextQueued = this.#head;
    if (this.#head) this.#head.previousQueued = item;
    else this.#tail = item;
    this.#head = item;
  }

  shift(): T | undefined {
    const item = this.#head;
    if (item) this.remove(item);
    return item;
  }

  /** Takes `item` out of the queue; false if it is not in this queue. */
  remove(item: T): boolean {
    if (item.queuedIn !== this) return false;
    const { previousQueued, nextQueued } = item;
    if (previousQueued) previousQueued.nextQueued = nextQueued;
    else this.#head = nextQueued;
    if (nextQueued) nextQueued.previousQueued = previousQueued;
    else this.#tail = previousQueued;
    item.previousQueued = item.nextQueued = item.queuedIn = undefined;
    this.#length--;
    return true;
  }

  *drain(): Generator<T> {
    for (let item = this.shift(); item; item = this.shift()) yield item;
  }

  #link(item: T): void {
    if (item.queuedIn !== undefined) throw new Error("an item is in one queue at a time");
    item.queuedIn = this;
    this.#length++;
  }
}

// The hold that `Lock.acquire()` returns. Internal, so that `Condition` can move a hold from one
// ticket to the next (it releases the lock while waiting and takes it back after).

import { InvalidStateError } from "../future/errors.ts";
import { releaseHeld } from "./_tickets.ts";

/** The ticket-state base index inside a lock's buffer. */
export const LOCK_BASE = 1;

/** A hold on a lock. */
export class Guard implements Disposable, AsyncDisposable {
  readonly i32: Int32Array;
  ticket: number;
  released = false;

  constructor(i32: Int32Array, ticket: number) {
    this.i32 = i32;
    this.ticket = ticket;
  }

  get held(): boolean {
    return !this.released && Atomics.load(this.i32, LOCK_BASE + 1) === this.ticket;
  }

  release(): void {
    if (this.released) throw new InvalidStateError("Cannot release a Lock twice");
    this.released = true;
    if (!releaseHeld(this.i32, LOCK_BASE, this.ticket)) {
      throw new InvalidStateError(
        "Cannot release a Lock that was taken from this holder with forceRelease()",
      );
    }
  }

  [Symbol.dispose](): void {
    if (!this.released) this.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    try {
      this[Symbol.dispose]();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

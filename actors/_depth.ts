// Deno's Web Workers drop a message whose values nest deeper than about 2,700 levels: the sender's
// postMessage() returns, the worker never sees the message, and no error is raised on either side
// (measured with Deno 2.9: a linked list of 2,687 nodes arrives, one of 2,694 does not; from about
// 6,000 levels postMessage() itself throws). The tasks or calls of a dropped message would wait
// for ever. So arguments are looked through before they go to a Web Worker, and one nested deeper
// than `MAX_DEPTH` is refused, as structured clone refuses what it cannot copy. A Future met on the
// way is refused too: a copy of it is an empty object.

import { Future } from "../future/future.ts";

/** Levels of nesting an argument may have on its way to a Web Worker. */
export const MAX_DEPTH = 1_000;

/**
 * Values looked at (`BUDGET`) and objects entered (`ENTERED`), at most, per message: a deep chain
 * shows long before these, and a wide argument (a long list of records) costs a bounded look, not
 * one as long as its copy. An object's values are looked at as it is entered; a wide one may use
 * the looks up, and the objects already found are still entered (without their own values).
 */
const BUDGET = 50_000;
const ENTERED = 5_000;

/**
 * Throws a `DataCloneError` if `values` nest deeper than {@linkcode MAX_DEPTH} levels (within the
 * first values looked at); returns otherwise. The look goes depth first and lazily: each object's
 * children are gathered only when it is entered, so a chain is followed to its end before the
 * siblings of its first link are looked at.
 */
export function checkDepth(values: readonly unknown[]): void {
  // Most tasks take numbers and strings: nothing to look into.
  let i = 0;
  while (i < values.length && (typeof values[i] !== "object" || values[i] === null)) i++;
  if (i === values.length) return;
  let looks = 0;
  const children = (object: object): object[] => {
    const out: object[] = [];
    const take = (item: unknown) => {
      looks++;
      if (typeof item === "object" && item !== null) out.push(item);
    };
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length && looks < BUDGET; i++) take(object[i]);
    } else if (object instanceof Map) {
      for (const [key, item] of object) {
        if (looks >= BUDGET) break;
        take(key);
        take(item);
      }
    } else if (object instanceof Set) {
      for (const item of object) {
        if (looks >= BUDGET) break;
        take(item);
      }
    } else if (!ArrayBuffer.isView(object) && !(object instanceof ArrayBuffer)) {
      for (const key in object) {
        if (looks >= BUDGET) break;
        if (Object.hasOwn(object, key)) take((object as Record<string, unknown>)[key]);
      }
    }
    return out;
  };
  const top = children(values as unknown[]);
  if (top.length === 0) return;
  const seen = new Set<object>();
  // One frame per level: the objects of that level still to enter.
  const frames: { items: object[]; next: number }[] = [{ items: top, next: 0 }];
  let entered = 0;
  while (frames.length > 0 && entered < ENTERED) {
    const frame = frames[frames.length - 1]!;
    if (frame.next >= frame.items.length) {
      frames.pop();
      continue;
    }
    const object = frame.items[frame.next++]!;
    if (seen.has(object)) continue;
    seen.add(object);
    entered++;
    if (object instanceof Future) {
      // Structured clone copies a Future as an empty object: the task got `{}` in its place.
      throw new DOMException(
        "Cannot send a Future to a Web Worker: a copy of it is an empty object. Await it first (an executor's submit() and map() await the futures given as arguments or items themselves, not those inside them)",
        "DataCloneError",
      );
    }
    if (frames.length > MAX_DEPTH) {
      throw new DOMException(
        `Cannot send a value nested deeper than ${MAX_DEPTH} levels to a Web Worker: Deno drops such a message without an error, and what waits for it would never settle. Flatten it, or send it serialized (JSON.stringify)`,
        "DataCloneError",
      );
    }
    frames.push({ items: children(object), next: 0 });
  }
}

// Deno's Web Workers drop a message whose values nest deeper than about 2,700 levels: the sender's
// postMessage() returns, the worker never sees the message, and no error is raised on either side
// (measured with Deno 2.9: a linked list of 2,687 nodes arrives, one of 2,694 does not; from about
// 6,000 levels postMessage() itself throws). The tasks or calls of a dropped message would wait
// for ever. So arguments are looked through before they go to a Web Worker, and one nested deeper
// than `MAX_DEPTH` is refused, as structured clone refuses what it cannot copy.

/** Levels of nesting an argument may have on its way to a Web Worker. */
export const MAX_DEPTH = 1_000;

/**
 * Objects looked at, at most, per task: a deep chain shows long before this, and a wide argument
 * (a long list of records) costs a bounded look, not one as long as its copy.
 */
const BUDGET = 5_000;

/**
 * Throws a `DataCloneError` if `values` nest deeper than {@linkcode MAX_DEPTH} levels (within the
 * first objects looked at); returns otherwise. Values that are not objects cost a look each.
 */
export function checkDepth(values: readonly unknown[]): void {
  let objects: object[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value === "object" && value !== null) (objects ??= []).push(value);
  }
  if (objects === undefined) return;
  const seen = new Set<object>(objects);
  // Depth-first, with each object's level beside it: the first to pass the limit is enough.
  const stack: object[] = objects;
  const levels: number[] = objects.map(() => 1);
  let looks = objects.length;
  const push = (item: unknown, level: number) => {
    if (typeof item !== "object" || item === null || looks >= BUDGET || seen.has(item)) return;
    looks++;
    seen.add(item);
    stack.push(item);
    levels.push(level);
  };
  while (stack.length > 0) {
    const object = stack.pop()!;
    const level = levels.pop()!;
    if (level > MAX_DEPTH) {
      throw new DOMException(
        `Cannot send an argument nested deeper than ${MAX_DEPTH} levels to a Web Worker: Deno drops such a message without an error, and the task would never settle. Flatten it, or send it serialized (JSON.stringify)`,
        "DataCloneError",
      );
    }
    if (Array.isArray(object)) {
      for (let i = 0; i < object.length && looks < BUDGET; i++) push(object[i], level + 1);
    } else if (object instanceof Map) {
      for (const [key, item] of object) {
        push(key, level + 1);
        push(item, level + 1);
      }
    } else if (object instanceof Set) {
      for (const item of object) push(item, level + 1);
    } else if (!ArrayBuffer.isView(object) && !(object instanceof ArrayBuffer)) {
      for (const key in object) {
        if (Object.hasOwn(object, key)) push((object as Record<string, unknown>)[key], level + 1);
      }
    }
  }
}

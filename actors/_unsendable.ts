import { Future } from "../future/future.ts";

// Values that cannot go to another process. Structured clone (what a Web Worker gets) keeps a Blob,
// a File, a CryptoKey or a DOMException, and refuses a URL, Headers, a Request, a Response or a
// stream. V8's serializer, which carries values between processes, knows none of them: it sends
// each as an empty object (a DOMException as an `Error` without its message), with no error. So a
// value is looked through before it is sent, and one that holds such an object is refused, naming
// it, as structured clone refuses what it cannot copy.

/** The classes looked for, with what to do instead. */
function unsendableClasses(): [abstract new (...args: never[]) => object, string][] {
  const classes: [(abstract new (...args: never[]) => object) | undefined, string][] = [
    [
      Future,
      "a task waits for the futures that are its own arguments (or map() items), not for one inside another value: pass it as one",
    ],
    [globalThis.Blob, "read it first (await blob.arrayBuffer()) and send the bytes"],
    [globalThis.CryptoKey, "export it (crypto.subtle.exportKey) and import it there"],
    [globalThis.DOMException, "send its name and message, or throw it (errors are carried)"],
    [globalThis.URL, "send its href"],
    [globalThis.URLSearchParams, "send it as a string"],
    [globalThis.Headers, "send its entries ([...headers])"],
    [globalThis.Request, "send its URL, method and body"],
    [globalThis.Response, "send its status and body"],
    [globalThis.ReadableStream, "read it first"],
    [globalThis.WritableStream, "write through it here"],
    [globalThis.TransformStream, "use it here"],
    [globalThis.MessagePort, "send messages through it here"],
  ];
  return classes.filter((entry): entry is [abstract new () => object, string] =>
    typeof entry[0] === "function"
  );
}

let classes: [abstract new (...args: never[]) => object, string][] | undefined;

const LOOKS_WITHOUT_SET = 1 << 18;

/**
 * Throws a `DataCloneError` naming the first object in `value` that V8's serializer would send as
 * something else (see above); returns otherwise. Plain data costs a look at each value.
 *
 * @param value what is about to be serialized
 * @param where whence it goes, for the message: "another process"
 * @param sharedMemory the TypeError's message for shared memory, which is then refused too
 */
export function checkSendable(value: unknown, where: string, sharedMemory?: string): void {
  if (typeof value !== "object" || value === null) return;
  // Objects met again are looked through again (a set of those seen costs more than the walk):
  // only past 262,144 looks, where a cycle or much sharing may be, are they kept to be skipped.
  let looks = 0;
  let seen: Set<object> | undefined;
  const stack: object[] = [value];
  while (stack.length > 0) {
    const object = stack.pop()!;
    if (++looks > LOOKS_WITHOUT_SET) {
      seen ??= new Set();
      if (seen.has(object)) continue;
      seen.add(object);
    }
    const proto = Object.getPrototypeOf(object);
    if (proto === Array.prototype) {
      const array = object as unknown[];
      for (let i = 0; i < array.length; i++) {
        const item = array[i];
        if (typeof item === "object" && item !== null) stack.push(item);
      }
      continue;
    }
    if (proto !== Object.prototype && proto !== null) {
      if (ArrayBuffer.isView(object)) {
        if (sharedMemory !== undefined && object.buffer instanceof SharedArrayBuffer) {
          throw new TypeError(sharedMemory);
        }
        continue;
      }
      if (object instanceof ArrayBuffer) continue;
      if (object instanceof SharedArrayBuffer) {
        // V8's serializer copies it (or a typed array on it) as if it were not shared.
        if (sharedMemory !== undefined) throw new TypeError(sharedMemory);
        continue;
      }
      for (const [type, instead] of classes ??= unsendableClasses()) {
        if (object instanceof type) {
          throw new DOMException(
            `Cannot send a ${type.name} to ${where}: its serialization would arrive as ${
              type === globalThis.DOMException ? "an Error without its message" : "an empty object"
            }; ${instead}`,
            "DataCloneError",
          );
        }
      }
      if (object instanceof Map) {
        for (const [key, item] of object) {
          if (typeof key === "object" && key !== null) stack.push(key);
          if (typeof item === "object" && item !== null) stack.push(item);
        }
        continue;
      }
      if (object instanceof Set) {
        for (const item of object) if (typeof item === "object" && item !== null) stack.push(item);
        continue;
      }
      if (object instanceof Date || object instanceof RegExp) continue;
    }
    // A plain object, an error, a class instance: its own enumerable values are what is sent.
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      const item = (object as Record<string, unknown>)[key];
      if (typeof item === "object" && item !== null) stack.push(item);
    }
    // An error's cause is sent too (an own property, but not enumerable).
    if (object instanceof Error && typeof object.cause === "object" && object.cause !== null) {
      stack.push(object.cause);
    }
  }
}

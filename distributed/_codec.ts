// The bodies of task messages and outcomes: JSON when the value is plain data that JSON carries
// unchanged (finite numbers other than -0, strings, booleans, null, dense arrays, plain objects
// without undefined), which costs a fraction of V8 serialization on Deno; V8-serialized
// otherwise, which keeps what structured clone keeps. A reader tells them apart by the first
// byte: `{` for JSON, 0xFF (V8's version tag) for V8.

import { deserialize, serialize } from "node:v8";
import { checkSendable } from "../actors/_unsendable.ts";

const NO_SHARED_MEMORY =
  "Cannot send a SharedArrayBuffer to a DistributedExecutor worker: it runs in another process, on another machine maybe, so a copy of a Lock, a SharedQueue or another sync primitive, or of a typed array on shared memory, would silently stop being shared; use WorkerPoolExecutor";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const OPEN_BRACE = 0x7b;

/** Encodes `body` (an object); `json` false forces V8 serialization (a reader of an older version). */
export function encodeBody(body: object, json = true): Uint8Array {
  if (json && plain(body, 0)) return encoder.encode(JSON.stringify(body));
  checkSendable(body, "another process", NO_SHARED_MEMORY);
  return serialize(body);
}

/** Decodes what {@linkcode encodeBody} encoded, either way. */
export function decodeBody<T>(bytes: Uint8Array): T {
  if (bytes[0] === OPEN_BRACE) return JSON.parse(decoder.decode(bytes)) as T;
  return deserialize(bytes) as T;
}

/** Whether JSON carries `value` unchanged (depth-limited: a deep value goes the V8 way). */
function plain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object": {
      if (value === null) return true;
      if (depth > 32) return false;
      if (Array.isArray(value)) {
        if (Object.getPrototypeOf(value) !== Array.prototype) return false;
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !plain(value[i], depth + 1)) return false;
        }
        return true;
      }
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) return false;
        if (!plain((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

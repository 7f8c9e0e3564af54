// How SharedQueue turns values into bytes. "structured" is V8's serializer (what structured clone
// keeps: Map, Set, Date, typed arrays, BigInt, undefined, cycles); "json" is JSON text, about four
// times faster for small plain objects (measured in bench/sync_bench.ts) but lossy beyond JSON.
// node:v8 is one of Deno's built-in modules, not an npm package: it adds a few milliseconds to a
// worker's start-up, where an npm import adds about 30.

import { deserialize, serialize } from "node:v8";

/** How a {@linkcode SharedQueue} encodes values: see `SharedQueueOptions.encoding`. */
export type Encoding = "structured" | "json";
/** The codecs, by their number in the queue's header. */
export const ENCODINGS: readonly Encoding[] = ["structured", "json"];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

/** Encodes a value; an empty result stands for `undefined`. */
export function encode(encoding: number, value: unknown): Uint8Array {
  if (value === undefined) return EMPTY;
  if (encoding === 1) {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new TypeError(`Cannot put a ${typeof value} into a SharedQueue of JSON`);
    }
    return encoder.encode(text);
  }
  try {
    return serialize(value);
  } catch (error) {
    throw new DOMException(
      `Cannot put the value into a SharedQueue: ${
        error instanceof Error ? error.message : String(error)
      }`,
      "DataCloneError",
    );
  }
}

/** Decodes what {@linkcode encode} made. */
export function decode(encoding: number, bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  return encoding === 1 ? JSON.parse(decoder.decode(bytes)) : deserialize(bytes);
}

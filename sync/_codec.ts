// How SharedQueue turns values into bytes.
//
// "structured" gives exactly what `structuredClone()` gives, by two paths. The fast one, here, is
// a small codec of our own for the common values it can copy exactly: primitives (strings well
// formed), plain objects, dense arrays without other properties, `Date`, `RegExp`, `Map`, `Set`,
// fixed-length `ArrayBuffer`s and views on them (sharing and offsets kept), and shared or cyclic
// references. It gives up on anything else by throwing BAIL, and the whole value takes the exact
// path (_clone.ts): `structuredClone()` then V8's serializer. V8's serializer alone was about ten
// times as slow per small object and made every worker that imported sync/ start 5-15 ms later
// (bench/sync_bench.ts, part c), so it is loaded only when a value needs it. "json" is JSON
// text: a little cheaper for plain data, lossy beyond it.

import { decodeClone, encodeClone } from "./_clone.ts";

/**
 * How a {@linkcode SharedQueue} encodes values: see `SharedQueueOptions.encoding`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Encoding, SharedQueue } from "@concurrent/futures";
 *
 * const encoding: Encoding = "json";
 * const queue = new SharedQueue({ encoding });
 * await queue.put({ at: new Date(0) });
 * // JSON text: a Date comes out as a string.
 * assert.deepEqual(await queue.get(), { at: "1970-01-01T00:00:00.000Z" });
 * ```
 */
export type Encoding = "structured" | "json";
/** The codecs, by their number in the queue's header. */
export const ENCODINGS: readonly Encoding[] = ["structured", "json"];

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY = new Uint8Array(0);

const enum Tag {
  Undefined,
  Null,
  False,
  True,
  Int,
  Float,
  String,
  BigInt,
  Date,
  RegExp,
  Array,
  Object,
  Map,
  Set,
  ArrayBuffer,
  View,
  Error,
  Ref,
  /** The whole value took the exact path (_clone.ts). */
  Clone,
}

const VIEWS = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
] as const;

/** A view's kind (its index in VIEWS), by its prototype. */
const VIEW_KINDS = new Map<object, number>(VIEWS.map((View, kind) => [View.prototype, kind]));

/** Thrown by the fast path for a value it cannot copy exactly. */
const BAIL = Symbol("bail");

class Writer {
  bytes = new Uint8Array(256);
  view = new DataView(this.bytes.buffer);
  at = 0;
  readonly seen = new Map<object, number>();

  room(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const bigger = new Uint8Array(Math.max(this.bytes.length * 2, this.at + n));
    bigger.set(this.bytes.subarray(0, this.at));
    this.bytes = bigger;
    this.view = new DataView(bigger.buffer);
  }

  byte(b: number): void {
    this.room(1);
    this.bytes[this.at++] = b;
  }

  u32(n: number): void {
    this.room(4);
    this.view.setUint32(this.at, n, true);
    this.at += 4;
  }

  f64(n: number): void {
    this.room(8);
    this.view.setFloat64(this.at, n, true);
    this.at += 8;
  }

  string(s: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    this.room(4 + s.length * 3);
    if (s.length < 64) {
      // Short ASCII by hand: a call into TextEncoder costs more than the copy.
      const bytes = this.bytes;
      const start = this.at + 4;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        bytes[start + i] = c;
      }
      if (i === s.length) {
        this.view.setUint32(this.at, i, true);
        this.at = start + i;
        return;
      }
    }
    // UTF-8 cannot carry a lone surrogate.
    if (!s.isWellFormed()) throw BAIL;
    const { written } = encoder.encodeInto(s, this.bytes.subarray(this.at + 4));
    this.view.setUint32(this.at, written, true);
    this.at += 4 + written;
  }

  raw(bytes: Uint8Array): void {
    this.u32(bytes.length);
    this.room(bytes.length);
    this.bytes.set(bytes, this.at);
    this.at += bytes.length;
  }

  value(v: unknown): void {
    switch (typeof v) {
      case "undefined":
        return this.byte(Tag.Undefined);
      case "boolean":
        return this.byte(v ? Tag.True : Tag.False);
      case "number":
        if ((v | 0) === v && !Object.is(v, -0)) {
          this.byte(Tag.Int);
          this.room(4);
          this.view.setInt32(this.at, v, true);
          this.at += 4;
          return;
        }
        this.byte(Tag.Float);
        return this.f64(v);
      case "string":
        this.byte(Tag.String);
        return this.string(v);
      case "bigint":
        this.byte(Tag.BigInt);
        return this.string(v.toString());
      case "object":
        if (v === null) return this.byte(Tag.Null);
        return this.object(v);
      default:
        throw BAIL;
    }
  }

  object(o: object): void {
    const ref = this.seen.get(o);
    if (ref !== undefined) {
      this.byte(Tag.Ref);
      return this.u32(ref);
    }
    this.seen.set(o, this.seen.size);
    // By exact prototype: a subclass may override what this path would call.
    const proto = Object.getPrototypeOf(o);
    if (proto === Object.prototype) {
      const keys = Object.keys(o);
      this.byte(Tag.Object);
      this.u32(keys.length);
      for (const key of keys) {
        this.string(key);
        this.value((o as Record<string, unknown>)[key]);
      }
    } else if (proto === Array.prototype) {
      const a = o as unknown[];
      const n = a.length;
      // As many keys as elements and no hole: dense, with no other property.
      if (Object.keys(a).length !== n) throw BAIL;
      this.byte(Tag.Array);
      this.u32(n);
      for (let i = 0; i < n; i++) {
        const v = a[i];
        if (v === undefined && !(i in a)) throw BAIL;
        this.value(v);
      }
    } else if (proto === Date.prototype) {
      this.byte(Tag.Date);
      this.f64((o as Date).getTime());
    } else if (proto === RegExp.prototype) {
      this.byte(Tag.RegExp);
      this.string((o as RegExp).source);
      this.string((o as RegExp).flags);
    } else if (proto === Map.prototype) {
      this.byte(Tag.Map);
      this.u32((o as Map<unknown, unknown>).size);
      for (const [k, v] of o as Map<unknown, unknown>) {
        this.value(k);
        this.value(v);
      }
    } else if (proto === Set.prototype) {
      this.byte(Tag.Set);
      this.u32((o as Set<unknown>).size);
      for (const v of o as Set<unknown>) this.value(v);
    } else if (proto === ArrayBuffer.prototype) {
      const buffer = o as ArrayBuffer;
      if (buffer.resizable || buffer.detached) throw BAIL;
      this.byte(Tag.ArrayBuffer);
      this.raw(new Uint8Array(buffer));
    } else {
      const kind = VIEW_KINDS.get(proto);
      if (kind === undefined) throw BAIL;
      const view = o as ArrayBufferView;
      const buffer = view.buffer;
      if (!(buffer instanceof ArrayBuffer) || buffer.resizable || buffer.detached) throw BAIL;
      this.byte(Tag.View);
      this.byte(kind);
      // The whole buffer, as structured clone copies it, once for all the views on it.
      this.object(buffer);
      this.u32(view.byteOffset);
      this.u32(view.byteLength);
    }
  }
}

class Reader {
  readonly view: DataView;
  at = 0;
  readonly refs: unknown[] = [];

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u32(): number {
    const n = this.view.getUint32(this.at, true);
    this.at += 4;
    return n;
  }

  f64(): number {
    const n = this.view.getFloat64(this.at, true);
    this.at += 8;
    return n;
  }

  string(): string {
    const n = this.u32();
    const start = this.at;
    this.at += n;
    if (n < 64) {
      let text = "";
      const bytes = this.bytes;
      let i = start;
      for (; i < start + n; i++) {
        const c = bytes[i]!;
        if (c >= 0x80) break;
        text += String.fromCharCode(c);
      }
      if (i === start + n) return text;
    }
    return decoder.decode(this.bytes.subarray(start, start + n));
  }

  raw(): ArrayBuffer {
    const n = this.u32();
    const copy = this.bytes.slice(this.at, this.at + n);
    this.at += n;
    return copy.buffer;
  }

  value(): unknown {
    const tag = this.bytes[this.at++] as Tag;
    switch (tag) {
      case Tag.Undefined:
        return undefined;
      case Tag.Null:
        return null;
      case Tag.False:
        return false;
      case Tag.True:
        return true;
      case Tag.Int: {
        const n = this.view.getInt32(this.at, true);
        this.at += 4;
        return n;
      }
      case Tag.Float:
        return this.f64();
      case Tag.String:
        return this.string();
      case Tag.BigInt:
        return BigInt(this.string());
      case Tag.Ref:
        return this.refs[this.u32()];
      default:
        return this.object(tag);
    }
  }

  object(tag: Tag): unknown {
    // Registered before its contents are read, so that a cycle can refer back to it.
    const refs = this.refs;
    switch (tag) {
      case Tag.Array: {
        const a: unknown[] = new Array(this.u32());
        refs.push(a);
        for (let i = 0; i < a.length; i++) a[i] = this.value();
        return a;
      }
      case Tag.Date:
        return this.#keep(new Date(this.f64()));
      case Tag.RegExp:
        return this.#keep(new RegExp(this.string(), this.string()));
      case Tag.Map: {
        const m = new Map();
        refs.push(m);
        for (let n = this.u32(); n > 0; n--) m.set(this.value(), this.value());
        return m;
      }
      case Tag.Set: {
        const s = new Set();
        refs.push(s);
        for (let n = this.u32(); n > 0; n--) s.add(this.value());
        return s;
      }
      case Tag.ArrayBuffer:
        return this.#keep(this.raw());
      case Tag.View: {
        const View = VIEWS[this.bytes[this.at++]!]!;
        // Its place among the references comes before its buffer's.
        const at = refs.push(undefined) - 1;
        const buffer = this.value() as ArrayBuffer;
        const offset = this.u32();
        const length = this.u32();
        return refs[at] = View === DataView
          ? new DataView(buffer, offset, length)
          : new (View as typeof Uint8Array)(
            buffer,
            offset,
            length / (View as typeof Uint8Array).BYTES_PER_ELEMENT,
          );
      }
      case Tag.Object: {
        const o: Record<string, unknown> = {};
        refs.push(o);
        for (let n = this.u32(); n > 0; n--) {
          const key = this.string();
          o[key] = this.value();
        }
        return o;
      }
      default:
        throw new TypeError(`Cannot read a SharedQueue item: unknown tag ${tag}`);
    }
  }

  #keep<T>(value: T): T {
    this.refs.push(value);
    return value;
  }
}

const writer = new Writer();

/**
 * Encodes a value; an empty result stands for `undefined`. Throws what `structuredClone()` throws
 * for it, and a `TypeError` for a Blob or File (see {@linkcode encodeAsync}).
 */
export function encode(encoding: number, value: unknown): Uint8Array {
  return encodeWith(encoding, value, false) as Uint8Array;
}

/** Like {@linkcode encode}, but reads the bytes of a Blob or File asynchronously. */
export function encodeAsync(encoding: number, value: unknown): Uint8Array | Promise<Uint8Array> {
  return encodeWith(encoding, value, true);
}

function encodeWith(
  encoding: number,
  value: unknown,
  wait: boolean,
): Uint8Array | Promise<Uint8Array> {
  if (value === undefined) return EMPTY;
  if (encoding === 1) {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new TypeError(`Cannot put a ${typeof value} into a SharedQueue of JSON`);
    }
    return encoder.encode(text);
  }
  // One writer for every call (encoding never re-enters): its buffer grows once and is reused.
  writer.at = 0;
  writer.seen.clear();
  try {
    writer.value(value);
  } catch (error) {
    if (error !== BAIL) throw error;
    return encodeClone(Tag.Clone, value, wait);
  } finally {
    writer.seen.clear();
  }
  // A copy: the writer's buffer is reused, and the caller may keep the bytes while it waits.
  return writer.bytes.slice(0, writer.at);
}

/** Decodes what {@linkcode encode} made. */
export function decode(encoding: number, bytes: Uint8Array): unknown {
  if (bytes.length === 0) return undefined;
  if (encoding === 1) return JSON.parse(decoder.decode(bytes));
  if (bytes[0] === Tag.Clone) return decodeClone(bytes, 1);
  return new Reader(bytes).value();
}

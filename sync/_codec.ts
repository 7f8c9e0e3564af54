// How SharedQueue turns values into bytes.
//
// "structured" is a small codec of our own for what structured clone keeps: primitives
// (`undefined`, `-0`, `BigInt`), arrays, plain objects (own enumerable string keys, as structured
// clone copies a class instance), `Date`, `RegExp`, `Map`, `Set`, `ArrayBuffer`, typed arrays,
// `DataView`, errors (name, message, stack, cause), and shared or cyclic references. It replaced
// V8's serializer (`node:v8`, Deno's Node-compatible one), which made every worker that imported
// sync/ start 5-15 ms later and took about ten times as long per small object
// (bench/sync_bench.ts, part c). "json" is JSON text: a little cheaper for plain data, lossy
// beyond it.

/** How a {@linkcode SharedQueue} encodes values: see `SharedQueueOptions.encoding`. */
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

const ERRORS: Record<string, ErrorConstructor> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

function cloneError(what: string): DOMException {
  return new DOMException(`Cannot put ${what} into a SharedQueue`, "DataCloneError");
}

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
        throw cloneError(`a ${typeof v}`);
    }
  }

  object(o: object): void {
    const ref = this.seen.get(o);
    if (ref !== undefined) {
      this.byte(Tag.Ref);
      return this.u32(ref);
    }
    this.seen.set(o, this.seen.size);
    if (Array.isArray(o)) {
      this.byte(Tag.Array);
      this.u32(o.length);
      for (let i = 0; i < o.length; i++) this.value(o[i]);
    } else if (o instanceof Date) {
      this.byte(Tag.Date);
      this.f64(o.getTime());
    } else if (o instanceof RegExp) {
      this.byte(Tag.RegExp);
      this.string(o.source);
      this.string(o.flags);
    } else if (o instanceof Map) {
      this.byte(Tag.Map);
      this.u32(o.size);
      for (const [k, v] of o) {
        this.value(k);
        this.value(v);
      }
    } else if (o instanceof Set) {
      this.byte(Tag.Set);
      this.u32(o.size);
      for (const v of o) this.value(v);
    } else if (o instanceof ArrayBuffer) {
      this.byte(Tag.ArrayBuffer);
      this.raw(new Uint8Array(o));
    } else if (ArrayBuffer.isView(o)) {
      if (o.buffer instanceof SharedArrayBuffer) throw cloneError("a view on a SharedArrayBuffer");
      const kind = VIEWS.findIndex((C) => o instanceof C);
      if (kind < 0) throw cloneError(`a ${o.constructor.name}`);
      this.byte(Tag.View);
      this.byte(kind);
      this.raw(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
    } else if (o instanceof Error) {
      this.byte(Tag.Error);
      this.string(o.name in ERRORS ? o.name : "Error");
      this.string(o.message);
      this.value(o.stack);
      this.value("cause" in o ? o.cause : undefined);
    } else if (o instanceof SharedArrayBuffer) {
      throw cloneError("a SharedArrayBuffer (pass it to the task instead)");
    } else if (typeof (o as { then?: unknown }).then === "function" || o instanceof WeakMap) {
      throw cloneError("a promise or a weak collection");
    } else {
      const keys = Object.keys(o);
      this.byte(Tag.Object);
      this.u32(keys.length);
      for (const key of keys) {
        this.string(key);
        this.value((o as Record<string, unknown>)[key]);
      }
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
        const buffer = this.raw();
        return this.#keep(
          View === DataView ? new DataView(buffer) : new (View as typeof Uint8Array)(
            buffer,
            0,
            buffer.byteLength / (View as typeof Uint8Array).BYTES_PER_ELEMENT,
          ),
        );
      }
      case Tag.Error: {
        const name = this.string();
        const error = new (ERRORS[name] ?? Error)(this.string());
        refs.push(error);
        const stack = this.value();
        if (typeof stack === "string") error.stack = stack;
        const cause = this.value();
        if (cause !== undefined) {
          Object.defineProperty(error, "cause", {
            value: cause,
            writable: true,
            configurable: true,
          });
        }
        return error;
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
  // One writer for every call (encoding never re-enters): its buffer grows once and is reused.
  writer.at = 0;
  writer.seen.clear();
  try {
    writer.value(value);
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
  return new Reader(bytes).value();
}

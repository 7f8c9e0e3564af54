// The exact path of SharedQueue's "structured" codec, for every value the fast codec
// (_codec.ts) cannot copy exactly: primitive wrappers, sparse arrays, lone surrogates, errors,
// class instances, resizable buffers, Float16Array, Blob, File, DOMException, and values to refuse.
//
// `structuredClone()` makes the copy, so that what is refused, and the shape of what is kept, are
// Deno's own answers. V8's serializer (`node:v8`, loaded on first use: it costs a worker 10-40 ms)
// turns the copy into bytes. Deno clones Blob, File and DOMException with hooks of its own that
// V8's serializer does not know (it would write `{}`), so these are taken out of the copy first,
// each replaced by an empty ArrayBuffer sent as "transferred" (V8 writes only its number), and
// written before V8's bytes; reading puts them back in the same places.

import type * as V8 from "node:v8";

interface Builtins {
  process: { getBuiltinModule(id: string): unknown };
}

let v8: typeof V8 | undefined;

function loadV8(): typeof V8 {
  return v8 ??= (globalThis as unknown as Builtins).process.getBuiltinModule(
    "node:v8",
  ) as typeof V8;
}

const enum Host {
  Blob,
  File,
  DOMException,
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function refuse(what: string): DOMException {
  return new DOMException(`Cannot put ${what} into a SharedQueue`, "DataCloneError");
}

/**
 * Visits every object of a graph made by structured clone, replacing those that `swap` gives a
 * stand-in for (in objects, arrays, maps, sets and an error's cause).
 */
function swapAll(root: unknown, swap: (o: object) => object | undefined): unknown {
  const seen = new Set<object>();
  const visit = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const stand = swap(v);
    if (stand !== undefined) return stand;
    if (seen.has(v)) return v;
    seen.add(v);
    if (v instanceof Map) {
      let changed = false;
      const entries: [unknown, unknown][] = [];
      for (const [key, value] of v) {
        const k = visit(key), x = visit(value);
        changed ||= k !== key || x !== value;
        entries.push([k, x]);
      }
      if (changed) {
        v.clear();
        for (const [k, x] of entries) v.set(k, x);
      }
    } else if (v instanceof Set) {
      let changed = false;
      const members: unknown[] = [];
      for (const member of v) {
        const m = visit(member);
        changed ||= m !== member;
        members.push(m);
      }
      if (changed) {
        v.clear();
        for (const m of members) v.add(m);
      }
    } else if (v instanceof Error) {
      if (Object.hasOwn(v, "cause")) v.cause = visit(v.cause);
    } else if (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype) {
      const o = v as Record<string, unknown>;
      for (const key of Object.keys(o)) {
        const x = o[key];
        if (typeof x !== "object" || x === null) continue;
        const y = visit(x);
        if (y !== x) o[key] = y;
      }
    }
    return v;
  };
  return visit(root);
}

/** A copy made by structured clone, with the objects V8's serializer cannot carry taken out. */
interface Copy {
  value: unknown;
  hosts: object[];
  stands: ArrayBuffer[];
}

function copyOf(value: unknown): Copy {
  const copy = structuredClone(value);
  const hosts: object[] = [];
  const stands: ArrayBuffer[] = [];
  const found = new Map<object, ArrayBuffer>();
  const swap = (o: object): ArrayBuffer | undefined => {
    if (o instanceof SharedArrayBuffer) {
      throw refuse("a SharedArrayBuffer (pass it to the task instead)");
    }
    if (ArrayBuffer.isView(o)) {
      if (o.buffer instanceof SharedArrayBuffer) throw refuse("a view on a SharedArrayBuffer");
      return undefined;
    }
    if (!(o instanceof Blob || o instanceof DOMException)) {
      if (typeof CryptoKey === "function" && o instanceof CryptoKey) throw refuse("a CryptoKey");
      return undefined;
    }
    let stand = found.get(o);
    if (stand === undefined) {
      stand = new ArrayBuffer(0);
      found.set(o, stand);
      hosts.push(o);
      stands.push(stand);
    }
    return stand;
  };
  return { value: swapAll(copy, swap), hosts, stands };
}

class Out {
  readonly parts: Uint8Array[] = [];
  length = 0;

  add(bytes: Uint8Array): void {
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  u32(n: number): void {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, n, true);
    this.add(bytes);
  }

  f64(n: number): void {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, n, true);
    this.add(bytes);
  }

  string(s: string): void {
    // Names and types of Blobs, and DOMException fields: Deno keeps them well formed.
    const bytes = encoder.encode(s);
    this.u32(bytes.length);
    this.add(bytes);
  }

  join(): Uint8Array {
    const all = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      all.set(part, at);
      at += part.length;
    }
    return all;
  }
}

function write(tag: number, copy: Copy, contents: Uint8Array[]): Uint8Array {
  const out = new Out();
  out.add(Uint8Array.of(tag));
  out.u32(copy.hosts.length);
  let next = 0;
  for (const host of copy.hosts) {
    if (host instanceof DOMException) {
      out.add(Uint8Array.of(Host.DOMException));
      out.string(host.name);
      out.string(host.message);
      out.string(typeof host.stack === "string" ? host.stack : "");
      continue;
    }
    const blob = host as Blob;
    out.add(Uint8Array.of(blob instanceof File ? Host.File : Host.Blob));
    out.string(blob.type);
    if (blob instanceof File) {
      out.string(blob.name);
      out.f64(blob.lastModified);
    }
    const bytes = contents[next++]!;
    out.u32(bytes.length);
    out.add(bytes);
  }
  const serializer = new (loadV8().Serializer)();
  copy.stands.forEach((stand, i) => serializer.transferArrayBuffer(i, stand));
  serializer.writeHeader();
  serializer.writeValue(copy.value);
  out.add(serializer.releaseBuffer());
  return out.join();
}

/**
 * Encodes `value` as `structuredClone(value)` would copy it, behind a first byte `tag`; throws
 * what `structuredClone()` throws. A value holding a Blob needs `wait`, as a Blob's bytes can
 * only be read asynchronously.
 */
export function encodeClone(
  tag: number,
  value: unknown,
  wait: boolean,
): Uint8Array | Promise<Uint8Array> {
  const copy = copyOf(value);
  const blobs = copy.hosts.filter((host): host is Blob => host instanceof Blob);
  if (blobs.length === 0) return write(tag, copy, []);
  if (!wait) {
    throw new TypeError(
      "Cannot put a Blob or File with SharedQueue.putSync() as its bytes can only be read " +
        "asynchronously: use await queue.put()",
    );
  }
  return Promise.all(blobs.map((blob) => blob.bytes())).then((contents) =>
    write(tag, copy, contents)
  );
}

/** Decodes what {@linkcode encodeClone} wrote, from just after its tag. */
export function decodeClone(bytes: Uint8Array, start: number): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = start;
  const u32 = () => {
    const n = view.getUint32(at, true);
    at += 4;
    return n;
  };
  const take = () => {
    const n = u32();
    at += n;
    return bytes.subarray(at - n, at);
  };
  const string = () => decoder.decode(take());
  const hosts = new Map<ArrayBuffer, object>();
  const count = u32();
  const stands: ArrayBuffer[] = [];
  for (let i = 0; i < count; i++) {
    const kind = bytes[at++] as Host;
    let host: object;
    if (kind === Host.DOMException) {
      const name = string(), message = string(), stack = string();
      host = new DOMException(message, name);
      Object.defineProperty(host, "stack", { value: stack, writable: true, configurable: true });
    } else {
      const type = string();
      if (kind === Host.File) {
        const name = string();
        const lastModified = view.getFloat64(at, true);
        at += 8;
        host = new File([take().slice()], name, { type, lastModified });
      } else {
        host = new Blob([take().slice()], { type });
      }
    }
    const stand = new ArrayBuffer(0);
    hosts.set(stand, host);
    stands.push(stand);
  }
  const reader = new (loadV8().Deserializer)(bytes.subarray(at));
  stands.forEach((stand, i) => reader.transferArrayBuffer(i, stand));
  reader.readHeader();
  const value = reader.readValue();
  return hosts.size === 0 ? value : swapAll(value, (o) => hosts.get(o as ArrayBuffer));
}

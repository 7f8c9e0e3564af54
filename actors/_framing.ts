// Messages over a byte stream (the connection between a pool and a worker process). Each frame is
// a 12-byte header (a marker, the body's length, and the length again, inverted) and a
// V8-serialized body, which keeps what structured clone keeps. The header lets a reader tell a
// stream that lost its framing from a slow one: it fails at once instead of waiting for a length
// read from the middle of a message. The body has no checksum: the stream is a private socket, so
// what can go wrong is framing, and a checksum would cost a pass over every byte of large values.

import { DefaultSerializer, deserialize } from "node:v8";

const NO_SHARED_MEMORY =
  "Cannot send a SharedArrayBuffer to another process: a ProcessPoolExecutor worker shares no memory with this one, so a copy of a Lock, a SharedQueue or another sync primitive, or of a typed array on shared memory, would silently stop being shared; use WorkerPoolExecutor";

/**
 * V8's serializer, refusing shared memory: it would throw a bare error for a SharedArrayBuffer
 * and silently copy a typed array on one.
 */
class FrameSerializer extends DefaultSerializer {
  _getSharedArrayBufferId(): number {
    throw new TypeError(NO_SHARED_MEMORY);
  }

  // Called for every typed array and DataView; not in the type declarations.
  _writeHostObject(object: object): void {
    if ((object as ArrayBufferView).buffer instanceof SharedArrayBuffer) {
      throw new TypeError(NO_SHARED_MEMORY);
    }
    (DefaultSerializer.prototype as unknown as HostObjectWriter)._writeHostObject.call(
      this,
      object,
    );
  }
}

interface HostObjectWriter {
  _writeHostObject(object: object): void;
}

function serialize(value: unknown): Uint8Array {
  const serializer = new FrameSerializer();
  serializer.writeHeader();
  serializer.writeValue(value);
  return serializer.releaseBuffer();
}

const MARKER = 0xcf_05_0f_7e;
const HEADER = 12;

/** The stream does not hold frames: the process at the other end cannot be trusted to answer. */
export class CorruptStreamError extends Error {
  override name = "CorruptStreamError";
}

/**
 * Encodes a message as one frame.
 * @throws {DOMException} `DataCloneError` when a value in it cannot be serialized
 * @throws {TypeError} when it holds shared memory, which another process cannot share
 */
export function encodeFrame(message: unknown): Uint8Array {
  let body: Uint8Array;
  try {
    body = serialize(message);
  } catch (error) {
    if (error instanceof TypeError) throw error;
    throw new DOMException(
      error instanceof Error ? error.message : String(error),
      "DataCloneError",
    );
  }
  const frame = new Uint8Array(HEADER + body.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, MARKER, true);
  view.setUint32(4, body.length, true);
  view.setUint32(8, ~body.length >>> 0, true);
  frame.set(body, HEADER);
  return frame;
}

/**
 * Reads frames from a stream and yields the decoded messages. Chunks are kept as they come and
 * copied once, into the frame they complete, so a large message costs its size, not its square.
 * A stream that ends inside a frame just ends: its writer died, and how is told elsewhere.
 * @throws {CorruptStreamError} on a header that is not one or a body that does not decode
 */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let chunks: Uint8Array[] = [];
  let head = 0;
  let buffered = 0;
  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n;) {
      const chunk = chunks[head]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) head++;
      else chunks[head] = chunk.subarray(part);
    }
    if (head === chunks.length) {
      chunks = [];
      head = 0;
    }
    buffered -= n;
    return out;
  };
  let need = -1;
  for await (const chunk of stream) {
    chunks.push(chunk);
    buffered += chunk.length;
    while (true) {
      if (need < 0) {
        if (buffered < HEADER) break;
        const view = new DataView(take(HEADER).buffer);
        const length = view.getUint32(4, true);
        if (view.getUint32(0, true) !== MARKER || view.getUint32(8, true) !== (~length >>> 0)) {
          throw new CorruptStreamError("a frame header is corrupt");
        }
        need = length;
      }
      if (buffered < need) break;
      const body = take(need);
      need = -1;
      let message: unknown;
      try {
        message = deserialize(body);
      } catch (error) {
        throw new CorruptStreamError(`a frame body cannot be decoded: ${String(error)}`);
      }
      yield message;
    }
  }
}

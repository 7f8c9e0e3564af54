// Messages over a byte stream (a subprocess's stdin and stdout): each frame is a 4-byte
// little-endian length and a V8-serialized value, which keeps what structured clone keeps.

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
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length, true);
  frame.set(body, 4);
  return frame;
}

/**
 * Reads frames from a stream and yields the decoded messages. Chunks are kept as they come and
 * copied once, into the frame they complete, so a large message costs its size, not its square.
 */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const chunks: Uint8Array[] = [];
  let buffered = 0;
  const take = (n: number): Uint8Array => {
    const out = new Uint8Array(n);
    for (let filled = 0; filled < n;) {
      const chunk = chunks[0]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(part);
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
        if (buffered < 4) break;
        need = new DataView(take(4).buffer).getUint32(0, true);
      }
      if (buffered < need) break;
      const body = take(need);
      need = -1;
      yield deserialize(body);
    }
  }
}

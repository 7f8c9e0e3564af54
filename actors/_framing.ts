// Messages over a byte stream (the connection between a pool and a worker process). Each frame is
// a 12-byte header (a marker, the body's length, and the length again, inverted) and a
// V8-serialized body, which keeps what structured clone keeps. The header lets a reader tell a
// stream that lost its framing from a slow one: it fails at once instead of waiting for a length
// read from the middle of a message. The body has no checksum: the stream is a private socket, so
// what can go wrong is framing, and a checksum would cost a pass over every byte of large values.

import { v8 } from "./_node_builtin.ts";
import { checkSendable } from "./_unsendable.ts";

const NO_SHARED_MEMORY =
  "Cannot send a SharedArrayBuffer to another process: a ProcessPoolExecutor worker shares no memory with this one, so a copy of a Lock, a SharedQueue or another sync primitive, or of a typed array on shared memory, would silently stop being shared; use WorkerPoolExecutor";

interface HostObjectWriter {
  _writeHostObject(object: object): void;
}

interface Codec {
  serialize(value: unknown): Uint8Array;
  deserialize(bytes: Uint8Array): unknown;
}

let codec: Codec | undefined;

/**
 * Starts loading `node:v8`, which frames need: only a process pool does, so it is not imported
 * with this module (see `_node_builtin.ts`). Called when a process pool is made and as a worker
 * process starts; a frame written or read before it finished loads it at once.
 */
export function preloadFraming(): Promise<void> {
  return v8.preload();
}

function frameCodec(): Codec {
  if (codec !== undefined) return codec;
  const { DefaultSerializer, deserialize } = v8.get();
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
  return codec = {
    serialize(value) {
      const serializer = new FrameSerializer();
      serializer.writeHeader();
      serializer.writeValue(value);
      return serializer.releaseBuffer();
    },
    deserialize,
  };
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
  const { serialize } = frameCodec();
  checkSendable(message, "another process");
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
 * Cuts a byte stream into frames. Chunks are kept as they come and copied once, into the frame
 * they complete, so a large message costs its size, not its square; a chunk is let go as soon as
 * its last byte is taken, so the reader holds at most one frame and one chunk, wherever the
 * chunk boundaries fall.
 */
export class FrameReader {
  /** Chunks not wholly taken yet; the first may be partly taken (a view of its tail). */
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** The body length of the frame being read, or -1 while its header is awaited. */
  #need = -1;

  /** Bytes received and not yet taken into a frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** How many chunks the reader still refers to. */
  get heldChunks(): number {
    return this.#chunks.length;
  }

  /**
   * Adds a chunk and yields the messages of the frames it completes, each decoded when it is
   * reached (a corrupt frame fails after the good ones before it). Read it to the end before the
   * next push.
   * @throws {CorruptStreamError} on a header that is not one or a body that does not decode
   */
  *push(chunk: Uint8Array): Generator<unknown, void, undefined> {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (true) {
      if (this.#need < 0) {
        if (this.#buffered < HEADER) break;
        const view = new DataView(this.#take(HEADER).buffer);
        const length = view.getUint32(4, true);
        if (view.getUint32(0, true) !== MARKER || view.getUint32(8, true) !== (~length >>> 0)) {
          throw new CorruptStreamError("a frame header is corrupt");
        }
        this.#need = length;
      }
      if (this.#buffered < this.#need) break;
      const body = this.#take(this.#need);
      this.#need = -1;
      const { deserialize } = frameCodec();
      let message: unknown;
      try {
        message = deserialize(body);
      } catch (error) {
        throw new CorruptStreamError(`a frame body cannot be decoded: ${String(error)}`);
      }
      yield message;
    }
  }

  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    const chunks = this.#chunks;
    let used = 0;
    for (let filled = 0; filled < n;) {
      const chunk = chunks[used]!;
      const part = Math.min(chunk.length, n - filled);
      out.set(chunk.subarray(0, part), filled);
      filled += part;
      if (part === chunk.length) used++;
      else chunks[used] = chunk.subarray(part);
    }
    // Taken chunks go at once. Only the chunks of one frame are here, and a frame is taken as
    // soon as it is complete, so this moves at most one chunk.
    if (used > 0) chunks.splice(0, used);
    this.#buffered -= n;
    return out;
  }
}

/**
 * Reads frames from a stream and yields the decoded messages (see {@linkcode FrameReader}).
 * A stream that ends inside a frame just ends: its writer died, and how is told elsewhere.
 * @throws {CorruptStreamError} on a header that is not one or a body that does not decode
 */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const reader = new FrameReader();
  for await (const chunk of stream) yield* reader.push(chunk);
}

// Messages over a byte stream (a subprocess's stdin and stdout): each frame is a 4-byte
// little-endian length and a V8-serialized value, which keeps what structured clone keeps.

import { deserialize, serialize } from "node:v8";

/**
 * Encodes a message as one frame.
 * @throws {DOMException} `DataCloneError` when a value in it cannot be serialized
 */
export function encodeFrame(message: unknown): Uint8Array {
  let body: Uint8Array;
  try {
    body = serialize(message);
  } catch (error) {
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

/** Reads frames from a stream and yields the decoded messages. */
export async function* readFrames(stream: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  let buffer = new Uint8Array(0);
  for await (const chunk of stream) {
    const joined = new Uint8Array(buffer.length + chunk.length);
    joined.set(buffer);
    joined.set(chunk, buffer.length);
    buffer = joined;
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = new DataView(buffer.buffer, buffer.byteOffset + offset, 4).getUint32(0, true);
      if (buffer.length - offset - 4 < length) break;
      yield deserialize(buffer.subarray(offset + 4, offset + 4 + length));
      offset += 4 + length;
    }
    buffer = buffer.subarray(offset);
  }
}

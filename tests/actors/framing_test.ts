import assert from "node:assert/strict";
import { CorruptStreamError, encodeFrame, readFrames } from "../../actors/_framing.ts";

function streamOf(...chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return ReadableStream.from(chunks);
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const message of readFrames(stream)) out.push(message);
  return out;
}

Deno.test("readFrames() decodes frames split anywhere across chunks", async () => {
  const bytes = new Uint8Array([
    ...encodeFrame({ a: 1 }),
    ...encodeFrame(new Map([[1, 2n]])),
    ...encodeFrame("x".repeat(1000)),
  ]);
  for (const cut of [1, 5, 12, 13, 40, bytes.length - 1]) {
    const messages = await collect(streamOf(bytes.subarray(0, cut), bytes.subarray(cut)));
    assert.deepEqual(messages, [{ a: 1 }, new Map([[1, 2n]]), "x".repeat(1000)]);
  }
});

Deno.test("readFrames() throws CorruptStreamError on bytes that are not a frame", async () => {
  const text = new TextEncoder().encode("hello from a task\n");
  await assert.rejects(collect(streamOf(text, encodeFrame(1))), CorruptStreamError);
  // Stray bytes between two frames.
  await assert.rejects(
    collect(streamOf(encodeFrame(1), text, encodeFrame(2))),
    CorruptStreamError,
  );
});

Deno.test("readFrames() throws CorruptStreamError on a header whose length check fails", async () => {
  const frame = encodeFrame({ a: 1 });
  new DataView(frame.buffer).setUint32(4, 0x7fff_ffff, true);
  await assert.rejects(collect(streamOf(frame)), CorruptStreamError);
});

Deno.test("readFrames() throws CorruptStreamError on a body that does not decode", async () => {
  const frame = encodeFrame("abcdef");
  frame.fill(0xff, 12);
  await assert.rejects(collect(streamOf(frame)), CorruptStreamError);
});

Deno.test("readFrames() ends quietly on a stream cut inside a frame", async () => {
  const frame = encodeFrame({ a: 1 });
  assert.deepEqual(await collect(streamOf(encodeFrame(7), frame.subarray(0, 9))), [7]);
});

Deno.test("encodeFrame() throws DataCloneError on a value it cannot serialize", () => {
  assert.throws(
    () => encodeFrame({ f: () => 1 }),
    (error: unknown) => error instanceof DOMException && error.name === "DataCloneError",
  );
});

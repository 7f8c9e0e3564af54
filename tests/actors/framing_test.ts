import assert from "node:assert/strict";
import { CorruptStreamError, encodeFrame, FrameReader, readFrames } from "../../actors/_framing.ts";

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

Deno.test("FrameReader holds at most one frame and one chunk when chunk boundaries never meet frame ends", () => {
  // Frames of 12 + 29 bytes cut into chunks of 37 bytes: a frame ends on a chunk boundary only
  // every 37 frames, and the reader must not keep the consumed chunks in between.
  const frame = encodeFrame("x".repeat(25));
  const count = 2_000;
  const stream = new Uint8Array(frame.length * count);
  for (let i = 0; i < count; i++) stream.set(frame, i * frame.length);
  const CHUNK = 37;
  assert.notEqual(frame.length % CHUNK, 0);
  const reader = new FrameReader();
  let received = 0;
  let mostChunks = 0;
  let mostBytes = 0;
  for (let at = 0; at < stream.length; at += CHUNK) {
    for (const message of reader.push(stream.slice(at, at + CHUNK))) {
      assert.equal(message, "x".repeat(25));
      received++;
    }
    mostChunks = Math.max(mostChunks, reader.heldChunks);
    mostBytes = Math.max(mostBytes, reader.bufferedBytes);
  }
  assert.equal(received, count);
  assert.ok(mostChunks <= Math.ceil(frame.length / CHUNK) + 1, `held ${mostChunks} chunks`);
  assert.ok(mostBytes < frame.length + CHUNK, `held ${mostBytes} bytes`);
});

Deno.test("FrameReader lets each chunk of a large frame go once the frame is read", () => {
  const frame = encodeFrame(new Uint8Array(100_000).fill(7));
  const tail = encodeFrame(1);
  const bytes = new Uint8Array([...frame, ...tail.subarray(0, 5)]);
  const reader = new FrameReader();
  let messages: unknown[] = [];
  for (let at = 0; at < bytes.length; at += 1_000) {
    messages = [...messages, ...reader.push(bytes.slice(at, at + 1_000))];
  }
  assert.equal(messages.length, 1);
  assert.equal(reader.heldChunks, 1);
  assert.equal(reader.bufferedBytes, 5);
});

Deno.test("readFrames() yields the good frames of a chunk before a corrupt one", async () => {
  const bad = encodeFrame("abc");
  bad.fill(0xff, 12);
  const seen: unknown[] = [];
  const chunk = new Uint8Array([...encodeFrame(1), ...encodeFrame(2), ...bad]);
  await assert.rejects(async () => {
    for await (const message of readFrames(streamOf(chunk))) seen.push(message);
  }, CorruptStreamError);
  assert.deepEqual(seen, [1, 2]);
});

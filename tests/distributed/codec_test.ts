// Task and outcome bodies: JSON for plain data, V8 serialization for the rest.
import assert from "node:assert/strict";
import { serialize } from "node:v8";
import { decodeBody, encodeBody } from "../../distributed/_codec.ts";

Deno.test("encodeBody() writes plain data as JSON, and decodeBody() reads it back unchanged", () => {
  const body = {
    v: 2,
    id: "1f",
    args: [1, "two", true, null, { n: [0.5, -3] }],
    fn: { name: "x" },
  };
  const bytes = encodeBody(body);
  assert.equal(bytes[0], "{".charCodeAt(0));
  assert.deepEqual(decodeBody(bytes), body);
});

Deno.test("encodeBody() serializes with V8 what JSON would change, and decodeBody() reads it", () => {
  const sparse = [1];
  sparse[2] = 3;
  const values = [
    undefined,
    -0,
    NaN,
    Infinity,
    1n,
    new Date(0),
    new Map([[1, 2]]),
    new Uint8Array([1, 2]),
    sparse,
    { nested: { missing: undefined } },
  ];
  for (const [i, value] of values.entries()) {
    const body = { v: 2, args: [value] };
    const bytes = encodeBody(body);
    assert.equal(bytes[0], 0xff, `V8 for value ${i}`);
    assert.deepEqual(decodeBody(bytes), body);
  }
});

Deno.test("encodeBody() with json false serializes with V8 (a reader of protocol version 1), and decodeBody() reads older V8 bodies", () => {
  const body = { v: 1, ok: true, value: 3 };
  assert.equal(encodeBody(body, false)[0], 0xff);
  assert.deepEqual(decodeBody(serialize(body)), body);
});

Deno.test("encodeBody() refuses, naming it, a value that V8 would send as something else", () => {
  for (
    const [value, type] of [[new Blob(["x"]), "Blob"], [new URL("https://a/"), "URL"]] as const
  ) {
    for (const json of [true, false]) {
      assert.throws(
        () => encodeBody({ v: 2, args: [{ inside: value }] }, json),
        (error: unknown) => {
          assert.ok(error instanceof DOMException);
          assert.equal(error.name, "DataCloneError");
          assert.match(error.message, new RegExp(`Cannot send a ${type} to another process`));
          return true;
        },
      );
    }
  }
});

Deno.test("encodeBody() refuses shared memory with a TypeError, and a Future inside a value with DataCloneError", async () => {
  const { Future } = await import("../../future/mod.ts");
  const { Lock } = await import("../../sync/mod.ts");
  const shared = new SharedArrayBuffer(8);
  for (const value of [shared, new Int32Array(shared), new Lock()]) {
    assert.throws(
      () => encodeBody({ v: 2, args: [value] }),
      (error: unknown) =>
        error instanceof TypeError &&
        /SharedArrayBuffer to a DistributedExecutor worker/.test(error.message),
    );
  }
  const future = new Future<number>();
  future.setResult(1);
  assert.throws(
    () => encodeBody({ v: 2, args: [[future]] }),
    (error: unknown) =>
      error instanceof DOMException && error.name === "DataCloneError" &&
      /Cannot send a Future to another process/.test(error.message),
  );
});

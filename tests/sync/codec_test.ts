import assert from "node:assert/strict";
import { SharedQueue } from "../../mod.ts";

async function roundTrip(value: unknown): Promise<unknown> {
  const queue = new SharedQueue({ maxBytes: 1 << 16 });
  await queue.put(value);
  return await queue.get();
}

Deno.test("SharedQueue structured encoding keeps what structured clone keeps", async () => {
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.self = cyclic;
  const shared = { n: 1 };
  const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const values = [
    0,
    -0,
    2 ** 31,
    -(2 ** 31),
    1.5,
    NaN,
    -Infinity,
    "",
    "héllo wörld 🌍",
    "x".repeat(10_000),
    123456789012345678901234567890n,
    -5n,
    true,
    false,
    null,
    [1, [2, [3]], undefined, "a"],
    { a: 1, b: { c: [new Date(86_400_000)] }, "key with spaces": null },
    new Map<unknown, unknown>([[1, "one"], [{ k: 1 }, new Set([1, "1"])]]),
    new Set([1, 2, 3]),
    /ab+c/gi,
    new Date(0),
    bytes.buffer,
    new Float64Array([1.5, -2.25]),
    new BigInt64Array([1n, -1n]),
    new Int16Array(bytes.buffer, 2, 2),
    new DataView(bytes.buffer, 1, 3),
    new RangeError("bad", { cause: new Error("root") }),
    [shared, shared],
    cyclic,
  ];
  for (const value of values) {
    const copy = await roundTrip(value);
    assert.deepEqual(copy, structuredClone(value), `round trip of ${String(value)}`);
  }
  assert.ok(Object.is(await roundTrip(-0), -0));
  const error = await roundTrip(new TypeError("t")) as TypeError;
  assert.ok(error instanceof TypeError);
  assert.equal(error.message, "t");
  const pair = await roundTrip([shared, shared]) as unknown[];
  assert.equal(pair[0], pair[1], "a shared reference stays shared");
  const loop = await roundTrip(cyclic) as Record<string, unknown>;
  assert.equal(loop.self, loop);
  class Point {
    constructor(public x: number, public y: number) {}
    get sum(): number {
      return this.x + this.y;
    }
  }
  assert.deepEqual(await roundTrip(new Point(1, 2)), { x: 1, y: 2 });
});

Deno.test("SharedQueue structured encoding refuses what structured clone refuses", async () => {
  const queue = new SharedQueue();
  for (const value of [() => 1, Symbol("s"), { f: () => 1 }, new SharedArrayBuffer(4)]) {
    await assert.rejects(queue.put(value), (error: unknown) => {
      assert.ok(error instanceof DOMException);
      assert.equal(error.name, "DataCloneError");
      return true;
    });
  }
  assert.equal(queue.size, 0);
});

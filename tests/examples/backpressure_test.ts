import assert from "node:assert/strict";
import { makeItem } from "../../examples/backpressure_tasks.ts";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

/** FNV-1a over `bytes`, `rounds` times: written out here so the check does not trust the example. */
function fnv(bytes: Uint8Array, rounds: number): number {
  let hash = 0x811c9dc5;
  for (let r = 0; r < rounds; r++) {
    for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}

Deno.test("examples/backpressure.ts bounds the queue by maxQueued, queues all at once without it, and both runs compute the same", async () => {
  const items = 2_000, maxQueued = 8, workers = 2, size = 64, rounds = 3;
  const { code, stdout, stderr } = await runExample(
    "backpressure.ts",
    ...["--items", `${items}`, "--max-queued", `${maxQueued}`, "--workers", `${workers}`],
    ...["--size", `${size}`, "--rounds", `${rounds}`, "--sample-every", "1"],
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^2,000 items of 64 bytes, 3 hash passes each, on 2 workers$/m);

  let checksum = 0;
  for (let i = 0; i < items; i++) checksum = (checksum + fnv(makeItem(i, size), rounds)) >>> 0;

  const rows = tableRows(stdout, "run");
  assert.deepEqual(rows.map((row) => row[0]), [`maxQueued ${maxQueued}`, "unbounded"]);
  const [bounded, unbounded] = rows as [string[], string[]];
  // Tasks that a free worker slot will take at once do not count against maxQueued.
  const boundedPeak = Number(bounded[1]!.replaceAll(",", ""));
  assert.ok(boundedPeak >= 1 && boundedPeak <= maxQueued + workers, `peak ${boundedPeak}`);
  // The unbounded producer never yields: every item was queued before any went to a worker.
  assert.equal(unbounded[1], "2,000");
  for (const row of rows) {
    assert.match(row[2]!, /^[\d.]+ MiB$/);
    assert.match(row[3]!, /^[\d.]+ MiB$/);
    assert.equal(row[5], String(checksum));
    assert.equal(row[6], "0");
  }

  const over = stdout.match(/^maxQueued: (.*)$/m);
  assert.ok(over, stdout);
  for (const point of over[1]!.split(", ")) {
    const queued = Number(point.split(": ")[1]);
    assert.ok(queued <= maxQueued + workers, `sampled ${point}`);
  }
  // Its first sample, before any submit, is taken at once (0 ms, or 1 on a loaded machine).
  assert.match(stdout, /^unbounded: \d+: 0, .*: 2000(, |$)/m);
  assert.match(stderr, /^maxQueued 8 +\[#{24}\] 2000\/2000 /m);
  assert.match(stderr, /^unbounded +\[#{24}\] 2000\/2000 /m);
});

commandLineTests("backpressure.ts", {
  args: ["--max-queued", "0"],
  message:
    /^backpressure\.ts: --max-queued must be a positive integer: received "0" \(see --help\)$/m,
});

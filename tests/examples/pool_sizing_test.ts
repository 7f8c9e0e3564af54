import assert from "node:assert/strict";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

/** The primes below `limit`, by a sieve: not the example's trial division. */
function primesBelow(limit: number): number {
  const composite = new Uint8Array(limit);
  let primes = 0;
  for (let n = 2; n < limit; n++) {
    if (composite[n]) continue;
    primes++;
    for (let m = n * n; m < limit; m += n) composite[m] = 1;
  }
  return primes;
}

Deno.test("examples/pool_sizing.ts runs both workloads on every pool size with the right results", async () => {
  const { code, stdout, stderr } = await runExample(
    "pool_sizing.ts",
    ...["--max", "3", "--io-tasks", "8", "--delay", "5", "--limit", "100000", "--chunks", "6"],
  );
  assert.equal(code, 0, stderr);
  const rows = tableRows(stdout, "workers");
  assert.deepEqual(rows.map((row) => row[0]), ["1", "2", "3"]);
  const primes = primesBelow(100_000).toLocaleString("en");
  for (const row of rows) {
    assert.equal(row[2], "8", `answers with ${row[0]} workers`);
    assert.equal(row[4], primes, `primes with ${row[0]} workers`);
    assert.ok(Number(row[1]!.replaceAll(",", "")) > 0 && Number(row[3]) > 0, row.join(" | "));
  }
  // Each workload has exactly one peak, and the summary names the same sizes as the table.
  const peaks = rows.flatMap((row) =>
    (row[5] ?? "").split(", ").filter(Boolean).map((w) => [w, row[0]])
  );
  assert.deepEqual(peaks.map(([w]) => w).sort(), ["CPU", "I/O"]);
  const peakOf = new Map(peaks as [string, string][]);
  assert.match(
    stdout,
    new RegExp(
      `^I/O throughput peaked at ${peakOf.get("I/O")} workers; CPU throughput at ${
        peakOf.get("CPU")
      }\\.$`,
      "m",
    ),
  );
  assert.match(stderr, /^CPU x3 {3}\[#{24}\] 6\/6 /m);
});

commandLineTests("pool_sizing.ts", {
  args: ["--max", "0"],
  message: /^pool_sizing\.ts: --max must be a positive integer: received "0" \(see --help\)$/m,
});

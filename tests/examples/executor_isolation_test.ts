import assert from "node:assert/strict";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

Deno.test("examples/executor_isolation.ts measures every request of the three phases", async () => {
  const { code, stdout, stderr } = await runExample(
    "executor_isolation.ts",
    ...["--io-tasks", "6", "--interval", "5", "--chunk-ms", "10", "--cpu-workers", "2"],
  );
  assert.equal(code, 0, stderr);
  assert.match(
    stdout,
    /^6 requests per phase, one every 5 ms, answered after 10 ms; CPU chunks of about 10 ms\.$/m,
  );
  const rows = tableRows(stdout, "phase");
  assert.deepEqual(rows.map((row) => row.slice(0, 2)), [["alone", "6"], ["isolated", "6"], [
    "not isolated",
    "6",
  ]]);
  for (const [phase, , p50, p95, max] of rows) {
    assert.ok(Number(p50) > 0 && Number(p50) <= Number(p95) && Number(p95) <= Number(max), phase);
  }
  // Nothing else runs alone; the CPU pool keeps two chunks per worker going (4 at least finish),
  // the shared event loop one at a time.
  const chunks = rows.map((row) => Number(row[5]));
  assert.equal(chunks[0], 0);
  assert.ok(chunks[1]! >= 4, `isolated: ${chunks[1]} chunks`);
  assert.ok(chunks[2]! >= 1, `not isolated: ${chunks[2]} chunks`);
  assert.match(stderr, /^not isolated {3}\[#{24}\] 6\/6 /m);
});

commandLineTests("executor_isolation.ts", {
  args: ["--chunk-ms", "-5"],
  message:
    /^executor_isolation\.ts: --chunk-ms must be a positive integer: received "-5" \(see --help\)$/m,
});

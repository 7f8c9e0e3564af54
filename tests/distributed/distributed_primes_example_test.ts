import assert from "node:assert/strict";
import { runExample } from "../examples/_run.ts";

Deno.test("examples/distributed_primes.ts counts the primes on an embedded server and local workers", async () => {
  const { code, stdout, stderr } = await runExample(
    "distributed_primes.ts",
    ...["--limit", "200000", "--chunks", "8", "--workers", "2", "--json"],
  );
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.primes, 17984);
  assert.equal(report.chunks, 8);
  assert.equal(report.stats.completed, 8);
});

import assert from "node:assert/strict";
import { commandLineTests, runExample } from "./_run.ts";

Deno.test("examples/primes.ts counts the primes on every executor and prints JSON", async () => {
  const { code, stdout, stderr } = await runExample(
    "primes.ts",
    ...["--limit", "200000", "--chunks", "8", "--workers", "2", "--json"],
  );
  assert.equal(code, 0, stderr);
  const report = JSON.parse(stdout);
  assert.equal(report.primes, 17984);
  assert.deepEqual(
    report.runs.map((run: { executor: string; workers: number }) =>
      `${run.executor}/${run.workers}`
    ),
    ["main thread/1", "AsyncPoolExecutor/2", "WorkerPoolExecutor/1", "WorkerPoolExecutor/2"],
  );
  for (const run of report.runs) assert.equal(run.primes, 17984);
});

Deno.test("examples/primes.ts prints a table", async () => {
  const { code, stdout: text, stderr } = await runExample(
    "primes.ts",
    ...["--limit", "100000", "--chunks", "4", "--workers", "1"],
  );
  assert.equal(code, 0, stderr);
  assert.match(text, /Primes below 100,000: 9,592/);
  assert.match(text, /executor\s+workers\s+seconds\s+speedup\s+efficiency/);
  assert.match(text, /WorkerPoolExecutor\s+1\s/);
});

commandLineTests("primes.ts", {
  args: ["--limit", "-3"],
  message: /^primes\.ts: --limit must be a positive integer: received "-3" \(see --help\)$/m,
});

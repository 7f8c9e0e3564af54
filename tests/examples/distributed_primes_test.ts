import assert from "node:assert/strict";

Deno.test("examples/distributed_primes.ts counts the primes on an embedded server and local workers", async () => {
  const script = new URL("../../examples/distributed_primes.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      script.href,
      "--limit",
      "200000",
      "--chunks",
      "8",
      "--workers",
      "2",
      "--json",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const report = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(report.primes, 17984);
  assert.equal(report.chunks, 8);
  assert.equal(report.stats.completed, 8);
});

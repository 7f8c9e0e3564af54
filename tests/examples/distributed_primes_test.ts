import assert from "node:assert/strict";
import { commandLineTests, runExample } from "./_run.ts";

// Its run on an embedded server is in tests/distributed/, with the other tests that need
// nats-server.
commandLineTests("distributed_primes.ts", {
  args: ["--workers", "0"],
  message: /--workers must be a positive integer: received "0"/,
});

Deno.test("examples/distributed_primes.ts refuses --workers with --nats: remote workers are started where they run", async () => {
  const { code, stdout, stderr } = await runExample(
    "distributed_primes.ts",
    ...["--nats", "nats://127.0.0.1:4222", "--workers", "3"],
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    "distributed_primes.ts: --workers starts local workers: it goes without --nats\n",
  );
});

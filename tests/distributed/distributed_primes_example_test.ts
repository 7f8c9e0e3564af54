import assert from "node:assert/strict";
import { runExample } from "../examples/_run.ts";
import { NatsServer } from "../../distributed/_processes.ts";

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

Deno.test("examples/distributed_primes.ts with --nats and no worker says that its tasks wait for workers", async () => {
  const server = await NatsServer.start();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../examples/distributed_primes.ts", import.meta.url).href,
      ...["--nats", server.url, "--limit", "1000"],
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  try {
    let seen = "";
    for await (const text of child.stderr.pipeThrough(new TextDecoderStream())) {
      seen += text;
      if (seen.includes("\n")) break;
    }
    assert.match(
      seen,
      /^No chunk done after 5 s: the tasks wait for workers on the default queue \(start one with: deno run -A \S+\/distributed\/worker\.ts --nats nats:\/\/127\.0\.0\.1:\d+ --modules file:\/\/\S+\/examples\/primes_tasks\.ts\)\n$/,
    );
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await server.destroy();
  }
});

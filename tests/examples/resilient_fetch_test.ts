import assert from "node:assert/strict";
import { commandLineTests, tableRows } from "./_run.ts";

Deno.test("examples/resilient_fetch.ts shows retries, failures and open circuits", async () => {
  const script = new URL("../../examples/resilient_fetch.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.href, "--urls", "4", "--interval", "0"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const text = new TextDecoder().decode(stdout);
  for (let i = 1; i <= 4; i++) {
    assert.match(text, new RegExp(`OK {7}/healthy/${i} \\(1 attempt\\)`));
  }
  assert.match(text, /FAILED {3}\/dead\/1 after 3 attempts: .* answered 500/);
  assert.match(text, /BLOCKED {2}\/dead\/2 by the open circuit of 'dead'/);
  assert.match(text, /circuit 'dead': closed → open/);
  assert.match(text, /Summary: \d+ ok, \d+ failed, \d+ blocked, \d+ requests for 12 URLs/);
  const rows = tableRows(text, "route");
  assert.deepEqual(rows.map((row) => row[0]), ["healthy", "flaky", "dead"]);
  assert.deepEqual(rows[0], ["healthy", "4", "0", "0", "4"]);
  for (const [route, ok, failed, blocked, requests] of rows) {
    // Every URL is counted once; a request is an attempt, and a blocked URL makes none.
    assert.equal(Number(ok) + Number(failed) + Number(blocked), 4, route);
    const lines = text.split("\n").filter((line) => line.includes(` /${route}/`));
    const attempts = lines.map((line) =>
      Number(/after (\d+) attempts?|\((\d+) attempts?\)/.exec(line)?.slice(1).find(Boolean) ?? 0)
    );
    assert.equal(Number(requests), attempts.reduce((a, b) => a + b, 0), route);
  }
});

commandLineTests("resilient_fetch.ts", {
  args: ["--urls", "-3"],
  message:
    /^resilient_fetch\.ts: --urls must be a positive integer: received "-3" \(see --help\)$/m,
});

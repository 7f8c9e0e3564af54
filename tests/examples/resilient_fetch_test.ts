import assert from "node:assert/strict";

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
});

import assert from "node:assert/strict";

// README's distributed sample is marked `ignore` for `deno test --doc` (which cannot skip one
// block when nats-server is missing); it runs here, as written, from a file next to README.md so
// that its relative imports resolve.
Deno.test("README.md's DistributedExecutor sample runs as written", async () => {
  const readme = new URL("../../README.md", import.meta.url);
  const text = await Deno.readTextFile(readme);
  const marker = "// Run as a test by tests/distributed/readme_test.ts";
  const start = text.indexOf(marker);
  assert(start >= 0, "README.md has the marked sample");
  const code = text.slice(start, text.indexOf("\n```", start));
  const file = new URL(`../../.readme_sample_${crypto.randomUUID()}.ts`, import.meta.url);
  await Deno.writeTextFile(file, code);
  try {
    const { code: status, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file.href],
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(status, 0, new TextDecoder().decode(stderr));
  } finally {
    await Deno.remove(file);
  }
});

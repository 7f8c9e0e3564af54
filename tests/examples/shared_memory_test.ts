import assert from "node:assert/strict";
import { runExample } from "./_run.ts";

const run = (...args: string[]) => runExample("shared_memory.ts", ...args);

Deno.test("examples/shared_memory.ts normalises copied and shared, with the same result", async () => {
  const { code, stdout, stderr } = await run("--mb", "2", "--workers", "2");
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^mode\s+MB\s+workers\s+seconds\s+RSS before MB\s+peak RSS MB/m);
  const rows = [
    ...stdout.matchAll(
      /^(copied|shared)\s+2\s+2\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(-?\d+)\s+([\d.-]+)$/gm,
    ),
  ];
  assert.deepEqual(rows.map((row) => row[1]), ["copied", "shared"]);
  assert.equal(rows[0]![6], rows[1]![6], "both ways give the same checksum");
  assert.match(stdout, /same result both ways/);
});

Deno.test("examples/shared_memory.ts --help prints the usage and exits 0", async () => {
  const { code, stdout } = await run("--help");
  assert.equal(code, 0);
  assert.match(stdout, /Usage: .*shared_memory\.ts \[--mb N\] \[--workers W\]/);
});

Deno.test("examples/shared_memory.ts rejects a bad flag with one line and exit code 2", async () => {
  for (const args of [["--mb", "-3"], ["--bogus"]]) {
    const { code, stdout, stderr } = await run(...args);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
});

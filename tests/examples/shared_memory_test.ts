import assert from "node:assert/strict";
import { commandLineTests, runExample } from "./_run.ts";

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
  assert.match(stderr, /^modes \[#{24}\] 2\/2 [\d.]+ s$/m);
});

commandLineTests("shared_memory.ts", {
  args: ["--mb", "-3"],
  message: /^shared_memory\.ts: --mb must be a positive integer: received "-3" \(see --help\)$/m,
});

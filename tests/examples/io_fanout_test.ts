import assert from "node:assert/strict";
import { commandLineTests } from "./_run.ts";

const script = new URL("../../examples/io_fanout.ts", import.meta.url);

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", script.pathname, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

Deno.test("examples/io_fanout.ts fetches the URLs three ways and prints the table", async () => {
  const { code, stdout, stderr } = await run("--n", "4");
  assert.equal(code, 0, stderr);
  assert.match(stdout, /Fetching 4 URLs from http:\/\/127\.0\.0\.1:\d+/);
  assert.match(stdout, /^mode\s+workers\s+seconds\s+speedup$/m);
  const rows = [...stdout.matchAll(/^(sequential|pool)\s+(\d+)\s+([\d.]+)\s+([\d.]+)x$/gm)];
  assert.deepEqual(rows.map((row) => [row[1], row[2]]), [
    ["sequential", "1"],
    ["pool", "10"],
    ["pool", "20"],
  ]);
  const [sequential, pool10, pool20] = rows.map((row) => Number(row[3]));
  // 4 responses of 300 ms: 1.2 s one by one, one round of 0.3 s in a pool.
  assert.ok(sequential! >= 1.2, `sequential took ${sequential} s`);
  assert.ok(pool10! >= 0.25 && pool10! < sequential!, `pool x10 took ${pool10} s`);
  assert.ok(pool20! >= 0.25 && pool20! < sequential!, `pool x20 took ${pool20} s`);
  assert.match(stderr, /^pool\s+x10\s+\[#+\] 4\/4 [\d.]+ s$/m);
  // The three bars start in the same column.
  const bars = stderr.split("\n").filter((line) => line.includes("] 4/4 "));
  assert.equal(bars.length, 3, stderr);
  assert.deepEqual(bars.map((line) => line.indexOf("[")), [16, 16, 16], stderr);
});

commandLineTests("io_fanout.ts", {
  args: ["--n", "zero"],
  message: /^io_fanout\.ts: --n must be a positive integer: received "zero" \(see --help\)$/m,
});

import assert from "node:assert/strict";
import { runExample } from "./_run.ts";

const run = (...args: string[]) => runExample("shared_counter.ts", ...args);

Deno.test("examples/shared_counter.ts counts exactly under a Lock and pipes items between pools", async () => {
  const { code, stdout, stderr } = await run(
    "--workers",
    "3",
    "--increments",
    "2000",
    "--items",
    "500",
  );
  assert.equal(code, 0, stderr);
  const counters = [
    ...stdout.matchAll(
      /^(no lock|Lock|Atomics\.add)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(yes|no)\s+[\d.]+$/gm,
    ),
  ];
  assert.deepEqual(counters.map((row) => row[1]), ["no lock", "Lock", "Atomics.add"]);
  for (const row of counters) {
    assert.deepEqual([row[2], row[3], row[4]], ["3", "2000", "6000"]);
    const got = Number(row[5]);
    // The racy count may come out short (that is the point), never above the total.
    if (row[1] === "no lock") assert.ok(got <= 6000 && got > 0, `no lock got ${got}`);
    else assert.deepEqual([row[5], row[6]], ["6000", "yes"]);
  }
  assert.match(stdout, /^SharedQueue\s+2\s+2\s+500\s+256\s+yes\s+[\d.]+\s+\d+$/m);
});

Deno.test("examples/shared_counter.ts --help prints the usage and exits 0", async () => {
  const { code, stdout } = await run("--help");
  assert.equal(code, 0);
  assert.match(stdout, /Usage: .*shared_counter\.ts/);
  assert.match(stdout, /--increments N/);
});

Deno.test("examples/shared_counter.ts rejects a bad flag with one line and exit code 2", async () => {
  for (const args of [["--workers", "zero"], ["--bogus"]]) {
    const { code, stdout, stderr } = await run(...args);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr.trim().split("\n").length, 1, stderr);
  }
  assert.match(
    (await run("--workers", "zero")).stderr,
    /'--workers' must be a positive integer: received "zero"/,
  );
});

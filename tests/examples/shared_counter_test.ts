import assert from "node:assert/strict";
import { commandLineTests, runExample } from "./_run.ts";

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
  // Each round shows a progress bar on stderr, so a long round is not a silent one; the racy
  // count may end short of the total.
  for (const name of ["no lock", "Lock", "Atomics\\.add"]) {
    assert.match(stderr, new RegExp(`^${name} +\\[[#.]{24}\\] \\d+/6000 [\\d.]+ s$`, "m"));
  }
  assert.match(stderr, /^Lock {8}\[#{24}\] 6000\/6000 /m);
  assert.match(stderr, /^SharedQueue \[#{24}\] 500\/500 /m);
});

commandLineTests("shared_counter.ts", {
  args: ["--workers", "zero"],
  message:
    /^shared_counter\.ts: --workers must be a positive integer: received "zero" \(see --help\)$/m,
});

import assert from "node:assert/strict";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

Deno.test("examples/first_completed.ts keeps the first download, skips a failure and stops the rest", async () => {
  const { code, stdout, stderr } = await runExample(
    "first_completed.ts",
    ...["--delays", "5000,20,200,5000", "--broken", "2"],
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^ +\d+ ms {2}mirror 2 failed \(HTTP 503\); waiting for the others$/m);
  assert.match(stdout, /^ +\d+ ms {2}mirror 3 sent the file \(20480 bytes\): keeping it$/m);
  assert.match(stdout, /^ +\d+ ms {2}stopped mirror 1, mirror 4$/m);
  const rows = tableRows(stdout, "mirror");
  assert.deepEqual(rows.map(([mirror, delay, outcome]) => [mirror, delay, outcome]), [
    ["mirror 1", "5000", "aborted while downloading"],
    ["mirror 2", "20", "failed: HTTP 503"],
    ["mirror 3", "200", "first complete: kept"],
    ["mirror 4", "5000", "aborted while downloading"],
  ]);
  // The servers saw the aborted downloads end early: the abort reached them.
  assert.match(rows[0]![4]!, /^client left after \d+\/20 pieces$/);
  assert.equal(rows[1]![4], "answered 503");
  assert.equal(rows[2]![4], "sent the whole file");
  assert.match(rows[3]![4]!, /^client left after \d+\/20 pieces$/);
});

Deno.test("examples/first_completed.ts says so when no mirror sends the file", async () => {
  const { code, stdout, stderr } = await runExample(
    "first_completed.ts",
    "--delays",
    "10",
    "--broken",
    "1",
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^No mirror sent the file\.$/m);
  assert.deepEqual(tableRows(stdout, "mirror").map((row) => row[2]), ["failed: HTTP 503"]);
});

Deno.test("examples/first_completed.ts refuses a --broken mirror that does not exist", async () => {
  const { code, stdout, stderr } = await runExample(
    "first_completed.ts",
    "--delays",
    "10,20",
    "--broken",
    "3",
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(stderr, "first_completed.ts: --broken must name one of the 2 mirrors: received 3\n");
});

Deno.test("examples/first_completed.ts runs one mirror without --broken (its default names none then)", async () => {
  const { code, stdout } = await runExample("first_completed.ts", "--delays", "10");
  assert.equal(code, 0);
  assert.deepEqual(tableRows(stdout, "mirror").map((row) => row[2]), ["first complete: kept"]);
});

commandLineTests("first_completed.ts", {
  args: ["--delays", "100,x"],
  message:
    /^first_completed\.ts: --delays must be a comma-separated list of integers >= 0: received "100,x" \(see --help\)$/m,
});

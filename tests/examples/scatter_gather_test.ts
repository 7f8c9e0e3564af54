import assert from "node:assert/strict";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

Deno.test("examples/scatter_gather.ts reports every request once, with the outcome the server chose", async () => {
  const { code, stdout, stderr } = await runExample(
    "scatter_gather.ts",
    ...["--requests", "30", "--concurrency", "10", "--timeout", "1000", "--delay", "50"],
    ...["--fail-every", "7", "--hang-every", "5"],
  );
  assert.equal(code, 0, stderr);

  // What the server was told to do: multiples of 7 fail, other multiples of 5 never answer.
  const expected = new Map<number, string>();
  for (let item = 1; item <= 30; item++) {
    expected.set(item, item % 7 === 0 ? "HTTP 503" : item % 5 === 0 ? "timeout" : "ok");
  }

  const lines = [
    ...stdout.matchAll(/^\[\s*(\d+)\/30\] item\s+(\d+): (ok|timeout|HTTP 503)\s+after\s+\d+ ms$/gm),
  ];
  assert.equal(lines.length, 30, stdout);
  assert.deepEqual(
    lines.map((line) => Number(line[1])),
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  const seen = new Map(lines.map((line) => [Number(line[2]), line[3]]));
  assert.deepEqual(seen, expected);

  const rows = new Map(
    tableRows(stdout, "outcome").map(([outcome, n, share]) => [outcome, [n, share]]),
  );
  assert.deepEqual(
    rows,
    new Map([["ok", ["20", "67%"]], ["timeout", ["6", "20%"]], ["HTTP 503", ["4", "13%"]]]),
  );
  assert.match(stdout, /^30 requests, 10 at a time, in [\d.]+ s: 20 ok, 4 failed, 6 timed out\.$/m);
  assert.match(stderr, /^requests \[#{24}\] 30\/30 /m);
});

commandLineTests("scatter_gather.ts", {
  args: ["--timeout", "-3"],
  message:
    /^scatter_gather\.ts: --timeout must be a positive integer: received "-3" \(see --help\)$/m,
});

import assert from "node:assert/strict";
import { generateCsv } from "../../examples/etl_tasks.ts";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

/** The output file the example should write for `csv`, computed here without its code. */
function expectedTotals(csv: string): string {
  const totals = new Map<
    string,
    { sales: number; quantity: number; revenue: number; top: number }
  >();
  for (const line of csv.trim().split("\n").slice(1)) {
    const [, region, quantity, price] = line.split(",");
    const cents = Number(quantity) * Math.round(Number(price) * 100);
    const entry = totals.get(region!) ?? { sales: 0, quantity: 0, revenue: 0, top: 0 };
    entry.sales += 1;
    entry.quantity += Number(quantity);
    entry.revenue += cents;
    entry.top = Math.max(entry.top, cents);
    totals.set(region!, entry);
  }
  const rows = [...totals].sort(([a], [b]) => a.localeCompare(b)).map(([region, t]) =>
    [region, t.sales, t.quantity, (t.revenue / 100).toFixed(2), (t.top / 100).toFixed(2)].join(",")
  );
  return ["region,sales,quantity,revenue,largest_sale", ...rows, ""].join("\n");
}

Deno.test("examples/etl_pipeline.ts writes each file's totals and reports a failed read as DependencyError downstream", async () => {
  const out = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await runExample(
      "etl_pipeline.ts",
      ...["--files", "3", "--rows", "500", "--missing", "1", "--workers", "2", "--out", out],
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^3 files of 500 sales, 1 missing$/m);

    const written = [];
    for await (const entry of Deno.readDir(out)) written.push(entry.name);
    assert.deepEqual(written.sort(), [0, 1, 2].map((f) => `sales-000${f}.totals.csv`));
    for (let f = 0; f < 3; f++) {
      const text = await Deno.readTextFile(`${out}/sales-000${f}.totals.csv`);
      assert.equal(text, expectedTotals(generateCsv(f, 500)), `file ${f}`);
      // Every region has sales: the totals are not empty.
      assert.equal(text.trim().split("\n").length, 6);
    }

    assert.deepEqual(
      tableRows(stdout, "stage").map((row) => row.slice(0, 4)),
      [["read", "async", "4", "1"], ["transform", "2 workers", "3", "0"], [
        "write",
        "async",
        "3",
        "0",
      ]],
    );
    assert.deepEqual(tableRows(stdout, "run").map((row) => row[0]), ["sequential", "pipeline"]);
    assert.match(stdout, new RegExp(`^3 of 4 files written to ${out}; 1 failed:$`, "m"));
    assert.match(
      stdout,
      /^ {2}missing-1\.csv: read failed: NotFound: [^;]*missing-1\.csv'; transform: DependencyError \(cause: NotFound\); write: DependencyError \(cause: DependencyError\)$/m,
    );
    assert.match(stderr, /^pipeline \[#{24}\] 4\/4 /m);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("examples/etl_pipeline.ts removes its temporary folder", async () => {
  const before = new Set<string>();
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  for await (const entry of Deno.readDir(tmp)) before.add(entry.name);
  const { code, stdout, stderr } = await runExample(
    "etl_pipeline.ts",
    "--files",
    "2",
    "--rows",
    "10",
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^2 of 2 files written to a temporary folder; 0 failed\.$/m);
  for await (const entry of Deno.readDir(tmp)) {
    if (entry.name.startsWith("etl_pipeline_")) assert.ok(before.has(entry.name), entry.name);
  }
});

Deno.test("examples/etl_pipeline.ts refuses an --out it cannot make a folder of, in one line with exit code 2", async () => {
  const file = await Deno.makeTempFile();
  try {
    const { code, stdout, stderr } = await runExample("etl_pipeline.ts", "--out", file);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.match(stderr, new RegExp(`^etl_pipeline\\.ts: --out ${file}: .+\n$`));
  } finally {
    await Deno.remove(file);
  }
});

commandLineTests("etl_pipeline.ts", {
  args: ["--missing", "-1"],
  message: /^etl_pipeline\.ts: --missing must be an integer >= 0: received "-1" \(see --help\)$/m,
});

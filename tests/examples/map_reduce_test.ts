import assert from "node:assert/strict";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

Deno.test("examples/map_reduce.ts counts the words of a folder and lists the top ones", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // Word i of `words` appears 13 - i times in all, spread over three files, in mixed case and
    // next to punctuation; "don't" is one word; the .md file is not counted.
    const words = [
      "apple",
      "pear",
      "fig",
      "plum",
      "kiwi",
      "lime",
      "date",
      "yuzu",
      "sloe",
      "quince",
      "lemon",
      "peach",
    ];
    const files: string[][] = [[], [], []];
    words.forEach((word, i) => {
      for (let n = 0; n < 13 - i; n++) {
        files[n % 3]!.push(n % 2 ? word.toUpperCase() + "," : `(${word})`);
      }
    });
    files[0]!.push("don't", "Don't");
    for (const [i, file] of files.entries()) {
      await Deno.writeTextFile(`${dir}/${i}.txt`, file.join(" "));
    }
    await Deno.writeTextFile(`${dir}/notes.md`, "apple apple apple apple apple");

    const expected = new Map(words.map((word, i) => [word, 13 - i]));
    expected.set("don't", 2);
    const total = [...expected.values()].reduce((a, b) => a + b);

    const { code, stdout, stderr } = await runExample(
      "map_reduce.ts",
      "--input",
      dir,
      "--workers",
      "2",
    );
    assert.equal(code, 0, stderr);
    assert.match(
      stdout,
      new RegExp(`^${total} words, ${expected.size} distinct, in 3 files$`, "m"),
    );
    const top = [...expected].sort(([a, m], [b, n]) => n - m || a.localeCompare(b)).slice(0, 10);
    assert.deepEqual(
      tableRows(stdout, "rank"),
      top.map((
        [word, n],
        i,
      ) => [String(i + 1), word, String(n), `${((n / total) * 100).toFixed(2)}%`]),
    );
    assert.deepEqual(tableRows(stdout, "count on").map((row) => row[0]), [
      "main thread",
      "2 workers",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/map_reduce.ts generates its files and counts them on both sides", async () => {
  const { code, stdout, stderr } = await runExample(
    "map_reduce.ts",
    "--files",
    "6",
    "--words",
    "500",
    "--top",
    "3",
  );
  assert.equal(code, 0, stderr);
  assert.match(stdout, /^3,000 words, [\d,]+ distinct, in 6 files$/m);
  const top = tableRows(stdout, "rank");
  assert.equal(top.length, 3);
  const counts = top.map((row) => Number(row[2]));
  assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
  assert.match(stderr, /^2 workers {3}\[#{24}\] 6\/6 /m);
});

commandLineTests("map_reduce.ts", {
  args: ["--files", "many"],
  message: /^map_reduce\.ts: --files must be a positive integer: received "many" \(see --help\)$/m,
});

Deno.test("examples/map_reduce.ts refuses an --input that is not a folder in one line with exit code 2", async () => {
  const file = await Deno.makeTempFile();
  try {
    const { code, stdout, stderr } = await runExample("map_reduce.ts", "--input", file);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr, `map_reduce.ts: --input ${file}: not a folder\n`);
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("examples/map_reduce.ts says there is nothing to count in a folder without .txt files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.md`, "not counted");
    const { code, stdout, stderr } = await runExample("map_reduce.ts", "--input", dir);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, `No .txt files in ${dir}: nothing to count.\n`);
    assert.equal(stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

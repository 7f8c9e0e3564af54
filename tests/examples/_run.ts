import assert from "node:assert/strict";

/** What an example printed and how it ended. */
export interface Output {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `examples/<name>` in a subprocess with `-A` and the given arguments. */
export async function runExample(name: string, ...args: string[]): Promise<Output> {
  const script = new URL(`../../examples/${name}`, import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.href, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

/**
 * Registers the command-line tests every example shares: `--help` and `-h` print the usage on
 * stdout (with no empty "(default )") and exit 0; an unknown flag, and `badValue`, print one line on stderr and exit 2.
 */
export function commandLineTests(
  name: string,
  badValue: { args: string[]; message: RegExp },
): void {
  Deno.test(`examples/${name} --help prints the usage and exits 0`, async () => {
    for (const flag of ["--help", "-h"]) {
      const { code, stdout, stderr } = await runExample(name, flag);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, "");
      assert.match(stdout, new RegExp(`^Usage:\\ndeno run -A examples/${name} \\[options\\]\\n`));
      assert.match(stdout, /^ {2}-h, --help +show this help$/m);
      // A flag without a default shows none, rather than an empty "(default )".
      assert.doesNotMatch(stdout, /\(default \)/);
    }
  });

  Deno.test(`examples/${name} refuses an unknown flag in one line with exit code 2`, async () => {
    const { code, stdout, stderr } = await runExample(name, "--no-such-flag");
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr, `${name}: unknown option '--no-such-flag' (see --help)\n`);
  });

  Deno.test(`examples/${name} refuses ${badValue.args.join(" ")} in one line with exit code 2`, async () => {
    const { code, stdout, stderr } = await runExample(name, ...badValue.args);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr.split("\n").length, 2, stderr);
    assert.match(stderr, badValue.message);
  });
}

/** The rows of a table printed by `table()` under the header that starts with `first`. */
export function tableRows(text: string, first: string): string[][] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.startsWith(`${first} `) || line === first);
  assert.ok(start >= 0, `no table starting with '${first}' in:\n${text}`);
  const rows: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") break;
    rows.push(line.trim().split(/\s{2,}/));
  }
  return rows;
}

import assert from "node:assert/strict";
import { parseFlags, Progress, table, usage, UsageError } from "../../examples/_cli.ts";

const command = {
  name: "demo.ts",
  summary: "A demo.",
  flags: {
    n: { type: "integer", min: 1, default: 20, help: "how many" },
    rate: { type: "number", min: 0, max: 1, default: 0.5, help: "a share" },
    delays: { type: "integers", min: 0, default: [1, 2], arg: "MS,…", help: "delays" },
    mode: { type: "string", default: "a", choices: ["a", "b"], help: "a mode" },
    json: { type: "boolean", help: "JSON" },
  },
} as const;

Deno.test("parseFlags() gives the defaults, typed", () => {
  const values = parseFlags(command, [])!;
  assert.deepEqual(values, { n: 20, rate: 0.5, delays: [1, 2], mode: "a", json: false });
});

Deno.test("parseFlags() converts and checks every kind of value", () => {
  const values = parseFlags(command, [
    "--n",
    "3",
    "--rate=0.25",
    "--delays",
    "5,0,7",
    "--mode",
    "b",
    "--json",
  ])!;
  assert.deepEqual(values, { n: 3, rate: 0.25, delays: [5, 0, 7], mode: "b", json: true });
});

Deno.test("parseFlags() returns undefined for --help and -h", () => {
  assert.equal(parseFlags(command, ["--help"]), undefined);
  assert.equal(parseFlags(command, ["--n", "3", "-h"]), undefined);
});

Deno.test("parseFlags() takes a negative number as a value and refuses it by name", () => {
  assert.throws(() => parseFlags(command, ["--n", "-3"]), {
    name: "UsageError",
    message: `--n must be a positive integer: received "-3"`,
  });
});

Deno.test("parseFlags() refuses bad values with one line naming the flag and the value", () => {
  const cases: [string[], string][] = [
    [["--n", "2.5"], `--n must be a positive integer: received "2.5"`],
    [["--n", ""], `--n must be a positive integer: received ""`],
    [["--rate", "2"], `--rate must be a number between 0 and 1: received "2"`],
    [
      ["--delays", "1,x"],
      `--delays must be a comma-separated list of integers >= 0: received "1,x"`,
    ],
    [["--mode", "c"], `--mode must be one of a, b: received "c"`],
    [["--nope"], `unknown option '--nope'`],
    [["-x"], `unknown option '-x'`],
    [["--n"], `option '--n <value>' argument missing`],
    [["--json=1"], `option '--json' does not take an argument`],
    [["extra"], `unexpected argument 'extra'`],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseFlags(command, args), (error: unknown) => {
      assert.ok(error instanceof UsageError, String(error));
      assert.equal(error.message, message);
      assert.ok(!error.message.includes("\n"));
      return true;
    }, args.join(" "));
  }
});

Deno.test("usage() starts with the command to run and lists every flag with its default", () => {
  const text = usage(command);
  assert.match(text, /^Usage:\ndeno run -A examples\/demo\.ts \[options\]\n\nA demo\.\n/);
  assert.match(text, /^ {2}--n N +how many \(default 20\)$/m);
  assert.match(text, /^ {2}--delays MS,… +delays \(default 1,2\)$/m);
  assert.match(text, /^ {2}--json +JSON$/m);
  assert.match(text, /^ {2}-h, --help +show this help$/m);
});

Deno.test("usage() shows no default for a flag whose default is empty", () => {
  const text = usage({
    name: "demo.ts",
    summary: "A demo.",
    flags: {
      input: { type: "string", default: "", arg: "DIR", help: "read DIR instead" },
      delays: { type: "integers", default: [], arg: "MS,…", help: "delays" },
    },
  });
  assert.doesNotMatch(text, /\(default/);
  assert.match(text, /^ {2}--input DIR +read DIR instead$/m);
  assert.match(text, /^ {2}--delays MS,… +delays$/m);
});

Deno.test("table() aligns text left and numbers right under the header", () => {
  const text = table(["name", "count", "share"], [["apple", 1200, "61.5%"], ["fig", 7, "0.4%"]]);
  assert.equal(
    text,
    [
      "name   count  share",
      "apple   1200  61.5%",
      "fig        7   0.4%",
    ].join("\n"),
  );
});

Deno.test("Progress writes only its final line when stderr is not a terminal", () => {
  const written: string[] = [];
  const bar = new Progress("work", 3, { live: false, write: (text) => written.push(text) });
  bar.tick();
  assert.deepEqual(written, []);
  bar.tick(5);
  assert.equal(bar.done, 3);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^work \[#{24}\] 3\/3 \d+\.\d s\n$/);
});

Deno.test("Progress redraws in place on a terminal and ends the line when done", () => {
  const written: string[] = [];
  const bar = new Progress("work", 2, { live: true, write: (text) => written.push(text) });
  const clear = "\r\x1b[2K";
  assert.ok(written[0]!.startsWith(`${clear}work [${".".repeat(24)}] 0/2 `), written[0]);
  bar.tick(2);
  const last = written.at(-1)!;
  assert.ok(last.startsWith(clear), last);
  assert.match(last.slice(clear.length), /^work \[#{24}\] 2\/2 \d+\.\d s\n$/);
});

Deno.test("Progress.end() writes the line as it stands once, for work that stopped early", () => {
  const written: string[] = [];
  const bar = new Progress("work", 4, { live: false, write: (text) => written.push(text) });
  bar.tick();
  bar.end();
  bar.end();
  bar.tick(3);
  assert.equal(written.length, 1);
  assert.match(written[0]!, /^work \[#{6}\.{18}\] 1\/4 \d+\.\d s\n$/);
});

Deno.test({
  name: "tempDir() removes its directory when the program is stopped by SIGINT or SIGTERM",
  ignore: Deno.build.os === "windows",
  fn: async () => {
    const { firstLine } = await import("../_programs.ts");
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const program = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", new URL("../fixtures/scripts/temp_dir.ts", import.meta.url).href],
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const path = (await firstLine(program)).trim();
      assert.equal(Deno.statSync(`${path}/data`).isFile, true);
      program.kill(signal);
      // A signal skips `finally`: the examples left their generated data behind.
      assert.equal((await program.status).code, 130, signal);
      assert.throws(() => Deno.statSync(path), Deno.errors.NotFound, signal);
    }
  },
});

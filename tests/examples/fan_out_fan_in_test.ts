import assert from "node:assert/strict";
import zlib from "node:zlib";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

Deno.test("examples/fan_out_fan_in.ts gives the CRC-32 that zlib gives, in one pass and from slices", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // 2.5 MiB that are not a whole number of slices: the last slice is short.
    const data = new Uint8Array(2.5 * 1024 * 1024);
    for (let i = 0; i < data.length; i += 65536) {
      crypto.getRandomValues(data.subarray(i, i + 65536));
    }
    const path = `${dir}/input.bin`;
    await Deno.writeFile(path, data);
    const expected = `0x${(zlib.crc32(data) >>> 0).toString(16).padStart(8, "0")}`;

    const { code, stdout, stderr } = await runExample(
      "fan_out_fan_in.ts",
      "--file",
      path,
      "--slice",
      "192",
      "--workers",
      "2",
    );
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`^CRC-32 in one pass: +${expected}$`, "m"));
    // ceil(2560 KiB / 192 KiB) = 14 slices.
    assert.match(stdout, new RegExp(`^CRC-32 from 14 slices: +${expected} \\(match\\)$`, "m"));
    const rows = tableRows(stdout, "mode");
    assert.deepEqual(rows.map((row) => row.slice(0, 3)), [["one pass", "1", "1"], [
      "fan-out/in",
      "2",
      "14",
    ]]);
    assert.match(stderr, /^fan-out\/in \[#+\] 14\/14 /m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("examples/fan_out_fan_in.ts generates a file, checksums it both ways and removes it", async () => {
  const { code, stdout, stderr } = await runExample("fan_out_fan_in.ts", "--size", "3");
  assert.equal(code, 0, stderr);
  const [, dir] = /^CRC-32 of (.*)\/data\.bin \(3\.0 MiB\)$/m.exec(stdout)!;
  const crcs = [...stdout.matchAll(/^CRC-32 (?:in one pass|from 3 slices): +(0x[0-9a-f]{8})/gm)];
  assert.equal(crcs.length, 2, stdout);
  assert.equal(crcs[0]![1], crcs[1]![1]);
  await assert.rejects(Deno.stat(dir!), Deno.errors.NotFound);
});

commandLineTests("fan_out_fan_in.ts", {
  args: ["--slice", "0"],
  message: /^fan_out_fan_in\.ts: --slice must be a positive integer: received "0" \(see --help\)$/m,
});

Deno.test("examples/fan_out_fan_in.ts refuses a missing --file in one line with exit code 2", async () => {
  const { code, stdout, stderr } = await runExample(
    "fan_out_fan_in.ts",
    "--file",
    "/no/such/file.bin",
  );
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.match(stderr, /^fan_out_fan_in\.ts: --file \/no\/such\/file\.bin: .*\n$/);
});

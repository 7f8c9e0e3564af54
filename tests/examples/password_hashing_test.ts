import assert from "node:assert/strict";
import { pbkdf2Sync } from "node:crypto";
import { commandLineTests, runExample, tableRows } from "./_run.ts";

Deno.test("examples/password_hashing.ts gives the PBKDF2 hashes in all five modes", async () => {
  const passwords = 12;
  const iterations = 500;
  const { code, stdout, stderr } = await runExample(
    "password_hashing.ts",
    ...["--passwords", String(passwords), "--iterations", String(iterations), "--workers", "2"],
  );
  assert.equal(code, 0, stderr);

  const hashes = Array.from(
    { length: passwords },
    (_, i) => pbkdf2Sync(`password-${i}`, `salt-${i}`, iterations, 32, "sha256").toString("hex"),
  );
  assert.match(stdout, new RegExp(`^password-0 with salt-0: ${hashes[0]}$`, "m"));
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(hashes.join("\n"))),
  );
  const digestHex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.match(stdout, new RegExp(`^SHA-256 of all hashes, one per line: ${digestHex}$`, "m"));
  assert.match(stdout, /^All five modes gave the same hashes\.$/m);

  const rows = tableRows(stdout, "mode");
  assert.deepEqual(rows.map((row) => row.slice(0, 2)), [
    ["main, one by one", "crypto.subtle"],
    ["main, all at once", "crypto.subtle"],
    ["2 workers", "crypto.subtle"],
    ["main, blocking", "pbkdf2Sync"],
    ["2 workers", "pbkdf2Sync"],
  ]);
  for (const row of rows) assert.equal(row.length, 5, row.join(" | "));
  assert.equal((stderr.match(/\] 12\/12 /g) ?? []).length, 5, stderr);
});

commandLineTests("password_hashing.ts", {
  args: ["--iterations", "0"],
  message:
    /^password_hashing\.ts: --iterations must be a positive integer: received "0" \(see --help\)$/m,
});

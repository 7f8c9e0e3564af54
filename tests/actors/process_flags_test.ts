import assert from "node:assert/strict";
import { grantFlags, permissionFlags, resolutionFlags } from "../../actors/_process_flags.ts";

Deno.test("resolutionFlags() keeps the flags that decide module loading, with their values", () => {
  assert.deepEqual(
    resolutionFlags([
      "deno",
      "run",
      "-A",
      "--config",
      "app.json",
      "--location",
      "https://x.test/",
      "--import-map=map.json",
      "--lock",
      "app.lock",
      "--cached-only",
      "--no-remote",
      "--unstable-kv",
      "--v8-flags=--max-old-space-size=100",
      "main.ts",
      "--config",
      "script-arg.json",
    ]),
    [
      "--config",
      "app.json",
      "--import-map=map.json",
      "--lock",
      "app.lock",
      "--cached-only",
      "--no-remote",
      "--unstable-kv",
    ],
  );
});

Deno.test("resolutionFlags() reads `deno main.ts`, `deno test`, and stops at the script", () => {
  assert.deepEqual(resolutionFlags(["deno", "--no-lock", "main.ts", "--no-remote"]), ["--no-lock"]);
  assert.deepEqual(resolutionFlags(["deno", "test", "-A", "-c", "d.json", "t_test.ts"]), [
    "-c",
    "d.json",
  ]);
  assert.deepEqual(resolutionFlags(["deno", "run", "--lock", "main.ts"]), ["--lock"]);
  assert.deepEqual(resolutionFlags([]), []);
});

Deno.test("permissionFlags() always lets the child reach its pool's port", () => {
  const pool = "127.0.0.1:4100";
  assert.deepEqual(permissionFlags("none", pool), [`--allow-net=${pool}`]);
  assert.deepEqual(permissionFlags({ net: ["example.com"], read: ["/data"] }, pool), [
    "--allow-read=/data",
    `--allow-net=example.com,${pool}`,
  ]);
  assert.ok(permissionFlags({ net: true }, pool).includes("--allow-net"));
});

Deno.test("grantFlags() reads partial grants and denials up to the script", () => {
  const grants = grantFlags([
    "deno",
    "run",
    "--allow-read=/tmp,/data",
    "-N=example.com:443",
    "--allow-env",
    "-R=/srv",
    "--deny-read=/tmp/secret",
    "--deny-env",
    "--config",
    "--allow-write=/not-a-flag",
    "main.ts",
    "--allow-write=/an-argument",
  ]);
  assert.deepEqual(Object.fromEntries(grants.allow), {
    read: ["/tmp", "/data", "/srv"],
    net: ["example.com:443"],
  });
  assert.deepEqual(grants.deny, ["--deny-read=/tmp/secret", "--deny-env"]);
});

Deno.test("permissionFlags() reads the command line only for a permission not held in full", () => {
  // This test runs with -A: every permission is held in full, with no exceptions.
  let reads = 0;
  const flags = permissionFlags(undefined, "127.0.0.1:4100", () => {
    reads++;
    return [];
  });
  assert.equal(reads, 0);
  assert.ok(flags.includes("--allow-read") && flags.includes("--allow-net"));
});

import assert from "node:assert/strict";
import { permissionFlags, resolutionFlags } from "../../actors/_process_flags.ts";

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

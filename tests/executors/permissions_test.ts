import assert from "node:assert/strict";
import { runDeno, SCRIPTS } from "./_worker_helpers.ts";

const SCRIPT = new URL("needs_permissions.ts", SCRIPTS).pathname;
// The worker's module graph and the fixtures (whose tasks.ts imports the whole package).
const ROOT = new URL("../../", import.meta.url).pathname;

Deno.test("WorkerPoolExecutor() without read access throws one error naming --allow-read", async () => {
  const run = await runDeno(["run", "--no-prompt", SCRIPT, "worker"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout.trim(),
    /^NotCapable: Cannot create WorkerPoolExecutor as the program lacks read access to \S*\/actors\/, \S*\/future\/, \S*tasks\.ts: run it with --allow-read=\S*\/actors\/,\S*\/future\/,\S*tasks\.ts /,
  );
  assert.doesNotMatch(run.stderr, /Requires read access/);
  // The paths it names do not cover what the modules import (tasks.ts imports the package's
  // mod.ts): it says so, with the package's own directory, which is enough here.
  const hint =
    /the local files those modules import need read access too: --allow-read=(\S+) covers this package's$/
      .exec(run.stdout.trim());
  assert.ok(hint, run.stdout);
  assert.equal(hint[1], ROOT);
  const granted = await runDeno([
    "run",
    "--no-prompt",
    `--allow-read=${hint[1]}`,
    SCRIPT,
    "worker",
  ]);
  assert.equal(granted.stdout.trim(), "ok 42", granted.stderr);
});

Deno.test("ProcessPoolExecutor() without run access throws one error naming --allow-run", async () => {
  const run = await runDeno([
    "run",
    "--no-prompt",
    "--allow-read",
    "--allow-net=127.0.0.1",
    SCRIPT,
    "process",
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout.trim(),
    /^NotCapable: Cannot create ProcessPoolExecutor as the program lacks permission to run Deno subprocesses: run it with --allow-run=\S+deno/,
  );
  const neither = await runDeno(["run", "--no-prompt", "--allow-read", SCRIPT, "process"]);
  assert.match(
    neither.stdout.trim(),
    /^NotCapable: Cannot create ProcessPoolExecutor as the program lacks permission to run Deno subprocesses and permission to listen on 127\.0\.0\.1 for its processes to connect: run it with --allow-run=\S+deno --allow-net=127\.0\.0\.1 /,
  );
});

Deno.test("spawn() without read access rejects with one error naming --allow-read", async () => {
  const run = await runDeno(["run", "--no-prompt", SCRIPT, "spawn"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(
    run.stdout.trim(),
    /^NotCapable: Cannot spawn an actor as the program lacks read access to \S*\/actors\/, \S*\/future\/, \S*counter\.ts: run it with --allow-read=/,
  );
  const granted = await runDeno([
    "run",
    "--no-prompt",
    `--allow-read=${ROOT}`,
    SCRIPT,
    "spawn",
  ]);
  assert.equal(granted.stdout.trim(), "ok 42", granted.stderr);
});

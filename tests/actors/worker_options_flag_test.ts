import assert from "node:assert/strict";
import {
  checkWorkerOptionsFlag,
  type ProcessView,
  workerOptionsFlag,
} from "../../actors/_worker_options_flag.ts";

const ENABLED = `{ "unstable": ["kv", "worker-options"] }`;

function view(args: string[] | undefined, files: Record<string, string>, cwd = "/p/app") {
  return { args, cwd, read: (path: string) => files[path] } satisfies ProcessView;
}

Deno.test("workerOptionsFlag() reads the flag from the command line", () => {
  assert.equal(
    workerOptionsFlag(view(["deno", "run", "--unstable-worker-options", "m.ts"], {})),
    true,
  );
  assert.equal(workerOptionsFlag(view(["deno", "run", "-A", "m.ts"], {})), false);
});

Deno.test("workerOptionsFlag() reads the deno.json in effect: found upwards, named, or none", () => {
  const files = { "/p/deno.json": ENABLED, "/other.json": "{}" };
  assert.equal(workerOptionsFlag(view(["deno", "run", "m.ts"], files)), true);
  assert.equal(
    workerOptionsFlag(view(["deno", "run", "--config=/other.json", "m.ts"], files)),
    false,
  );
  assert.equal(workerOptionsFlag(view(["deno", "run", "-c", "/p/deno.json", "m.ts"], files)), true);
  assert.equal(workerOptionsFlag(view(["deno", "run", "--no-config", "m.ts"], files)), false);
});

Deno.test("workerOptionsFlag() without the command line: deno.json can say yes, nothing says no", () => {
  assert.equal(workerOptionsFlag(view(undefined, { "/p/deno.jsonc": ENABLED })), true);
  assert.equal(workerOptionsFlag(view(undefined, { "/p/deno.json": "{}" })), undefined);
  assert.equal(workerOptionsFlag(view(undefined, {})), undefined);
  const windows = view(undefined, { "C:\\work/deno.json": ENABLED }, "C:\\work\\app");
  assert.equal(workerOptionsFlag(windows), true);
  assert.equal(workerOptionsFlag(view(undefined, {}, "C:\\work\\app")), undefined);
});

Deno.test("checkWorkerOptionsFlag() refuses, saying what to do, when the flag is off or cannot be seen", () => {
  assert.doesNotThrow(() =>
    checkWorkerOptionsFlag("create pool", view(["deno", "--unstable-worker-options", "m.ts"], {}))
  );
  assert.throws(
    () => checkWorkerOptionsFlag("create pool", view(["deno", "m.ts"], {})),
    /^Error: Cannot create pool with 'permissions': Deno needs the --unstable-worker-options flag .* exit code 70$/,
  );
  assert.throws(
    () => checkWorkerOptionsFlag("create pool", view(undefined, {})),
    /cannot be read on \w+, so put the setting in deno\.json, which can$/,
  );
});

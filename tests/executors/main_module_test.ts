// Tasks exported from the program's own main module, run as `deno run -A script.ts`.

import assert from "node:assert/strict";

async function runScript(kind: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = new URL("../fixtures/scripts/main_module_tasks.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.href, kind],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

for (const [kind, name] of [["worker", "WorkerPoolExecutor"], ["process", "ProcessPoolExecutor"]]) {
  Deno.test(`${name}() runs tasks exported from a main module that awaits at top level`, async () => {
    const { code, stdout, stderr } = await runScript(kind!);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.deepEqual(out.mapped, [11, 21, 31]);
    assert.equal(out.local, 1.5);
    assert.match(out.refused, /^TypeError: Cannot run 'usesHelper' .* uses 'scale' from outside/);
  });
}

// asCompleted() and map() let go of what they yielded (CPython's test for its issue 14406), run
// in a subprocess with a garbage collector the script can call.

import assert from "node:assert/strict";

Deno.test("asCompleted() and Executor.map() keep no reference to what they yielded last", async () => {
  const script = new URL("../fixtures/scripts/gc_references.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--v8-flags=--expose-gc", script.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  assert.equal(code, 0, decoder.decode(stderr));
  assert.deepEqual(JSON.parse(decoder.decode(stdout)), { asCompleted: true, map: true });
});

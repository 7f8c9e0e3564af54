import assert from "node:assert/strict";
import { commandLineTests, runExample } from "./_run.ts";

const run = (...args: string[]) => runExample("progress.ts", ...args);

/** The result row: executor, MiB, progress calls, questions, stopped, checksum. */
function row(stdout: string): string[] {
  assert.match(
    stdout,
    /^executor\s+MiB\s+progress calls\s+questions\s+stopped\s+checksum\s+seconds$/m,
  );
  const line = stdout.trim().split("\n").at(-1)!;
  return line.trim().split(/\s+/).slice(0, 6);
}

for (const executor of ["thread", "process", "async"]) {
  Deno.test(`examples/progress.ts reports every MiB and asks the caller (${executor})`, async () => {
    const { code, stdout, stderr } = await run("--executor", executor, "--mib", "8");
    assert.equal(code, 0, stderr);
    // 8 progress calls; questions after MiB 4 only (none after the last one).
    assert.deepEqual(row(stdout).slice(0, 5), [executor, "8", "8", "1", "no"]);
    assert.match(stderr, /^MiB \[#{24}\] 8\/8 [\d.]+ s$/m);
  });
}

Deno.test("examples/progress.ts stops when the caller says so, with the same checksum", async () => {
  const stopped = await run("--executor", "thread", "--mib", "16", "--stop-at", "8");
  assert.equal(stopped.code, 0, stopped.stderr);
  const [, mib, calls, questions, wasStopped, hash] = row(stopped.stdout);
  assert.deepEqual([mib, calls, questions, wasStopped], ["8", "8", "2", "yes"]);
  // The bar ends where the work stopped.
  assert.match(stopped.stderr, /^MiB \[#{12}\.{12}\] 8\/16 [\d.]+ s$/m);
  const whole = await run("--executor", "async", "--mib", "8");
  assert.equal(row(whole.stdout)[5], hash);
});

commandLineTests("progress.ts", {
  args: ["--mib", "-3"],
  message: /^progress\.ts: --mib must be a positive integer: received "-3" \(see --help\)$/m,
});

Deno.test("examples/progress.ts refuses an unknown --executor in the shared format", async () => {
  const { code, stdout, stderr } = await run("--executor", "gpu");
  assert.equal(code, 2);
  assert.equal(stdout, "");
  assert.equal(
    stderr,
    `progress.ts: --executor must be one of thread, process, async: received "gpu" (see --help)\n`,
  );
});

import assert from "node:assert/strict";

const script = new URL("../../examples/progress.ts", import.meta.url);

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", script.pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const decoder = new TextDecoder();
  return { code, stdout: decoder.decode(stdout), stderr: decoder.decode(stderr) };
}

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
    assert.match(stderr, /\[#{30}\] 8\/8 MiB/);
  });
}

Deno.test("examples/progress.ts stops when the caller says so, with the same checksum", async () => {
  const stopped = await run("--executor", "thread", "--mib", "16", "--stop-at", "8");
  assert.equal(stopped.code, 0, stopped.stderr);
  const [, mib, calls, questions, wasStopped, hash] = row(stopped.stdout);
  assert.deepEqual([mib, calls, questions, wasStopped], ["8", "8", "2", "yes"]);
  const whole = await run("--executor", "async", "--mib", "8");
  assert.equal(row(whole.stdout)[5], hash);
});

Deno.test("examples/progress.ts --help prints the usage and exits 0", async () => {
  const { code, stdout } = await run("--help");
  assert.equal(code, 0);
  assert.match(stdout, /Usage: .*progress\.ts/);
  assert.match(stdout, /--stop-at N/);
});

Deno.test("examples/progress.ts refuses a bad --mib by name", async () => {
  const { code, stderr } = await run("--mib", "0");
  assert.equal(code, 2);
  assert.match(stderr, /'--mib' must be a positive integer: received 0/);
});

import assert from "node:assert/strict";
import { processStartTime } from "../../distributed/_processes.ts";

const script = new URL("../../.ci/end_orphans.sh", import.meta.url).pathname;
const linux = Deno.build.os === "linux";

function sleeper(): Deno.ChildProcess {
  return new Deno.Command("sleep", { args: ["60"], stdout: "null", stderr: "null" }).spawn();
}

async function endOrphans(dir: string): Promise<Deno.CommandOutput> {
  return await new Deno.Command("bash", { args: [script, dir] }).output();
}

function alive(pid: number): boolean {
  try {
    // A reaped or zombie process has no "R/S/D" state; a zombie still has a stat file.
    const state = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]?.[0];
    return state !== undefined && state !== "Z";
  } catch {
    return false;
  }
}

Deno.test({
  name: "end_orphans.sh ends a recorded process whose start time still matches",
  ignore: !linux,
  async fn() {
    const dir = await Deno.makeTempDir();
    const child = sleeper();
    try {
      await Deno.writeTextFile(
        `${dir}/w-${child.pid}.pid`,
        `${child.pid} ${processStartTime(child.pid)}\n`,
      );
      const out = await endOrphans(dir);
      assert.equal(out.code, 0);
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
      assert.equal(alive(child.pid), false);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* ended */ }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name:
    "end_orphans.sh leaves alone a process that reuses a recorded PID, and exits 0 for stale files",
  ignore: !linux,
  async fn() {
    const dir = await Deno.makeTempDir();
    const bystander = sleeper();
    const gone = new Deno.Command("true").spawn();
    await gone.status;
    try {
      // The bystander's PID with another start time: a PID reused since the file was written.
      const started = Number(processStartTime(bystander.pid));
      await Deno.writeTextFile(
        `${dir}/a-${bystander.pid}.pid`,
        `${bystander.pid} ${started - 1}\n`,
      );
      // A process that is gone, a file from an older format with no start time, and garbage.
      await Deno.writeTextFile(`${dir}/b-${gone.pid}.pid`, `${gone.pid} 12345\n`);
      await Deno.writeTextFile(`${dir}/c-${bystander.pid}.pid`, `${bystander.pid}\n`);
      await Deno.writeTextFile(`${dir}/d.pid`, "not a pid\n");
      const out = await endOrphans(dir);
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      assert.equal(alive(bystander.pid), true, "the bystander was signalled");
      assert.equal(
        await Deno.stat(dir).then(() => true, () => false),
        false,
        "the directory stays",
      );
    } finally {
      bystander.kill("SIGKILL");
      await bystander.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

Deno.test({
  name: "processStartTime() names a live process and is undefined for one that is gone",
  ignore: !linux,
  async fn() {
    const child = sleeper();
    try {
      assert.match(processStartTime(child.pid) ?? "", /^\d+$/);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
    assert.equal(processStartTime(child.pid), undefined);
  },
});

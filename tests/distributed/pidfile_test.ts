// The PID files of the processes the distributed executor starts (an embedded nats-server, local
// workers) went to one directory shared by every user of the machine, written through whatever
// stood under their names: another local user who made that directory first, or planted symbolic
// links named like the next PID files, had a program run by root overwrite any file. Each test
// runs `Spawned` in a program of its own, with a temporary directory (TMPDIR) or FUTURES_PID_DIR
// of the test's own, so that no other test's environment changes.

import assert from "node:assert/strict";

const PROCESSES = new URL("../../distributed/_processes.ts", import.meta.url).href;
const posix = Deno.build.os !== "windows";
const root = posix && Deno.uid() === 0;
/** The user a directory or file made "by another user" is given, when this runs as root. */
const NOBODY = 65534;

/** What a program that starts one process through `Spawned` saw. */
interface Outcome {
  pid: number;
  /** `pidDir()` once the process was started. */
  dir?: string;
  dirMode?: number;
  dirUid?: number | null;
  /** The PID file's text and mode while the process ran. */
  text?: string;
  fileMode?: number;
  /** Whether the PID file was gone once the process was stopped. */
  removed?: boolean;
  /** Spawned's error, and the signal that ended the process then. */
  error?: string;
  signal?: string | null;
}

/**
 * What is put, as another user would, under the name of the next PID file (`worker-PID.pid`) in
 * `dir` between the start of the process and its PID file: a link to `target`, a regular file (of
 * another user when this runs as root, `foreign`), or a directory.
 */
interface Plant {
  dir: string;
  kind: "symlink" | "file" | "foreign-file" | "dir";
  target?: string;
}

const SCRIPT = `
import { pidDir, Spawned } from ${JSON.stringify(PROCESSES)};
const plants = JSON.parse(Deno.args[0]);
const child = new Deno.Command("sleep", { args: ["60"], stdout: "null", stderr: "null" }).spawn();
for (const plant of plants) {
  const path = plant.dir + "/worker-" + child.pid + ".pid";
  if (plant.kind === "symlink") Deno.symlinkSync(plant.target, path);
  else if (plant.kind === "dir") Deno.mkdirSync(path);
  else {
    Deno.writeTextFileSync(path, "planted\\n");
    if (plant.kind === "foreign-file") Deno.chownSync(path, ${NOBODY}, ${NOBODY});
  }
}
const out = { pid: child.pid };
let spawned;
try {
  spawned = new Spawned(child, "worker");
} catch (error) {
  out.error = error.message;
  out.signal = (await child.status).signal;
}
if (spawned) {
  out.dir = pidDir();
  const dirInfo = Deno.lstatSync(out.dir);
  out.dirMode = dirInfo.mode & 0o777;
  out.dirUid = dirInfo.uid;
  const file = out.dir + "/worker-" + child.pid + ".pid";
  out.text = Deno.readTextFileSync(file);
  out.fileMode = Deno.lstatSync(file).mode & 0o777;
  await spawned.stop("SIGKILL");
  try {
    Deno.lstatSync(file);
    out.removed = false;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    out.removed = true;
  }
}
console.log(JSON.stringify(out));
`;

/**
 * Runs the program above with TMPDIR `tmp` and, if given, FUTURES_PID_DIR `own` (and never the
 * FUTURES_PID_DIR of this run); resolves with what it saw and its stderr.
 */
async function spawnOne(
  work: string,
  env: { tmp: string; own?: string },
  plants: Plant[] = [],
): Promise<{ outcome: Outcome; stderr: string }> {
  const script = `${work}/spawn_one.ts`;
  await Deno.writeTextFile(script, SCRIPT);
  const vars = Deno.env.toObject();
  delete vars.FUTURES_PID_DIR;
  vars.TMPDIR = env.tmp;
  if (env.own !== undefined) vars.FUTURES_PID_DIR = env.own;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--no-lock", script, JSON.stringify(plants)],
    env: vars,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(output.stdout);
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  return { outcome: JSON.parse(stdout.trim().split("\n").at(-1)!) as Outcome, stderr };
}

/** Whether anything (a dangling link included) is at `path`. */
function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** `text` matched literally in a RegExp. */
function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A directory as another user makes it to squat the name: theirs (when root can say so), 0777. */
function squat(path: string): void {
  Deno.mkdirSync(path);
  Deno.chmodSync(path, 0o777);
  if (root) Deno.chownSync(path, NOBODY, NOBODY);
}

/** A file the attack aims at, with the text it must keep. */
function victim(work: string): { path: string; text: string } {
  const path = `${work}/victim.conf`;
  const text = "important = true\n";
  Deno.writeTextFileSync(path, text);
  return { path, text };
}

/** Asserts that the PID file was written, in a directory of this user's own, and removed. */
function assertPrivate(outcome: Outcome): void {
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.dirMode, 0o700, `mode of ${outcome.dir}: ${outcome.dirMode?.toString(8)}`);
  assert.equal(outcome.dirUid, Deno.uid());
  assert.match(outcome.text ?? "", new RegExp(`^${outcome.pid} \\d*\\n$`));
  assert.equal(outcome.fileMode, 0o600);
  assert.equal(outcome.removed, true);
}

Deno.test({
  name: "Spawned keeps its PID file in a directory of the user's own (mode 0700, named by the uid)",
  ignore: !posix,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "futures-pidfile-" });
    try {
      const { outcome, stderr } = await spawnOne(work, { tmp: work });
      assert.equal(outcome.dir, `${work}/concurrent-futures-pids-${Deno.uid()}`);
      assertPrivate(outcome);
      assert.equal(stderr, "");
      // A second program uses the same directory, as it is.
      const again = await spawnOne(work, { tmp: work });
      assert.equal(again.outcome.dir, outcome.dir);
      assertPrivate(again.outcome);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "Spawned does not use a PID directory another user squatted, nor write through the links planted there",
  ignore: !posix,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "futures-pidfile-" });
    try {
      const target = victim(work);
      const shared = `${work}/concurrent-futures-pids-${Deno.uid()}`;
      const elsewhere = await Deno.makeTempDir({ dir: work });
      // The attacker's own directory, where the link of the next variant points.
      const theirs = `${work}/theirs`;
      squat(theirs);
      // What stands at the shared name, why it is refused, and whether links go in it too.
      const variants: [string, () => void, RegExp, boolean][] = [
        [
          "a directory open to all (another user's when root)",
          () => squat(shared),
          root ? /owned by uid 65534/ : /open to others \(mode 0777\)/,
          true,
        ],
        [
          "a symbolic link to another user's directory",
          () => Deno.symlinkSync(theirs, shared),
          /a symbolic link/,
          false,
        ],
        [
          "a symbolic link to a private directory of this user",
          () => Deno.symlinkSync(elsewhere, shared),
          /a symbolic link/,
          false,
        ],
        ["a regular file", () => Deno.writeTextFileSync(shared, ""), /not a directory/, false],
      ];
      for (const [what, make, reason, linksInShared] of variants) {
        // The old shared directory's name is squatted as well, links and all (as the review's
        // pid_squat.sh did for every PID).
        const old = `${work}/concurrent-futures-pids`;
        squat(old);
        make();
        const plants: Plant[] = [old, theirs, ...linksInShared ? [shared] : []].map((dir) => ({
          dir,
          kind: "symlink",
          target: target.path,
        }));
        const { outcome, stderr } = await spawnOne(work, { tmp: work }, plants);
        assert.equal(Deno.readTextFileSync(target.path), target.text, what);
        assert.notEqual(outcome.dir, shared, what);
        assert.notEqual(outcome.dir, old, what);
        assert.match(outcome.dir ?? "", /\/concurrent-futures-pids-[^/]+$/, what);
        assertPrivate(outcome);
        assert.match(stderr, new RegExp(`${literally(shared)} is `), what);
        assert.match(stderr, reason, what);
        // Its private directory goes with the program once empty.
        assert.equal(exists(outcome.dir!), false, what);
        for (const path of [old, shared]) await Deno.remove(path, { recursive: true });
      }
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "Spawned creates its PID file anew: a link or another user's file under its name is refused, and the process ended",
  ignore: !posix,
  async fn() {
    const work = await Deno.makeTempDir({ prefix: "futures-pidfile-" });
    try {
      const target = victim(work);
      // A directory FUTURES_PID_DIR names is the caller's, even when others may write there.
      const own = `${work}/ci-pids`;
      Deno.mkdirSync(own);
      Deno.chmodSync(own, 0o777);
      const cases: [Plant, RegExp][] = [
        [{ dir: own, kind: "symlink", target: target.path }, /\(a symbolic link\)/],
        [{ dir: own, kind: "symlink", target: `${work}/new-file` }, /\(a symbolic link\)/],
        [{ dir: own, kind: "dir" }, /\(not a regular file\)/],
      ];
      if (root) cases.push([{ dir: own, kind: "foreign-file" }, /\(a file of uid 65534\)/]);
      for (const [plant, reason] of cases) {
        const { outcome } = await spawnOne(work, { tmp: work, own }, [plant]);
        const file = `${own}/worker-${outcome.pid}.pid`;
        assert.match(
          outcome.error ?? "no error",
          new RegExp(`^Cannot write the PID file ${literally(file)}: something is there already `),
          plant.kind,
        );
        assert.match(outcome.error!, reason);
        // Not recorded, the process is not left running.
        assert.equal(outcome.signal, "SIGKILL", plant.kind);
        assert.equal(Deno.readTextFileSync(target.path), target.text, plant.kind);
        assert.equal(exists(`${work}/new-file`), false, plant.kind);
        await Deno.remove(file, { recursive: true });
      }
      // A stale PID file of this user's own (a process with that PID was killed with its
      // program) is replaced.
      const { outcome } = await spawnOne(work, { tmp: work, own }, [{ dir: own, kind: "file" }]);
      assert.equal(outcome.dir, own);
      assert.equal(outcome.error, undefined);
      assert.match(outcome.text ?? "", new RegExp(`^${outcome.pid} \\d*\\n$`));
      assert.equal(outcome.removed, true);
    } finally {
      await Deno.remove(work, { recursive: true });
    }
  },
});

// What `deno task test` runs. The distributed executor's tests need a real nats-server: when it is
// missing, this installs it if it can (Debian's package, as root, as .ci/run does); if it cannot,
// the tests that need it are skipped, with one loud line saying how many and why, and everything
// else runs. Where nats-server is required (CI=true or FUTURES_REQUIRE_NATS=1, as in .ci/run), a
// missing one fails the run instead. Arguments, if any, replace the default list of paths (and
// the same applies to them).

import { lookupNatsServer, natsServerFromEnv } from "../distributed/_processes.ts";

const PATHS = [
  "mod.ts",
  "README.md",
  "future/",
  "actors/",
  "executors/",
  "sync/",
  "distributed/",
  "observe/",
  "tests/",
];
/**
 * What needs nats-server: the distributed tests (README's distributed sample among them, in
 * tests/distributed/readme_test.ts) and the doc examples of distributed/.
 */
const NEEDS_NATS = ["distributed/", "tests/distributed/", "tests/observe/distributed/"];

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

async function run(cmd: string, args: string[], quiet = false): Promise<number> {
  try {
    const { code } = await new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: quiet ? "null" : "inherit",
      stderr: quiet ? "null" : "inherit",
    }).output();
    return code;
  } catch {
    return -1;
  }
}

/** Installs Debian's nats-server package when this is root on a system with apt-get. */
async function install(): Promise<string | undefined> {
  // A binary named by FUTURES_NATS_SERVER is the one wanted: no other is installed.
  if (natsServerFromEnv() !== undefined) return undefined;
  if (Deno.uid() !== 0 || await run("apt-get", ["--version"], true) !== 0) return undefined;
  console.error(
    "nats-server is missing: installing Debian's package (apt-get install nats-server)",
  );
  const lock = ["-o", "DPkg::Lock::Timeout=120"];
  if (await run("apt-get", [...lock, "install", "-y", "-q", "nats-server"]) !== 0) {
    await run("apt-get", [...lock, "update", "-q"]);
    await run("apt-get", [...lock, "install", "-y", "-q", "nats-server"]);
  }
  return lookupNatsServer();
}

/** How many tests `deno test` finds in `paths` (their doc examples included). */
async function countTests(paths: string[]): Promise<number> {
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["test", "-A", "--doc", "--no-check", "--filter", "/^$a/", ...paths],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(stdout);
  return Number(/(\d+) filtered out/.exec(text)?.[1] ?? 0);
}

const targets = Deno.args.length > 0 ? Deno.args : PATHS;
const nats = lookupNatsServer() ?? await install();
const testArgs = ["test", "-A", "--parallel", "--doc"];
if (nats) Deno.exit(await run(Deno.execPath(), [...testArgs, ...targets]));
const why = "nats-server is not installed and could not be installed here (not root, or no " +
  "apt-get): install it (apt-get install nats-server) to run them";
if (env("FUTURES_REQUIRE_NATS") === "1" || env("CI") === "true") {
  console.error(`FAILED: the distributed tests need nats-server, and ${why}`);
  Deno.exit(1);
}
// The targets' parts that need nats-server: a target inside such a path, or such a path inside
// a target.
const under = (path: string, dir: string) => path.replace(/^\.\//, "").startsWith(dir);
const skip = [
  ...targets.filter((target) => NEEDS_NATS.some((dir) => under(target, dir))),
  ...NEEDS_NATS.filter((dir) => targets.some((target) => target !== dir && under(dir, target))),
];
const skipped = skip.length === 0 ? 0 : await countTests(skip);
const loud = `!!! SKIPPED ${skipped} tests that need a NATS server: ${why} !!!`;
if (skipped > 0) console.error(loud);
const rest = targets.filter((target) => !skip.includes(target));
const code = rest.length === 0 ? 0 : await run(Deno.execPath(), [
  ...testArgs,
  ...NEEDS_NATS.map((path) => `--ignore=${path}`),
  ...rest,
]);
if (skipped > 0) console.error(loud);
Deno.exit(code);

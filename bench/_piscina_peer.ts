// The peer row of the worker-pool benchmark: piscina on Node. piscina is installed with npm into a
// temporary folder for the run (it is not a dependency of this project), next to copies of the
// node scripts in bench/piscina/, and each round runs `node peer.mjs` once.

/** The pinned piscina version of the peer row. */
export const PISCINA_VERSION = "5.3.2";

const SCRIPTS = ["peer.mjs", "add_task.mjs", "raw_worker.mjs"];
const INSTALL_TIMEOUT_MS = 180_000;
const ROUND_TIMEOUT_MS = 300_000;

/** One round of one workload on Node: piscina, and a raw worker_threads pool (Node's floor). */
export interface PeerRound {
  node: string;
  piscinaVersion: string;
  workload: "throughput" | "roundtrip";
  /** `throughput`: ms to run all tasks; `roundtrip`: µs percentiles. */
  results: Record<"piscina" | "raw", number | { p50: number; p99: number }>;
}

/** A temporary folder with piscina installed and the node scripts copied in. */
export class PiscinaPeer {
  readonly dir: string;
  readonly nodeVersion: string;

  private constructor(dir: string, nodeVersion: string) {
    this.dir = dir;
    this.nodeVersion = nodeVersion;
  }

  /** Installs piscina; returns the reason instead when npm or node cannot be used. */
  static async setup(log: (line: string) => void): Promise<PiscinaPeer | { skipped: string }> {
    const node = await run("node", ["--version"], Deno.cwd(), 30_000);
    if (!node.ok) return { skipped: `node is unavailable: ${node.reason}` };
    const dir = await Deno.makeTempDir({ prefix: "worker_pool_bench_piscina_" });
    try {
      await Deno.writeTextFile(
        `${dir}/package.json`,
        JSON.stringify({ private: true, type: "module" }),
      );
      for (const script of SCRIPTS) {
        await Deno.copyFile(new URL(`./piscina/${script}`, import.meta.url), `${dir}/${script}`);
      }
      log(`installing piscina@${PISCINA_VERSION} with npm into ${dir}`);
      const install = await run(
        "npm",
        [
          "install",
          "--no-audit",
          "--no-fund",
          "--no-package-lock",
          "--loglevel=error",
          `piscina@${PISCINA_VERSION}`,
        ],
        dir,
        INSTALL_TIMEOUT_MS,
      );
      if (!install.ok) {
        await Deno.remove(dir, { recursive: true });
        return { skipped: `npm install piscina@${PISCINA_VERSION} failed: ${install.reason}` };
      }
    } catch (error) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw error;
    }
    return new PiscinaPeer(dir, node.stdout.trim());
  }

  /** Runs one round of `workload` (`count` tasks or trips) on Node. */
  async round(workload: PeerRound["workload"], count: number, round: number): Promise<PeerRound> {
    const result = await run(
      "node",
      ["peer.mjs", workload, String(count), String(round)],
      this.dir,
      ROUND_TIMEOUT_MS,
    );
    if (!result.ok) throw new Error(`node peer.mjs ${workload} failed: ${result.reason}`);
    return JSON.parse(result.stdout.trim().split("\n").at(-1)!) as PeerRound;
  }

  /** Removes the temporary folder. */
  async close(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}

type RunResult = { ok: true; stdout: string } | { ok: false; reason: string };

async function run(cmd: string, args: string[], cwd: string, timeout: number): Promise<RunResult> {
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command(cmd, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(timeout),
    }).output();
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { ok: false, reason: `'${cmd}' not found` };
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
  const stdout = new TextDecoder().decode(output.stdout);
  if (output.success) return { ok: true, stdout };
  const stderr = new TextDecoder().decode(output.stderr).trim().split("\n").slice(-5).join(" | ");
  const how = output.signal ? `killed by ${output.signal}` : `exit code ${output.code}`;
  return { ok: false, reason: `${how}${stderr ? `: ${stderr}` : ""}` };
}

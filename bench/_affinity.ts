// Pins every thread of this process (main, workers, runtime threads) to one CPU and back, with
// util-linux `taskset`. On a VM a round trip between threads on two vCPUs waits for the host to
// wake an idle vCPU, which on a busy host costs tens of µs and comes and goes by the minute;
// pinned, the same round trip is a context switch on one vCPU, and what is left is software.

/** Sets and restores the CPU affinity of all threads of this process. */
export class Affinity {
  readonly #original: string;

  private constructor(original: string) {
    this.#original = original;
  }

  /** The affinity control, or the reason it is unavailable (not Linux, no `taskset`). */
  static async probe(): Promise<Affinity | { unavailable: string }> {
    if (Deno.build.os !== "linux") return { unavailable: `not on Linux (${Deno.build.os})` };
    const result = await taskset(["-c", "-p", String(Deno.pid)]);
    if (!result.ok) return { unavailable: result.reason };
    // "pid 123's current affinity list: 0,1"
    const list = result.stdout.trim().split(": ").at(-1)!;
    if (!/^[0-9,-]+$/.test(list)) return { unavailable: `unexpected taskset output: ${list}` };
    if (list === "0") return { unavailable: "the process already runs on one CPU" };
    return new Affinity(list);
  }

  /** Moves every thread of the process to CPU `cpu`. */
  async pin(cpu = 0): Promise<void> {
    await this.#set(String(cpu));
  }

  /** Gives every thread of the process its original CPUs back. */
  async restore(): Promise<void> {
    await this.#set(this.#original);
  }

  async #set(list: string): Promise<void> {
    const result = await taskset(["-a", "-c", "-p", list, String(Deno.pid)]);
    if (!result.ok) {
      throw new Error(`taskset could not set the affinity to ${list}: ${result.reason}`);
    }
  }
}

type Result = { ok: true; stdout: string } | { ok: false; reason: string };

async function taskset(args: string[]): Promise<Result> {
  try {
    const output = await new Deno.Command("taskset", { args, stdout: "piped", stderr: "piped" })
      .output();
    if (output.success) return { ok: true, stdout: new TextDecoder().decode(output.stdout) };
    return { ok: false, reason: new TextDecoder().decode(output.stderr).trim() };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { ok: false, reason: "'taskset' not found" };
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

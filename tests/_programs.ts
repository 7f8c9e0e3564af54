// Helpers of the tests that start programs and watch their processes.

/** Whether `pid` is a live process (not gone, not a zombie), read from /proc. */
export function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // A zombie (state Z) has ended; it only waits for its parent to collect it.
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/**
 * The first line `program` prints (its stdout piped), then the rest of its output is dropped.
 * Empty when it ends before printing a line.
 */
export async function firstLine(program: Deno.ChildProcess): Promise<string> {
  const lines = program.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    text += value;
  }
  await lines.cancel();
  return text.slice(0, text.indexOf("\n") + 1 || undefined);
}

/** The command lines of the live child processes of `pid`, read from /proc. */
export function childrenOf(pid: number): string[] {
  return childProcesses(pid).map((child) => child.cmd);
}

/** The live child processes of `pid` with their command lines, read from /proc. */
export function childProcesses(pid: number): { pid: number; cmd: string }[] {
  const out: { pid: number; cmd: string }[] = [];
  for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
    const ids = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/children`).trim();
    for (const child of ids ? ids.split(" ").map(Number) : []) {
      if (!alive(child)) continue;
      try {
        const cmd = Deno.readTextFileSync(`/proc/${child}/cmdline`).replaceAll("\0", " ").trim();
        out.push({ pid: child, cmd });
      } catch {
        // Gone meanwhile.
      }
    }
  }
  return out;
}

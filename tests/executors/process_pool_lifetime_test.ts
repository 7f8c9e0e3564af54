// ProcessPoolExecutor's processes end with the program that started them: when it is ended by a
// signal it does not handle, killed with SIGKILL, or exits; and not while it handles the signal.

import assert from "node:assert/strict";
import { ROOT, SCRIPTS } from "./_worker_helpers.ts";
import { alive } from "../_programs.ts";

const LINUX = Deno.build.os === "linux";
const PARENT = new URL("process_parent.ts", SCRIPTS).pathname;

function killQuietly(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // Gone already.
  }
}

/** Polls /proc until none of `pids` is alive; a process ending is not an event we can await. */
async function allGone(pids: number[], ms = 10_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (pids.some(alive)) {
    if (performance.now() > deadline) {
      throw new Error(`pool processes ${pids.filter(alive).join(", ")} outlived their program`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The parent program, its pool's process ids once both tasks spin, and its stdout lines. */
class Parent implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly pids: number[] = [];

  constructor(args: string[] = []) {
    this.#child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", PARENT, ...args],
      cwd: ROOT,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#stdin = this.#child.stdin.getWriter();
    this.#lines = this.#child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(
      lineSplitter(),
    )[Symbol.asyncIterator]();
  }

  /** The next line the program or its processes print. */
  async line(): Promise<string> {
    const next = await this.#lines.next();
    if (next.done) throw new Error("the program's stdout ended");
    return next.value;
  }

  async spinning(): Promise<number[]> {
    while (this.pids.length < 2) {
      const match = /^spinning (\d+)$/.exec(await this.line());
      if (match) this.pids.push(Number(match[1]));
    }
    for (const pid of this.pids) assert.ok(alive(pid), `process ${pid} is running`);
    return this.pids;
  }

  kill(signal: Deno.Signal): void {
    this.#child.kill(signal);
  }

  async tell(line: string): Promise<void> {
    await this.#stdin.write(new TextEncoder().encode(`${line}\n`));
  }

  get status(): Promise<Deno.CommandStatus> {
    return this.#child.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    killQuietly(this.#child.pid);
    for (const pid of this.pids) killQuietly(pid);
    await this.#stdin.close().catch(() => {});
    await this.#lines.return?.();
    await this.#child.status;
  }
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(text, controller) {
      const lines = (rest + text).split("\n");
      rest = lines.pop()!;
      for (const line of lines) controller.enqueue(line);
    },
  });
}

for (const signal of ["SIGTERM", "SIGINT", "SIGKILL"] as const) {
  Deno.test({
    name: `ProcessPoolExecutor's processes end when their program is ended by ${signal}`,
    ignore: !LINUX,
    fn: async () => {
      await using parent = new Parent();
      const pids = await parent.spinning();
      parent.kill(signal);
      assert.equal((await parent.status).signal, signal);
      await allGone(pids);
    },
  });
}

Deno.test({
  name: "ProcessPoolExecutor's processes end when their program exits",
  ignore: !LINUX,
  fn: async () => {
    await using parent = new Parent();
    const pids = await parent.spinning();
    await parent.tell("exit");
    assert.equal((await parent.status).code, 0);
    await allGone(pids);
  },
});

Deno.test({
  name: "ProcessPoolExecutor's processes live on while their program handles SIGTERM itself",
  ignore: !LINUX,
  fn: async () => {
    await using parent = new Parent(["handle-sigterm"]);
    const pids = await parent.spinning();
    parent.kill("SIGTERM");
    assert.equal(await parent.line(), "handled SIGTERM");
    for (const pid of pids) assert.ok(alive(pid), `process ${pid} still runs`);
    await parent.tell("exit");
    assert.equal((await parent.status).code, 0);
    await allGone(pids);
  },
});

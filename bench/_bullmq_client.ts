// bench/distributed_bench.ts's side of its BullMQ peer: the peer runs in a process of its own
// (bench/bullmq/peer.ts, with its own configuration and lockfile) and measures there, as the
// bench measures its own contenders, so the pipe between the two is not in any figure.

const PEER = new URL("./bullmq/peer.ts", import.meta.url);
const CONFIG = new URL("./bullmq/config.json", import.meta.url);

/** The BullMQ peer's process: Redis, a BullMQ worker process, and the client side measured. */
export class BullPeer {
  readonly #child: Deno.ChildProcess;
  readonly #lines: ReadableStreamDefaultReader<string>;
  readonly #input: WritableStreamDefaultWriter<Uint8Array>;
  #buffered = "";

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#input = child.stdin.getWriter();
  }

  /** Starts the peer; undefined (with the reason logged) when it cannot run here. */
  static async start(log: (line: string) => void): Promise<BullPeer | undefined> {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "--config", CONFIG.pathname, PEER.href],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const peer = new BullPeer(child);
    const first = await peer.#line();
    if (first === "ready") return peer;
    log(first.startsWith("skip ") ? first.slice(5) : `BullMQ peer failed to start: ${first}`);
    await peer.close();
    return undefined;
  }

  /** The median round trip of one job, from its add to its completion, in ms. */
  p50(): Promise<number> {
    return this.#ask("p50");
  }

  /** `n` jobs added at once, completed per second. */
  rate(n: number): Promise<number> {
    return this.#ask(`rate ${n}`);
  }

  async #ask(command: string): Promise<number> {
    await this.#input.write(new TextEncoder().encode(`${command}\n`));
    const answer = await this.#line();
    const value = Number(answer);
    if (answer === "" || !Number.isFinite(value)) {
      throw new Error(`BullMQ peer answered '${answer}' to '${command}'`);
    }
    return value;
  }

  /** The peer's next line; "" once its output ends. */
  async #line(): Promise<string> {
    while (!this.#buffered.includes("\n")) {
      const { value, done } = await this.#lines.read();
      if (done) return this.#buffered.trim();
      this.#buffered += value;
    }
    const at = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, at);
    this.#buffered = this.#buffered.slice(at + 1);
    return line;
  }

  /** Ends its input: the peer closes its clients and kills Redis and its worker. */
  async close(): Promise<void> {
    await this.#input.close().catch(() => {});
    await this.#lines.cancel().catch(() => {});
    await this.#child.status;
  }
}

// A TCP proxy on loopback between one client and a nats-server, whose connections a test can cut
// and let through again: the client alone loses the server, while the workers keep it.

/** Forwards connections on its own port to `target`, until `cut()`; again after `restore()`. */
export class CuttableProxy {
  readonly port: number;
  readonly #listener: Deno.TcpListener;
  readonly #target: number;
  readonly #open = new Set<Deno.TcpConn>();
  readonly #pipes = new Set<Promise<void>>();
  #through = true;
  #muted = false;
  readonly #accepting: Promise<void>;

  constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#accepting = this.#accept();
  }

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  async #accept(): Promise<void> {
    try {
      for await (const inbound of this.#listener) {
        if (!this.#through) {
          inbound.close();
          continue;
        }
        this.#track(this.#pair(inbound));
      }
    } catch {
      // The listener was closed.
    }
  }

  #track(pipe: Promise<void>): void {
    this.#pipes.add(pipe);
    pipe.finally(() => this.#pipes.delete(pipe));
  }

  async #pair(inbound: Deno.TcpConn): Promise<void> {
    let outbound: Deno.TcpConn;
    try {
      outbound = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
    } catch {
      inbound.close();
      return;
    }
    this.#open.add(inbound).add(outbound);
    const copy = async (from: Deno.TcpConn, to: Deno.TcpConn) => {
      // What the server sends is dropped while muted.
      const gate = new TransformStream<Uint8Array, Uint8Array>({
        transform: (chunk, out) => {
          if (to !== inbound || !this.#muted) out.enqueue(chunk);
        },
      });
      try {
        await from.readable.pipeThrough(gate).pipeTo(to.writable, { preventClose: true });
      } catch {
        // One side went away.
      }
      for (const conn of [inbound, outbound]) {
        if (this.#open.delete(conn)) conn.close();
      }
    };
    await Promise.all([copy(inbound, outbound), copy(outbound, inbound)]);
  }

  /**
   * Drops what the server sends until `cut()`, while what the client sends still arrives: the
   * client's requests take effect and their replies are lost.
   */
  mute(): void {
    this.#muted = true;
  }

  /** Closes every connection through it and refuses new ones until `restore()`. */
  cut(): void {
    this.#through = false;
    this.#muted = false;
    for (const conn of this.#open) conn.close();
    this.#open.clear();
  }

  /** Lets connections through again. */
  restore(): void {
    this.#through = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.cut();
    this.#listener.close();
    await this.#accepting;
    await Promise.all([...this.#pipes]);
  }
}

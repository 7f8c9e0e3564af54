// The NATS transport's sockets: an error emitted while the stock transport had taken every
// listener off (between dialling, reading INFO and its own handlers) must neither escape as an
// uncaught error nor leave the connect waiting.

import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { errors } from "@nats-io/transport-node";
import { CheckedTransport, keepUnheardErrors, unheardError } from "../../distributed/_transport.ts";

/** A local TCP listener that accepts and holds connections, and a way to end it. */
function listener(): { port: number; close(): void } {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  void (async () => {
    for await (const conn of server) conns.push(conn);
  })().catch(() => {});
  return {
    port: (server.addr as Deno.NetAddr).port,
    close() {
      for (const conn of conns) conn.close();
      server.close();
    },
  };
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

Deno.test("keepUnheardErrors() keeps an error a socket emits with no listener, which Node's rule throws", async () => {
  const server = listener();
  const plain = await connected(server.port);
  const kept = await connected(server.port);
  try {
    plain.removeAllListeners();
    assert.throws(() => plain.emit("error", new Error("reset")), /reset/, "the rule it guards");
    kept.removeAllListeners();
    keepUnheardErrors(kept);
    const reset = new Error("reset");
    assert.equal(kept.emit("error", reset), false);
    assert.equal(unheardError(kept), reset);
    // A listener hears errors as before.
    const heard: unknown[] = [];
    kept.on("error", (error) => heard.push(error));
    kept.emit("error", new Error("later"));
    assert.equal(heard.length, 1);
    assert.equal(unheardError(kept), reset, "the first unheard error is kept");
  } finally {
    plain.destroy();
    kept.destroy();
    server.close();
  }
});

Deno.test("CheckedTransport: an error between the dial and INFO fails the connect with ConnectionError at once", async () => {
  const server = listener();
  const transport = new CheckedTransport();
  try {
    transport.options = {};
    transport.socket = await transport.dial({ hostname: "127.0.0.1", port: server.port });
    // The stock dial has taken its listeners off: this is the gap.
    assert.equal(transport.socket.listenerCount("error"), 0);
    transport.socket.emit("error", new Error("read ECONNRESET"));
    await assert.rejects(
      transport.peekInfo(),
      (error: unknown) =>
        error instanceof errors.ConnectionError && /read ECONNRESET/.test(error.message),
    );
  } finally {
    transport.socket?.destroy();
    server.close();
  }
});

// The NATS connection both sides open: `@nats-io/transport-node`'s own transport, with one check
// added before TLS starts. A server whose TLS has `verify: true` asks every client for a
// certificate. With TLS 1.3 the client finishes its side of the handshake before the server has
// looked at the (missing) certificate, so the server's refusal arrives afterwards as a TLS alert
// on a socket whose error listener the transport has already removed: the alert became an
// uncaught `BadCertificate` error that ended the process, and the connect itself only failed at
// its timeout. The server says in its first INFO line (before TLS) that it will verify clients,
// so a client without a certificate is refused there, at once and with a message that says so.
//
// The stock transport also takes every listener off its socket between its phases (dial, reading
// INFO, TLS, the connection's own handlers). An error the socket emits in such a gap (a reset
// arriving right after INFO, seen once in a soak of the test suite) had no listener and ended the
// process as an uncaught `read ECONNRESET`. Every socket made here keeps such an error instead,
// and the next phase fails with it.

import {
  type ConnectionOptions,
  errors,
  type NatsConnection,
  NatsConnectionImpl,
  type NodeConnectionOptions,
  type ServerInfo,
  setTransportFactory,
} from "@nats-io/transport-node";
import { nodeResolveHost, NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";
import { createConnection, isIP, type Socket } from "node:net";
import type { ConnectionOptions as TlsConnectionOptions, TLSSocket } from "node:tls";
import { CertificateError, clientCertRefused, Handshake } from "./_tls.ts";

/** The message of the error a client without a certificate gets from a verifying server. */
export const CLIENT_CERT_REQUIRED =
  "the server asked for a client certificate (its TLS has verify: true) and none was given";

/** Errors that sockets emitted while nothing listened, by socket. */
const unheard = new WeakMap<object, Error>();
const guarded = new WeakSet<object>();

/**
 * Makes an error that `socket` emits with no listener a recorded one (see {@linkcode unheard}):
 * Node's rule is to throw it, which no code of ours could catch.
 */
export function keepUnheardErrors(socket: Socket | TLSSocket): void {
  if (guarded.has(socket)) return;
  guarded.add(socket);
  const emit = socket.emit;
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "error" && this.listenerCount("error") === 0) {
      const error = args[0] instanceof Error ? args[0] : new Error(String(args[0]));
      if (!unheard.has(this)) unheard.set(this, error);
      return false;
    }
    return (emit as (event: string | symbol, ...args: unknown[]) => boolean).call(
      this,
      event,
      ...args,
    );
  } as typeof socket.emit;
}

/** The error a socket emitted while nothing listened, if any. */
export function unheardError(socket: object | undefined): Error | undefined {
  return socket === undefined ? undefined : unheard.get(socket);
}

/** Whether connect options name a client certificate and its key. */
function hasClientCert(options: ConnectionOptions): boolean {
  const tls = options.tls;
  if (typeof tls !== "object" || tls === null) return false;
  const { cert, certFile, key, keyFile } = tls as Record<string, unknown>;
  return Boolean((cert || certFile) && (key || keyFile));
}

/**
 * The node transport, refusing to start TLS without a certificate the server will ask for, and
 * settling a TLS connection whose certificates do not check out with a clear error.
 */
export class CheckedTransport extends NodeTransport {
  #handshake: Handshake | undefined;
  #answered = false;
  #verified = false;
  /** The host dialed: an IP address, or a name the client did not resolve. */
  #hostname = "";

  /** The stock dial, with the socket's unheard errors kept from its first moment. */
  override dial(hp: { hostname: string; port: number }): Promise<Socket> {
    this.#hostname = hp.hostname;
    return new Promise((resolve, reject) => {
      let dialError: Error | undefined;
      const socket = createConnection(hp.port, hp.hostname, () => {
        resolve(socket);
        socket.removeAllListeners();
      });
      keepUnheardErrors(socket);
      socket.on("error", (error) => dialError = error);
      socket.on("close", () => {
        socket.removeAllListeners();
        reject(dialError);
      });
      socket.setNoDelay(true);
    });
  }

  /** Fails at once with an error the socket emitted since the last phase, if it did. */
  #checkSocket(): void {
    const error = unheardError(this.socket);
    if (error === undefined && !this.socket?.destroyed) return;
    throw new errors.ConnectionError(
      `the connection failed: ${error?.message ?? "the socket closed"}`,
      { cause: error },
    );
  }

  override async peekInfo(): Promise<ServerInfo> {
    this.#checkSocket();
    const info = await super.peekInfo();
    this.#checkSocket();
    const tls = info.tls_required === true ||
      (info.tls_available === true && this.options.tls !== null && this.options.tls !== undefined);
    this.#verified = tls && info.tls_verify === true;
    if (this.#verified && !hasClientCert(this.options)) {
      throw new Error(CLIENT_CERT_REQUIRED);
    }
    return info;
  }

  override async startTLS(): Promise<TLSSocket> {
    // The server's certificate must name what the URL named: the host name the client resolved
    // to the address dialed (`tlsName`), else the address itself. node:tls checks the
    // certificate against `servername`, else `host`, else "localhost": with neither given, a URL
    // with an IP address accepted any certificate for localhost and refused one for that address.
    // An IP address is no server name for SNI (RFC 6066), so it goes in `host` only.
    const identity = this.tlsName || this.#hostname.replace(/^\[(.*)\]$/, "$1");
    let options: TlsConnectionOptions = {
      host: identity || undefined,
      servername: identity && isIP(identity) === 0 ? identity : undefined,
      rejectUnauthorized: true,
    };
    if (typeof this.options.tls === "object" && this.options.tls !== null) {
      let files;
      try {
        files = await this.loadClientCerts();
      } catch (error) {
        throw new errors.ConnectionError(
          `cannot read the TLS files: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error },
        );
      }
      options = {
        ...options,
        ...this.options.tls as TlsConnectionOptions,
        ...files as TlsConnectionOptions | undefined,
      };
    }
    try {
      this.#handshake = new Handshake(this.socket, options, hasClientCert(this.options));
    } catch (error) {
      // node:tls throws at once on some bad options (a malformed certificate or key).
      throw new errors.ConnectionError(error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
    try {
      return await this.#handshake.secured;
    } catch (error) {
      throw identityMismatch(error, identity) ?? error;
    }
  }

  override setupHandlers(): void {
    // The stock handlers, with their error and close listeners replaced by the ones below.
    const socket = this.socket;
    keepUnheardErrors(socket);
    this.#checkSocket();
    const kept = new Set([...socket.listeners("error"), ...socket.listeners("close")]);
    super.setupHandlers();
    for (const event of ["error", "close"]) {
      for (const listener of socket.listeners(event)) {
        if (!kept.has(listener)) socket.off(event, listener as () => void);
      }
    }
    socket.prependListener("data", () => this.#answered = true);
    // A TLS 1.3 server looks at the client's certificate after the client's handshake is done;
    // refusing it, the server sends an alert and closes before answering anything, and the
    // client's CONNECT then fails to write. Only a refusal ends a verifying server's
    // connection there, so that is what the error says.
    const refusable = this.#verified && hasClientCert(this.options) &&
      (socket as TLSSocket).getProtocol?.() === "TLSv1.3";
    let lastError: unknown;
    socket.on("error", (error) => lastError ??= error);
    socket.on("close", () => {
      const early = refusable && !this.#answered;
      void this.close(
        early
          ? clientCertRefused(lastError ?? new Error("closed"), true)
          : lastError as Error | undefined,
      );
    });
    this.#handshake?.handOver();
    this.#handshake = undefined;
  }
}

/**
 * The error of a handshake refused as the server's certificate names neither the host nor the
 * address of the URL (`identity`), saying so, in place of the advice to give a CA; or undefined.
 */
function identityMismatch(error: unknown, identity: string): CertificateError | undefined {
  const cause = error instanceof CertificateError ? error.cause : undefined;
  if ((cause as { code?: unknown } | undefined)?.code !== "ERR_TLS_CERT_ALTNAME_INVALID") {
    return undefined;
  }
  const san = isIP(identity) === 0 ? `DNS:${identity}` : `IP:${identity}`;
  return new CertificateError(
    `the server's certificate does not name ${identity} (${
      (cause as Error).message
    }); connect by a name or address it holds, or give the server a certificate whose subjectAltName holds ${san}`,
    { cause },
  );
}

/**
 * Connects like `connect()` of `@nats-io/transport-node`, through {@linkcode CheckedTransport}.
 * The transport is chosen per dial from a module-wide setting of the NATS client; the stock
 * `connect()` resets it, so a connection opened here after one opened there dials checked again.
 *
 * Reconnecting is off until the first connection is up. A connection that closes after its
 * socket is open but before the server answered (a TLS 1.3 server refusing the client's
 * certificate does that) hands the client's dial loop over to reconnecting, which waits for the
 * very dial in progress: nothing settles it before the connect timeout (20 s by default). Without
 * reconnecting, the client closes, and the connect rejects at once with the transport's error.
 */
export async function connectNats(options: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new CheckedTransport(), dnsResolveFn: nodeResolveHost });
  if (options.reconnect === false || options.waitOnFirstConnect === true) {
    return await NatsConnectionImpl.connect(options);
  }
  const nc = await NatsConnectionImpl.connect({ ...options, reconnect: false });
  // The client reads this setting, on the object it shares with its protocol, at each disconnect.
  (nc as NatsConnectionImpl).options.reconnect = true;
  return nc;
}

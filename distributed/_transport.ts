// The NATS connection both sides open: `@nats-io/transport-node`'s own transport, with one check
// added before TLS starts. A server whose TLS has `verify: true` asks every client for a
// certificate. With TLS 1.3 the client finishes its side of the handshake before the server has
// looked at the (missing) certificate, so the server's refusal arrives afterwards as a TLS alert
// on a socket whose error listener the transport has already removed: the alert became an
// uncaught `BadCertificate` error that ended the process, and the connect itself only failed at
// its timeout. The server says in its first INFO line (before TLS) that it will verify clients,
// so a client without a certificate is refused there, at once and with a message that says so.

import {
  type ConnectionOptions,
  type NatsConnection,
  NatsConnectionImpl,
  type NodeConnectionOptions,
  type ServerInfo,
  setTransportFactory,
} from "@nats-io/transport-node";
import { nodeResolveHost, NodeTransport } from "@nats-io/transport-node/lib/node_transport.js";

/** The message of the error a client without a certificate gets from a verifying server. */
export const CLIENT_CERT_REQUIRED =
  "the server asked for a client certificate (its TLS has verify: true) and none was given";

/** Whether connect options name a client certificate and its key. */
function hasClientCert(options: ConnectionOptions): boolean {
  const tls = options.tls;
  if (typeof tls !== "object" || tls === null) return false;
  const { cert, certFile, key, keyFile } = tls as Record<string, unknown>;
  return Boolean((cert || certFile) && (key || keyFile));
}

/** The node transport, refusing to start TLS without a certificate the server will ask for. */
class CheckedTransport extends NodeTransport {
  override async peekInfo(): Promise<ServerInfo> {
    const info = await super.peekInfo();
    const tls = info.tls_required === true ||
      (info.tls_available === true && this.options.tls !== null && this.options.tls !== undefined);
    if (tls && info.tls_verify === true && !hasClientCert(this.options)) {
      throw new Error(CLIENT_CERT_REQUIRED);
    }
    return info;
  }
}

/**
 * Connects like `connect()` of `@nats-io/transport-node`, through {@linkcode CheckedTransport}.
 * The transport is chosen per dial from a module-wide setting of the NATS client; the stock
 * `connect()` resets it, so a connection opened here after one opened there dials checked again.
 */
export function connectNats(options: NodeConnectionOptions): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new CheckedTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}

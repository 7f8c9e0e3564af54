// Starting TLS on a NATS connection and naming what went wrong. The transport of
// `@nats-io/transport-node` throws an unverified server certificate from inside an event listener
// (where nothing can catch it), removes every listener once the handshake is done (so a TLS alert
// that follows reaches a socket without an error listener) and leaves a connection closed during
// the handshake to the client's 20 s connect timeout. Here the handshake settles exactly once: with
// the socket once it is secure and the server's certificate checks out, otherwise with a
// `CertificateError` that says which side's certificate was refused and what to give instead; an
// error listener stays on the socket until the transport puts its own there.

import { errors } from "@nats-io/transport-node";
import type { Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";

/** A TLS connection whose certificates did not check out: retrying cannot help. */
export class CertificateError extends errors.ConnectionError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "CertificateError";
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether an error is a TLS alert sent by the server (it refused something of ours). */
function isAlert(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return /ALERT/i.test(String(code ?? "")) || /\balert\b/i.test(describe(error));
}

/** The server refused the certificate this side presented. */
export function clientCertRefused(cause: unknown, closed = false): CertificateError {
  const how = closed ? "it closed the connection right after the TLS handshake: " : "";
  return new CertificateError(
    `the server refused the client certificate (${how}${
      describe(cause)
    }); give a certificate signed by a CA the server trusts (its tls ca_file), as options 'tls.certFile' and 'tls.keyFile' or worker flags --tls-cert and --tls-key`,
    { cause },
  );
}

/** This side does not trust the certificate the server presented. */
function serverCertUntrusted(cause: unknown): CertificateError {
  return new CertificateError(
    `the server's certificate is not trusted (${
      describe(cause)
    }); give the CA that signed it, as option 'tls.caFile' or worker flag --tls-ca`,
    { cause },
  );
}

/** A handshake that failed: refused by the server (an alert) or distrusted here. */
function handshakeFailure(error: unknown, presentedCert: boolean): Error {
  if (isAlert(error)) {
    return presentedCert
      ? clientCertRefused(error)
      : new CertificateError(`the server ended the TLS handshake (${describe(error)})`, {
        cause: error,
      });
  }
  if (isVerifyError(error)) return serverCertUntrusted(error);
  // Anything else (a reset, a close) may pass: the caller may try again.
  return new errors.ConnectionError(
    error === undefined
      ? "the server closed the connection during the TLS handshake"
      : `the TLS handshake failed (${describe(error)})`,
    { cause: error },
  );
}

/** Whether an error is this side's check of the server's certificate failing (OpenSSL's codes). */
function isVerifyError(error: unknown): boolean {
  const code = String((error as { code?: unknown } | undefined)?.code ?? "");
  return /^(UNABLE_TO_|CERT_|SELF_SIGNED_|DEPTH_ZERO_|INVALID_CA|INVALID_PURPOSE|PATH_LENGTH_|HOSTNAME_MISMATCH|ERR_TLS_CERT_)/
    .test(code);
}

/** A TLS handshake in progress on `socket`, with the listeners it keeps until handed over. */
export class Handshake {
  readonly socket: TLSSocket;
  readonly #onError: (error: Error) => void;
  readonly #onClose: () => void;

  /** Resolves with the secured socket, or rejects with a ConnectionError that says why not. */
  readonly secured: Promise<TLSSocket>;

  /**
   * Starts TLS on `socket` with `options` (the transport's, merged with the certificates);
   * `presentedCert` tells whether this side presents a client certificate.
   */
  constructor(socket: Socket, options: ConnectionOptions, presentedCert: boolean) {
    let settle!: { resolve: (s: TLSSocket) => void; reject: (e: Error) => void };
    this.secured = new Promise((resolve, reject) => settle = { resolve, reject });
    let settled = false;
    let lastError: unknown;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      settle.reject(error);
      this.socket.destroy();
    };
    this.#onError = (error) => {
      lastError = error;
      if (!settled) fail(handshakeFailure(error, presentedCert));
    };
    this.#onClose = () => fail(handshakeFailure(lastError, presentedCert));
    this.socket = tlsConnect({ ...options, socket });
    this.socket.on("error", this.#onError);
    this.socket.once("close", this.#onClose);
    this.socket.once("secureConnect", () => {
      if (settled) return;
      if (options.rejectUnauthorized !== false && !this.socket.authorized) {
        fail(serverCertUntrusted(this.socket.authorizationError));
        return;
      }
      settled = true;
      this.socket.off("close", this.#onClose);
      settle.resolve(this.socket);
    });
  }

  /** Takes this handshake's error listener off, once the transport has put its own on. */
  handOver(): void {
    this.socket.off("error", this.#onError);
    this.socket.off("close", this.#onClose);
  }
}

// How the executor and its workers connect to NATS: credentials (user and password, token, NKey
// seed, a .creds file), TLS, credentials written in server URLs, and any other connect() option
// passed through. Both sides build their connection options here, so that they accept the same.

import { show } from "../future/_options.ts";
import {
  credsAuthenticator,
  type NatsConnection,
  nkeyAuthenticator,
  type NodeConnectionOptions,
} from "@nats-io/transport-node";
import { CLIENT_CERT_REQUIRED, connectNats } from "./_transport.ts";
import { CertificateError } from "./_tls.ts";

/**
 * TLS settings: files are read when connecting; PEM text can be given instead of a file.
 *
 * @example Needs a NATS server with TLS
 * ```ts ignore
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({
 *   servers: "tls://nats.internal:4222",
 *   tls: {
 *     caFile: "./certs/ca.pem",
 *     certFile: "./certs/client.pem", // for a server that verifies clients
 *     keyFile: "./certs/client.key",
 *   },
 *   modules: [new URL("./tasks.ts", import.meta.url)],
 * });
 * ```
 */
export interface NatsTlsOptions {
  /** A PEM file of the certificate authority that signed the server's certificate. */
  caFile?: string;
  /** A PEM file of this side's certificate, for servers that verify clients. */
  certFile?: string;
  /** A PEM file of the key of `certFile`. */
  keyFile?: string;
  /** The certificate authority as PEM text, in place of `caFile`. */
  ca?: string;
  /** This side's certificate as PEM text, in place of `certFile`. */
  cert?: string;
  /** The key as PEM text, in place of `keyFile`. */
  key?: string;
}

/**
 * How to authenticate to NATS and secure the connection. The executor takes these as options; the
 * worker CLI as flags and `FUTURES_NATS_*` environment variables.
 *
 * @example Needs a NATS server that checks users
 * ```ts ignore
 * import { DistributedExecutor } from "@concurrent/futures/distributed";
 *
 * await using executor = new DistributedExecutor({
 *   servers: ["nats://nats-1.internal:4222", "nats://nats-2.internal:4222"],
 *   user: "app",
 *   pass: Deno.env.get("NATS_PASSWORD"),
 *   tls: true,
 *   connectOptions: { timeout: 5_000 },
 *   modules: [new URL("./tasks.ts", import.meta.url)],
 * });
 * ```
 */
export interface NatsConnectOptions {
  /** User name (with `pass`). A URL such as `nats://alice:s3cret@host:4222` gives both too. */
  user?: string;
  /** Password of `user`. */
  pass?: string;
  /** Authentication token. */
  token?: string;
  /** An NKey seed (the text that starts with `SU`), for servers that list the user's public key. */
  nkeySeed?: string;
  /** Path of a `.creds` file (a user JWT and its NKey seed, made with `nsc`). */
  credsFile?: string;
  /**
   * TLS: `true` requires it with the system's certificate authorities; an object names the CA
   * and this side's certificate. A `tls://` server URL requires TLS too.
   */
  tls?: boolean | NatsTlsOptions;
  /**
   * Any other option of `connect()` from `@nats-io/transport-node` (its `NodeConnectionOptions`),
   * passed through as it is: `timeout`, `pingInterval`, `inboxPrefix`...
   */
  connectOptions?: Record<string, unknown>;
}

/** The executor options that belong to the connection. */
export const CONNECT_OPTION_KEYS = [
  "user",
  "pass",
  "token",
  "nkeySeed",
  "credsFile",
  "tls",
  "connectOptions",
] as const;

/**
 * A server URL in parts: its scheme (`nats://`, or "" when it has none), the credentials written
 * in it (everything up to its last "@": a password may hold "@", "/" and ":", percent-encoded or
 * not) or undefined, and the rest (host, port...). Spaces around it are in `scheme` and `rest`.
 */
function splitServerUrl(url: string): { scheme: string; auth?: string; rest: string } {
  const match = /^(\s*(?:[a-z][a-z0-9+.-]*:\/\/)?)(?:([^]*)@)?([^]*)$/i.exec(url)!;
  return { scheme: match[1]!, auth: match[2], rest: match[3]! };
}

/**
 * A server URL with its credentials hidden, for messages and logs: a password (`user:***@`) or a
 * token (`***@`), whatever characters it holds.
 */
export function redact(url: string): string {
  const { scheme, auth, rest } = splitServerUrl(url);
  if (auth === undefined) return url;
  const colon = auth.indexOf(":");
  return `${scheme}${colon >= 0 ? `${auth.slice(0, colon)}:***` : "***"}@${rest}`;
}

/** The options whose values are secrets: a message names their type, never their value. */
const SECRET_OPTIONS: readonly string[] = ["pass", "token", "nkeySeed", "tls.key"];

/**
 * What a refused value is, for messages: the value itself (`show`), or for a secret only its type
 * (a password of digits, given as a number, was printed whole).
 */
function received(name: string, value: unknown): string {
  if (!SECRET_OPTIONS.includes(name)) return show(value);
  if (value === "") return "an empty string";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Percent-decoded, or as it is when it is not valid percent-encoding (a password with "%"). */
function decodeCredential(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * Checks the options and builds what `connect()` takes. Credentials in a URL's user part are
 * taken out of it (the client would drop them): `user:pass@` gives a user and password, a lone
 * `token@` a token.
 */
export function connectionOptions(
  servers: string[],
  options: NatsConnectOptions,
  what: string,
  names: Readonly<Record<string, string>> = {},
): NodeConnectionOptions {
  // Errors name what the caller wrote: an option, or a worker's flag or variable (`names`).
  const label = (name: string) => names[name] ?? name;
  const text = (name: keyof NatsConnectOptions) => {
    const value = options[name];
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new TypeError(
        `Cannot ${what} as '${label(name)}' must be a non-empty string: received ${
          received(name, value)
        }`,
      );
    }
    return value as string | undefined;
  };
  const extra = options.connectOptions;
  if (
    extra !== undefined && (extra === null || typeof extra !== "object" || Array.isArray(extra))
  ) {
    throw new TypeError(
      `Cannot ${what} as 'connectOptions' must be an object of connect() options: received ${
        show(extra)
      }`,
    );
  }
  // What has an option of its own here would be overwritten (or fight it): refused, naming it.
  const own: Record<string, string[]> = {
    servers: ["servers"],
    user: ["user"],
    pass: ["pass"],
    token: ["token"],
    authenticator: ["nkeySeed", "credsFile"],
    tls: ["tls"],
  };
  for (const [key, value] of Object.entries(extra ?? {})) {
    if (value === undefined || !Object.hasOwn(own, key)) continue;
    const instead = own[key]!.map((name) => `'${label(name)}'`).join(" or ");
    throw new TypeError(
      `Cannot ${what} as 'connectOptions' must not hold '${key}': give it as ${instead}`,
    );
  }
  let user = text("user");
  let pass = text("pass");
  let token = text("token");
  const nkeySeed = text("nkeySeed");
  const credsFile = text("credsFile");
  let tlsRequired = false;
  const plain = servers.map((server) => {
    const { scheme: written, auth, rest } = splitServerUrl(server.trim());
    const scheme = written.toLowerCase();
    if (scheme === "tls://") tlsRequired = true;
    if (auth !== undefined && auth !== "") {
      // A user name holds no ":"; the password is all that follows the first one.
      const colon = auth.indexOf(":");
      if (colon < 0) token ??= decodeCredential(auth);
      else {
        user ??= decodeCredential(auth.slice(0, colon));
        pass ??= decodeCredential(auth.slice(colon + 1));
      }
    }
    // The client parses it as an http URL and, when that fails, retries for ever.
    if (!URL.canParse(`http://${rest}`)) {
      throw new TypeError(
        `Cannot ${what} as '${label("servers")}' must hold URLs of NATS servers: received ${
          show(redact(server))
        }`,
      );
    }
    return `${scheme || "nats://"}${rest}`;
  });
  if (pass !== undefined && user === undefined) {
    throw new TypeError(
      `Cannot ${what} as '${label("pass")}' needs '${label("user")}': received only a password`,
    );
  }
  const out: NodeConnectionOptions = {
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    ...options.connectOptions as Partial<NodeConnectionOptions>,
    servers: plain,
  };
  if (user !== undefined) out.user = user;
  if (pass !== undefined) out.pass = pass;
  if (token !== undefined) out.token = token;
  if (nkeySeed !== undefined) {
    if (!/^SU[A-Z2-7]+$/.test(nkeySeed.trim())) {
      throw new TypeError(
        `Cannot ${what} as '${
          label("nkeySeed")
        }' must be a user NKey seed (it starts with "SU"): received a value that does not`,
      );
    }
    out.authenticator = nkeyAuthenticator(new TextEncoder().encode(nkeySeed.trim()));
  }
  if (credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = Deno.readFileSync(credsFile);
    } catch (error) {
      throw new TypeError(
        `Cannot ${what} as '${label("credsFile")}' cannot be read: received ${show(credsFile)} (${
          error instanceof Error ? error.message : String(error)
        })`,
      );
    }
    out.authenticator = credsAuthenticator(creds);
  }
  const tls = options.tls;
  if (tls !== undefined && typeof tls !== "boolean" && (typeof tls !== "object" || tls === null)) {
    throw new TypeError(
      `Cannot ${what} as 'tls' must be true, false or an object of files: received ${show(tls)}`,
    );
  }
  if (typeof tls === "object") {
    for (const [key, value] of Object.entries(tls)) {
      if (!["caFile", "certFile", "keyFile", "ca", "cert", "key"].includes(key)) {
        throw new TypeError(`Cannot ${what} as 'tls.${key}' is not a TLS option`);
      }
      if (typeof value !== "string" || value === "") {
        throw new TypeError(
          `Cannot ${what} as 'tls.${key}' must be a non-empty string: received ${
            received(`tls.${key}`, value)
          }`,
        );
      }
    }
    out.tls = { ...tls };
  } else if (tls === true || tlsRequired) out.tls = {};
  return out;
}

/**
 * Whether an error means the server refused these credentials or a certificate did not check
 * out (retrying cannot help).
 */
export function isAuthError(error: unknown): boolean {
  const text = error instanceof Error
    ? `${error.name} ${error.message} ${String((error as { cause?: unknown }).cause ?? "")}`
    : String(error);
  return /authoriz|authentica|user.*(expired|revoked)/i.test(text) || needsClientCert(error) ||
    error instanceof CertificateError;
}

/** Whether the server asked for a client certificate this side has not got. */
function needsClientCert(error: unknown): boolean {
  return error instanceof Error && error.message === CLIENT_CERT_REQUIRED;
}

/** What went wrong connecting, in one line that names the servers (passwords hidden). */
export function describeConnectError(servers: string[], error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  const where = servers.map(redact).join(", ");
  if (needsClientCert(error)) {
    return `Cannot connect to NATS at ${where}: ${reason}; give a certificate and its key (options 'tls.certFile' and 'tls.keyFile', worker flags --tls-cert and --tls-key)`;
  }
  if (error instanceof CertificateError) return `Cannot connect to NATS at ${where}: ${reason}`;
  if (isAuthError(error)) {
    return `Cannot connect to NATS at ${where}: the server refused the credentials (${reason}); check the user, password, token, NKey or .creds file`;
  }
  if (noTlsServer(error)) {
    return `Cannot connect to NATS at ${where}: ${reason}, and TLS was asked for (a tls:// URL, the 'tls' option, or the worker's --tls flags and FUTURES_NATS_TLS_* variables)`;
  }
  return `Cannot connect to NATS at ${where}: ${reason}`;
}

/** The server answered without TLS where TLS was asked for: trying again cannot help. */
function noTlsServer(error: unknown): boolean {
  return error instanceof Error && error.message === "server does not support 'tls'";
}

/**
 * Connects once; on failure throws an Error whose message names the servers and the reason, and
 * whose `cause` is the client's error.
 */
export async function connectOnce(options: NodeConnectionOptions): Promise<NatsConnection> {
  try {
    return await connectNats(options);
  } catch (error) {
    throw new Error(describeConnectError([options.servers ?? []].flat(), error), {
      cause: error,
    });
  }
}

/**
 * Connects, waiting for a server that is not up yet: tries again every `retryMs` and logs one
 * line when it starts waiting. Refused credentials end it at once (a retry cannot help).
 */
export async function connectPatiently(
  options: NodeConnectionOptions,
  log: (line: string) => void,
  retryMs = 1_000,
): Promise<NatsConnection> {
  let logged = false;
  for (;;) {
    try {
      return await connectNats(options);
    } catch (error) {
      const servers = [options.servers ?? []].flat();
      // Refused, or a server without TLS where TLS was asked for: the same answer each time.
      if (isAuthError(error) || noTlsServer(error)) {
        throw new Error(describeConnectError(servers, error), { cause: error });
      }
      if (!logged) {
        logged = true;
        log(`${describeConnectError(servers, error)}; trying again every ${retryMs} ms`);
      }
      await new Promise((resolve) => setTimeout(resolve, retryMs));
    }
  }
}

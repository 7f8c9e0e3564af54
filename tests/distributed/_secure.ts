// Fixtures of the security tests: certificates made with openssl, NKeys and a .creds file made
// here, and worker processes whose output the test reads.

import { createAccount, createOperator, createUser, type KeyPair } from "@nats-io/nkeys";
import { Spawned } from "../../distributed/_processes.ts";

const WORKER = new URL("../../distributed/worker.ts", import.meta.url).href;

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null" })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** Paths of a test CA, a server certificate for 127.0.0.1 and a client certificate. */
export interface Certs {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** Makes a CA and the certificates it signs, in `dir`. */
export async function makeCerts(dir: string): Promise<Certs> {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await openssl(
    dir,
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=futures test CA",
  );
  await Deno.writeTextFile(`${dir}/server.ext`, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await Deno.writeTextFile(`${dir}/client.ext`, "extendedKeyUsage=clientAuth\n");
  for (const [name, subject] of [["server", "/CN=127.0.0.1"], ["client", "/CN=worker"]]) {
    await openssl(
      dir,
      "req",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject!,
    );
    await openssl(
      dir,
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    );
  }
  return {
    ca: `${dir}/ca.pem`,
    serverCert: `${dir}/server.pem`,
    serverKey: `${dir}/server.key`,
    clientCert: `${dir}/client.pem`,
    clientKey: `${dir}/client.key`,
  };
}

/** A user NKey: its public key (for the server) and its seed (for the client). */
export function makeNkey(): { publicKey: string; seed: string } {
  const pair = createUser();
  return { publicKey: pair.getPublicKey(), seed: new TextDecoder().decode(pair.getSeed()) };
}

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

function jwt(
  signer: KeyPair,
  subject: string,
  name: string,
  nats: Record<string, unknown>,
): string {
  const text = new TextEncoder();
  const header = b64url(text.encode(JSON.stringify({ typ: "JWT", alg: "ed25519-nkey" })));
  const claims = {
    jti: crypto.randomUUID().replaceAll("-", "").toUpperCase(),
    iat: Math.floor(Date.now() / 1000),
    iss: signer.getPublicKey(),
    name,
    sub: subject,
    nats: { ...nats, version: 2 },
  };
  const body = b64url(text.encode(JSON.stringify(claims)));
  return `${header}.${body}.${b64url(signer.sign(text.encode(`${header}.${body}`)))}`;
}

/**
 * An operator-mode server configuration (an operator, one account with JetStream, one user) and
 * the user's `.creds` file text.
 */
export function makeOperator(): { config: string; creds: string } {
  const operator = createOperator();
  const account = createAccount();
  const system = createAccount();
  const user = createUser();
  const unlimited = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, wildcards: true };
  const operatorJwt = jwt(operator, operator.getPublicKey(), "op", { type: "operator" });
  const accountJwt = jwt(operator, account.getPublicKey(), "acct", {
    type: "account",
    limits: {
      ...unlimited,
      conn: -1,
      leaf: -1,
      mem_storage: -1,
      disk_storage: -1,
      streams: -1,
      consumer: -1,
    },
  });
  const userJwt = jwt(account, user.getPublicKey(), "worker", {
    type: "user",
    pub: {},
    sub: {},
    subs: -1,
    data: -1,
    payload: -1,
  });
  // JetStream needs a system account in operator mode.
  const systemJwt = jwt(operator, system.getPublicKey(), "SYS", {
    type: "account",
    limits: { ...unlimited, conn: -1, leaf: -1 },
  });
  const config = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
  ].join("\n");
  const seed = new TextDecoder().decode(user.getSeed());
  const creds = [
    "-----BEGIN NATS USER JWT-----",
    userJwt,
    "------END NATS USER JWT------",
    "",
    "-----BEGIN USER NKEY SEED-----",
    seed,
    "------END USER NKEY SEED------",
    "",
  ].join("\n");
  return { config, creds };
}

/** A worker process whose stderr the test reads line by line. */
export class WatchedWorker {
  readonly process: Spawned;
  readonly #lines: ReadableStreamDefaultReader<string>;
  #buffer = "";
  readonly seen: string[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", WORKER, ...args],
      env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.process = new Spawned(child, "worker");
    this.#lines = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Resolves with the first stderr line matching `pattern`, or undefined at the end. */
  async waitFor(pattern: RegExp): Promise<string | undefined> {
    for (;;) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        this.seen.push(line);
        if (pattern.test(line)) return line;
        continue;
      }
      const { value, done } = await this.#lines.read();
      if (done) {
        if (this.#buffer) this.seen.push(this.#buffer);
        this.#buffer = "";
        return undefined;
      }
      this.#buffer += value;
    }
  }

  /** Reads the rest of stderr and the exit status. */
  async end(): Promise<{ code: number; stderr: string[] }> {
    await this.waitFor(/$^/);
    const status = await this.process.status;
    return { code: status.code, stderr: this.seen };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.process.stop("SIGKILL");
    await this.#lines.cancel().catch(() => {});
  }
}

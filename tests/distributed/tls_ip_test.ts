// A tls:// URL with an IP address: the server's certificate was checked against "localhost" (the
// TLS connect got no host, and no server name as an IP address is none), so a certificate for
// DNS:localhost passed for any address and one for the address dialed was refused. It is checked
// against the address of the URL now; a host name is checked as before.

import assert from "node:assert/strict";
import dns from "node:dns";
import { connectionOptions, connectOnce } from "../../distributed/_auth.ts";
import { NatsServer } from "../../distributed/_processes.ts";

/**
 * The addresses "localhost" resolves to, by the lookup the NATS client makes (node:dns `lookup`,
 * all of them). The client dials each in turn, in random order, until one connects; when none
 * does, the error is the last dial's. The test server listens on 127.0.0.1 only (NatsServer takes
 * one address, and the wildcard would open it to the network): where localhost also resolves to
 * ::1, as it may on a dual-stack machine, the dial there is refused, and that refusal may be the
 * error reported instead of the certificate's.
 */
const LOCALHOST: string[] = await new Promise((resolve) =>
  dns.lookup("localhost", { all: true }, (error, addresses) => {
    // Unresolved, it is no address: the test that needs it is skipped, saying so.
    resolve(error ? [`none (${error.message})`] : addresses.map((a) => a.address));
  })
);

async function openssl(dir: string, ...args: string[]): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null" })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A test CA in `dir`: its certificate is `dir/ca.pem`. */
async function makeCa(dir: string): Promise<string> {
  await openssl(
    dir,
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=futures test CA",
  );
  return `${dir}/ca.pem`;
}

/**
 * A server certificate signed by the CA of `dir` whose subjectAltName is `san` only (its common
 * name names nothing the client could match); resolves with its file and key's.
 */
async function makeServerCert(
  dir: string,
  name: string,
  san: string,
): Promise<{ cert: string; key: string }> {
  await Deno.writeTextFile(`${dir}/${name}.ext`, `subjectAltName=${san}\n`);
  await openssl(
    dir,
    "req",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    "/CN=nats",
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
  return { cert: `${dir}/${name}.pem`, key: `${dir}/${name}.key` };
}

/**
 * Starts a TLS nats-server on 127.0.0.1 with a certificate for `san` only, and gives `fn` its port
 * and the CA file; the server is stopped (and its store removed) whatever happens.
 */
async function withTlsServer(
  san: string,
  fn: (port: number, ca: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "futures-tls-ip-" });
  try {
    const ca = await makeCa(dir);
    const { cert, key } = await makeServerCert(dir, "server", san);
    const server = await NatsServer.start({
      config: `tls { cert_file: "${cert}", key_file: "${key}" }`,
    });
    try {
      await fn(server.port, ca);
    } finally {
      await server.destroy();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Connects once to `url`, trusting `ca`; resolves with "connected" or the error. */
async function tryConnect(url: string, ca: string): Promise<"connected" | Error> {
  const options = connectionOptions([url], { tls: { caFile: ca } }, "connect");
  try {
    const nc = await connectOnce(options);
    await nc.close();
    return "connected";
  } catch (error) {
    assert(error instanceof Error);
    return error;
  }
}

Deno.test("a tls:// URL with an IP address accepts a server certificate that names that address (IP:127.0.0.1 only)", async () => {
  await withTlsServer("IP:127.0.0.1", async (port, ca) => {
    const outcome = await tryConnect(`tls://127.0.0.1:${port}`, ca);
    assert.equal(outcome instanceof Error ? outcome.message : outcome, "connected");
  });
});

Deno.test("a tls:// URL with an IP address refuses a certificate for DNS:localhost only, naming the mismatch", async () => {
  await withTlsServer("DNS:localhost", async (port, ca) => {
    const outcome = await tryConnect(`tls://127.0.0.1:${port}`, ca);
    assert(outcome instanceof Error, "a certificate for localhost was accepted for 127.0.0.1");
    assert.match(
      outcome.message,
      new RegExp(`^Cannot connect to NATS at tls://127\\.0\\.0\\.1:${port}: `),
    );
    assert.match(outcome.message, /IP: 127\.0\.0\.1 is not in the cert's list/);
    assert.match(outcome.message, /does not name 127\.0\.0\.1/);
    assert.equal((outcome.cause as Error | undefined)?.name, "CertificateError");
  });
});

Deno.test({
  name: "a tls:// URL with a host name is checked against that name, as before (DNS:localhost)",
  // Only through 127.0.0.1 can the client reach the server by the name localhost.
  ignore: !LOCALHOST.includes("127.0.0.1"),
  fn: async () => {
    await withTlsServer("DNS:localhost", async (port, ca) => {
      const outcome = await tryConnect(`tls://localhost:${port}`, ca);
      assert.equal(outcome instanceof Error ? outcome.message : outcome, "connected");
    });
    await withTlsServer("IP:127.0.0.1", async (port, ca) => {
      // The address localhost resolves to is not the name of the URL.
      const outcome = await tryConnect(`tls://localhost:${port}`, ca);
      assert(outcome instanceof Error, "a certificate for 127.0.0.1 was accepted for localhost");
      // Where localhost has another address, the error may be that dial's refusal.
      if (LOCALHOST.every((address) => address === "127.0.0.1")) {
        assert.match(outcome.message, /does not name localhost/);
      }
    });
  },
});

if (!LOCALHOST.includes("127.0.0.1")) {
  console.warn(
    `tls_ip_test.ts: the host-name test is skipped: localhost resolves to ${
      LOCALHOST.join(", ")
    } here, not to 127.0.0.1, where the test server listens`,
  );
}

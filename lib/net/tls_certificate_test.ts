/**
 * Reading a target's certificate beside a run: pinned to the vetted address with the URL's
 * name as SNI, remembered per target, bounded by the caller's deadline. Against a real
 * node:tls server on 127.0.0.1 (it reports the SNI name and counts connections); the expected
 * fields come from node:crypto's X509Certificate, reading the fixture file itself.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { createSecureContext, createServer } from "node:tls";
import { CertificateReader, readCertificate } from "./tls_certificate.ts";

const dir = new URL("../../tests/fixtures/tls/", import.meta.url);
const cert = await Deno.readTextFile(new URL("server.pem", dir));
const key = await Deno.readTextFile(new URL("server.key", dir));
const fixture = new X509Certificate(cert);

/** A TLS server on 127.0.0.1 that presents the fixture certificate and says nothing. */
async function tlsServer() {
  const names: string[] = [];
  let connections = 0;
  const context = createSecureContext({ cert, key });
  const server = createServer({
    cert,
    key,
    SNICallback: (name, done) => {
      names.push(name);
      done(null, context);
    },
  }, (socket) => socket.end());
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    names,
    connections: () => connections,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Accepts connections and never answers: a handshake to it can only time out. */
function silentServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) conns.push(conn);
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accepted: () => conns.length,
    async close() {
      listener.close();
      conns.forEach((conn) => conn.close());
      await serving.catch(() => {});
    },
  };
}

Deno.test("readCertificate() reads what the vetted address presents for the URL's host name", async () => {
  const server = await tlsServer();
  try {
    // hooks.test resolves nowhere: only the pinned address can have been connected to.
    const read = await readCertificate(
      { hostname: "hooks.test", address: "127.0.0.1", port: server.port },
      5000,
    );
    assert.deepEqual(read, {
      subject: "CN=localhost",
      issuer: "CN=Hibiki test CA",
      validFrom: fixture.validFromDate.toISOString(),
      validTo: fixture.validToDate.toISOString(),
      serialNumber: fixture.serialNumber,
      fingerprint256: fixture.fingerprint256,
    });
    assert.equal(read.validTo, "2126-11-10T21:09:08.000Z");
    assert.deepEqual(server.names, ["hooks.test"]);
  } finally {
    await server.close();
  }
});

Deno.test("readCertificate() sends no server name for an address in the URL", async () => {
  const server = await tlsServer();
  try {
    const read = await readCertificate(
      { hostname: "127.0.0.1", address: null, port: server.port },
      5000,
    );
    assert.equal(read.fingerprint256, fixture.fingerprint256);
    assert.ok(!server.names.some((name) => name !== ""), `SNI sent: ${server.names}`);
  } finally {
    await server.close();
  }
});

Deno.test("CertificateReader reads a target once an hour, not once a run", async () => {
  const server = await tlsServer();
  let now = 0;
  const reader = new CertificateReader({ now: () => now });
  const target = { hostname: "hooks.test", address: "127.0.0.1", port: server.port };
  try {
    const first = await reader.read(target, 5000);
    assert.equal(first?.fingerprint256, fixture.fingerprint256);
    now += 59 * 60_000;
    assert.deepEqual(await reader.read(target, 5000), first);
    assert.equal(server.connections(), 1);
    // Another name or address on the same port is another target.
    await reader.read({ ...target, hostname: "localhost" }, 5000);
    assert.equal(server.connections(), 2);
    now += 2 * 60_000;
    assert.deepEqual(await reader.read(target, 5000), first);
    assert.equal(server.connections(), 3);
  } finally {
    await server.close();
  }
});

Deno.test("CertificateReader shares one handshake among reads of a target at the same time", async () => {
  const server = await tlsServer();
  const reader = new CertificateReader();
  const target = { hostname: "hooks.test", address: "127.0.0.1", port: server.port };
  try {
    const reads = await Promise.all([1, 2, 3, 4, 5].map(() => reader.read(target, 5000)));
    assert.ok(reads.every((read) => read?.fingerprint256 === fixture.fingerprint256));
    assert.equal(server.connections(), 1);
  } finally {
    await server.close();
  }
});

Deno.test("CertificateReader gives up at the caller's deadline and tries again after five minutes", async () => {
  const server = silentServer();
  let now = 0;
  const reader = new CertificateReader({ now: () => now });
  const target = { hostname: "hooks.test", address: "127.0.0.1", port: server.port };
  try {
    const started = performance.now();
    assert.equal(await reader.read(target, 150), null);
    const took = performance.now() - started;
    assert.ok(took < 2000, `took ${took} ms`);
    now += 4 * 60_000;
    assert.equal(await reader.read(target, 150), null);
    assert.equal(server.accepted(), 1);
    now += 2 * 60_000;
    assert.equal(await reader.read(target, 150), null);
    assert.equal(server.accepted(), 2);
  } finally {
    await server.close();
  }
});

Deno.test("CertificateReader answers null for a target that does not speak TLS", async () => {
  const plain = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response());
  try {
    const read = await new CertificateReader().read(
      { hostname: "127.0.0.1", address: null, port: plain.addr.port },
      5000,
    );
    assert.equal(read, null);
  } finally {
    await plain.shutdown();
  }
});

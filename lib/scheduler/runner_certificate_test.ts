/**
 * What a run records of an https target's certificate: through the real client and a real
 * TLS server on 127.0.0.1 presenting the fixture certificate (valid until 2126-11-10
 * 21:09:08 UTC), the run's time set by the injected clock so the days left are exact.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { ManualClock } from "../clock.ts";
import { Metrics } from "../metrics.ts";
import { closeOutbound, useExtraCaCerts } from "../net/outbound.ts";
import { ok, rawServer, RequestReader, write } from "../net/raw_server_test_support.ts";
import { CertificateReader } from "../net/tls_certificate.ts";
import { KvStore } from "../store/kv/kv_store.ts";
import { KvLaneStore } from "../store/kv/lanes.ts";
import type { Run } from "../store/types.ts";
import type { FireTask } from "./fires.ts";
import { Runner } from "./runner.ts";
import { putJob } from "./test_support.ts";

const dir = new URL("../../tests/fixtures/tls/", import.meta.url);
const cert = await Deno.readTextFile(new URL("server.pem", dir));
const VALID_TO = Date.UTC(2126, 10, 10, 21, 9, 8);
const DAY_MS = 86_400_000;

/** A TLS server on 127.0.0.1 answering every request with 200 "secure", counting connections. */
async function tlsServer() {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key: await Deno.readTextFile(new URL("server.key", dir)),
  });
  let accepted = 0;
  const serving = (async () => {
    for await (const conn of listener) {
      accepted++;
      (async () => {
        const reader = new RequestReader(conn);
        while (await reader.next()) await write(conn, ok("secure"));
      })().catch(() => {});
    }
  })();
  return {
    url: `https://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/`,
    accepted: () => accepted,
    async close() {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

async function setup(at: number) {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(at);
  const store = new KvStore(kv, {
    clock,
    retention: { count: 1000, maxAgeMs: 400 * 365 * DAY_MS },
  });
  const runner = new Runner({
    store,
    lanes: new KvLaneStore(kv),
    clock,
    metrics: new Metrics(),
    allowPrivateNetworks: true,
    catchUpDeadlineMs: 60_000,
    certificates: new CertificateReader(),
  });
  /** Runs `jobId` now and answers the run recorded. */
  const run = async (jobId: string): Promise<Run> => {
    const now = clock.now();
    const task: FireTask = {
      at: now,
      userId: "default",
      jobId,
      suffix: "manual",
      trigger: "MANUAL",
      timeoutMs: 5000,
      retaken: false,
    };
    const lease = ["lease", now];
    await kv.set(lease, { trigger: "MANUAL", timeoutMs: 5000 });
    await runner.execute(task, lease, now + 30_000);
    const stored = await store.getRun("default", jobId, `${now}-manual`);
    assert.ok(stored, "the run was recorded");
    return stored;
  };
  return { kv, clock, store, run };
}

Deno.test("an https run records its host's certificate, with the days left at the run's start", async () => {
  const server = await tlsServer();
  useExtraCaCerts([await Deno.readTextFile(new URL("ca.pem", dir))]);
  // Ten days and an hour before expiry: ten whole days left.
  const { kv, clock, store, run } = await setup(VALID_TO - 10 * DAY_MS - 3_600_000);
  try {
    const job = await putJob(store, clock.now(), { schedule: "0 0 1 1 *", url: server.url });
    const first = await run(job.id);
    assert.equal(first.status, "success");
    const fixture = new X509Certificate(cert);
    assert.deepEqual(first.tls, {
      subject: "CN=localhost",
      issuer: "CN=Hibiki test CA",
      validFrom: fixture.validFromDate.toISOString(),
      validTo: "2126-11-10T21:09:08.000Z",
      daysLeft: 10,
      serialNumber: fixture.serialNumber,
      fingerprint256: fixture.fingerprint256,
    });
    // The run's own connection and the certificate read.
    assert.equal(server.accepted(), 2);

    // Two hours on, on a new connection: the certificate is not read again.
    closeOutbound();
    clock.advance(2 * 3_600_000);
    const second = await run(job.id);
    assert.equal(second.tls?.daysLeft, 9);
    assert.equal(second.tls?.validTo, first.tls?.validTo);
    assert.equal(server.accepted(), 3);
  } finally {
    useExtraCaCerts(undefined);
    closeOutbound();
    await server.close();
    kv.close();
  }
});

Deno.test("an http run records no certificate", async () => {
  const server = rawServer(async (_, conn) => (await write(conn, ok()), "close"));
  const { kv, clock, store, run } = await setup(Date.UTC(2026, 11, 1));
  try {
    const job = await putJob(store, clock.now(), { schedule: "0 0 1 1 *", url: server.url });
    const recorded = await run(job.id);
    assert.equal(recorded.status, "success");
    assert.equal("tls" in recorded, false);
  } finally {
    closeOutbound();
    await server.close();
    kv.close();
  }
});

Deno.test("an https run whose certificate is not trusted fails as before and records it", async () => {
  const server = await tlsServer();
  const { kv, clock, store, run } = await setup(Date.UTC(2126, 0, 1));
  try {
    const job = await putJob(store, clock.now(), { schedule: "0 0 1 1 *", url: server.url });
    const recorded = await run(job.id);
    assert.equal(recorded.status, "failure");
    assert.equal(recorded.error?.category, "tls");
    assert.equal(recorded.tls?.validTo, "2126-11-10T21:09:08.000Z");
    assert.equal(recorded.tls?.daysLeft, 313);
  } finally {
    closeOutbound();
    await server.close();
    kv.close();
  }
});

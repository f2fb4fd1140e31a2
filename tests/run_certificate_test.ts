/**
 * An https job's certificate, through the whole system: a run sent for real to a TLS server on
 * 127.0.0.1 (the fixture certificate, valid until 2126-11-10 21:09:08 UTC) shows it in the
 * API's run answer and on the admin run page; an http run shows none.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { closeOutbound, useExtraCaCerts } from "../lib/net/outbound.ts";
import { probe } from "../lib/net/probe.ts";
import type { Run } from "../lib/store/types.ts";
import { AdminTestSystem } from "./admin_client.ts";
import { expectStatus, T0, TestSystem } from "./helpers.ts";

const dir = new URL("./fixtures/tls/", import.meta.url);
const cert = await Deno.readTextFile(new URL("server.pem", dir));
const DAY_MS = 86_400_000;
/** From T0 (2026-03-02 12:00 UTC) to 2126-11-10 21:09:08 UTC, in whole days. */
const DAYS_LEFT = Math.floor((Date.UTC(2126, 10, 10, 21, 9, 8) - T0) / DAY_MS);

function tlsServer() {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    cert,
    key: Deno.readTextFileSync(new URL("server.key", dir)),
  }, () => new Response("secure"));
  return Object.assign(server, { url: `https://127.0.0.1:${server.addr.port}/` });
}

async function trustingTheTestCa<T>(work: () => Promise<T>): Promise<T> {
  useExtraCaCerts([await Deno.readTextFile(new URL("ca.pem", dir))]);
  try {
    return await work();
  } finally {
    useExtraCaCerts(undefined);
    closeOutbound();
  }
}

Deno.test("the API's run answer shows an https job's certificate and days left", async () => {
  await using server = tlsServer();
  await using http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("plain"),
  );
  await trustingTheTestCa(async () => {
    await using s = await TestSystem.start({
      realProbe: true,
      env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" },
    });
    const runOnce = async (url: string): Promise<Run> => {
      const job = await s.createJob({ url });
      const started = await s.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
      expectStatus(started, 202);
      await s.settle();
      const answer = await s.call<Run>(
        "GET",
        `/api/jobs/${job.id}/runs/${started.body.data.runId}`,
      );
      expectStatus(answer, 200);
      return answer.body.data;
    };
    const secure = await runOnce(server.url);
    assert.equal(secure.status, "success");
    const fixture = new X509Certificate(cert);
    assert.deepEqual(secure.tls, {
      subject: "CN=localhost",
      issuer: "CN=Hibiki test CA",
      validFrom: fixture.validFromDate.toISOString(),
      validTo: "2126-11-10T21:09:08.000Z",
      daysLeft: DAYS_LEFT,
      serialNumber: fixture.serialNumber,
      fingerprint256: fixture.fingerprint256,
    });
    const plain = await runOnce(`http://127.0.0.1:${http.addr.port}/`);
    assert.equal(plain.status, "success");
    assert.equal("tls" in plain, false);
  });
});

Deno.test("the admin run page shows the certificate's expiry, days left, subject and issuer", async () => {
  await using server = tlsServer();
  await trustingTheTestCa(async () => {
    await using s = await AdminTestSystem.start(
      { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" },
      { probe: (request, options) => probe(request, options) },
    );
    const client = s.client();
    await client.signIn();
    await client.get("/admin");
    const job = await client.createJob({ name: "Secure", url: server.url, schedule: "0 9 * * *" });
    await client.get(`/admin/jobs/${job.id}`);
    const ran = await client.post(`/admin/jobs/${job.id}/run`);
    const runId = new URL(ran.location!, "http://x").searchParams.get("ran");
    const fires = s.system.lanes.fires;
    await fires.drain();
    while (fires.active > 0) await new Promise((resolve) => setTimeout(resolve, 1));

    const page = await client.get(`/admin/jobs/${job.id}/runs/${runId}`);
    assert.equal(page.status, 200);
    assert.match(
      page.html,
      new RegExp(
        `data-testid="certificate-expiry"><time datetime="2126-11-10T21:09:08.000Z"[^>]*>` +
          `2126-11-10 21:09:08 UTC</time> \\(${DAYS_LEFT} days left\\)<`,
      ),
    );
    assert.match(page.html, /<dd>CN=localhost<\/dd>/);
    assert.match(page.html, /<dd>CN=Hibiki test CA<\/dd>/);
    const ja = await client.get(`/admin/jobs/${job.id}/runs/${runId}`, {
      "accept-language": "ja",
    });
    assert.match(ja.html, new RegExp(`残り ${DAYS_LEFT} 日`));
  });
});

/**
 * Certificate expiry warnings through the whole system (issue 13, "TLS certificates"): https
 * runs on the injected clock record the certificate the probe saw, the alerting engine decides
 * whether to warn in the commit that decides the interval, and the notification lane sends a
 * `certificate.expiring` message to the job's channels: once per certificate, again for a
 * renewed one when its days come, once across two processes on one KV file, never with
 * `certificateDays: null`, held back by maintenance windows, never grouped with incidents.
 */
import assert from "node:assert/strict";
import type { WebhookPayload } from "../lib/alerts/channels/webhook.ts";
import type { ProbeResult } from "../lib/net/probe.ts";
import type { ServerCertificate } from "../lib/net/tls_certificate.ts";
import { KvAlertStore } from "../lib/store/kv/alerts.ts";
import {
  atMinute,
  delivered,
  incidentsOf,
  MINUTE,
  namedChannels,
  stateOf,
  TestCalendar,
  uptimeOf,
} from "./alerts_support.ts";
import { expectError, expectStatus, okProbe, T0, TestSystem } from "./helpers.ts";
import { type Receiver, startReceiver } from "./webhook_receiver.ts";

const DAY = 86_400_000;
const PRIVATE = { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", HIBIKI_PUBLIC_URL: "https://hibiki.test" };
/** Checked every day at 13:00 UTC; created at T0 (12:00), so its first run is at minute 60. */
const DAILY = { name: "Shop", url: "https://shop.example.com/", schedule: "0 13 * * *" };
const EVERY_MINUTE = { name: "Shop", url: "https://shop.example.com/", schedule: "* * * * *" };

/** The minute (after T0) of the daily job's run on day `n` (0: the first). */
const dayRun = (n: number) => 60 + n * 24 * 60;

/** A 90-day certificate valid until `validTo`, its fingerprint made of `mark`. */
function certificate(mark: string, validTo: number): ServerCertificate {
  return {
    subject: "CN=shop.example.com",
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    validFrom: new Date(validTo - 90 * DAY).toISOString(),
    validTo: new Date(validTo).toISOString(),
    serialNumber: `05${mark}`,
    fingerprint256: Array.from({ length: 32 }, () => mark).join(":"),
  };
}

/** A probe presenting the certificate the test puts in `current` (none while null). */
function presenting(start: ServerCertificate | null, fields: Partial<ProbeResult> = {}) {
  const state = { current: start, fields };
  return {
    state,
    probe: (): ProbeResult => ({
      ...okProbe(),
      ...(state.current ? { certificate: state.current } : {}),
      ...state.fields,
    }),
  };
}

function payloads(receiver: Receiver): WebhookPayload[] {
  return receiver.received.map((r) => JSON.parse(r.text));
}

async function webhookChannel(t: TestSystem, receiver: Receiver, name = "ops hook") {
  const answer = await t.call<{ id: string }>("POST", "/api/channels", {
    body: { name, type: "webhook", config: { url: receiver.url } },
  });
  expectStatus(answer, 201);
  return answer.body.data.id;
}

/** Valid until day 10 and a half: at 13:00 on day 0, 10 whole days are left. */
const EXPIRES_IN_10_DAYS = T0 + 10.5 * DAY;

Deno.test("a certificate expiring in 10 days warns the job's channels once, at once, escalation or not, without an incident", async () => {
  const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS));
  await using receiver = startReceiver();
  await using t = await TestSystem.start({ probe: cert.probe, env: PRIVATE });
  const hook = await webhookChannel(t, receiver);
  const later = await webhookChannel(t, receiver, "escalated hook");
  const job = await t.createJob({
    ...DAILY,
    alerts: { channels: [{ channelId: hook }, { channelId: later, delayMinutes: 30 }] },
  });

  await atMinute(t, dayRun(0));
  const sent = payloads(receiver);
  assert.deepEqual(sent.map((p) => p.type), ["certificate.expiring", "certificate.expiring"]);
  const [body] = sent;
  assert.equal(body.test, false);
  assert.equal(body.incident, undefined);
  assert.deepEqual(body.certificate, {
    subject: "CN=shop.example.com",
    issuer: "C=US, O=Let's Encrypt, CN=R11",
    validFrom: new Date(EXPIRES_IN_10_DAYS - 90 * DAY).toISOString(),
    validTo: new Date(EXPIRES_IN_10_DAYS).toISOString(),
    daysLeft: 10,
    thresholdDays: 14,
    serialNumber: "05AA",
    fingerprint256: certificate("AA", 0).fingerprint256,
    runId: `${T0 + dayRun(0) * MINUTE}-local`,
  });
  assert.deepEqual(body.jobs, [{
    id: job.id,
    name: "Shop",
    url: "https://shop.example.com/",
    state: "up",
    adminUrl: `https://hibiki.test/admin/jobs/${job.id}`,
  }]);
  // Recorded as sent, under the id the receiver saw.
  const ids = receiver.received.map((r) => r.headers.get("webhook-id")!);
  const records = await new KvAlertStore(t.kv).getNotifications(ids);
  assert.deepEqual(records.map((r) => [r?.notification.kind, r?.notification.state]), [
    ["certificate.expiring", "sent"],
    ["certificate.expiring", "sent"],
  ]);
  assert.deepEqual(records[0]?.notification.incidentIds, []);

  // The same certificate on the following days: nothing more.
  await atMinute(t, dayRun(1));
  await atMinute(t, dayRun(2));
  assert.equal(receiver.received.length, 2);
  // A warning is no outage: no incident, the job up, its uptime whole.
  assert.deepEqual(await incidentsOf(t), []);
  assert.equal((await stateOf(t, job.id)).state, "up");
  assert.equal((await uptimeOf(t, job.id)).windows["24h"].downMs, 0);
});

Deno.test("a renewed certificate does not warn until its own days come, then warns again", async () => {
  const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS));
  const sent: string[] = [];
  await using t = await TestSystem.start({ probe: cert.probe, notify: delivered(sent) });
  const ch = await namedChannels(t, ["ops"]);
  await t.createJob({ ...DAILY, alerts: { channels: [{ channelId: ch.id("ops") }] } });
  await atMinute(t, dayRun(0));
  assert.deepEqual(sent, ["ops certificate.expiring"]);

  // Renewed on day 2 for 90 days: 88 days left, far from the 14.
  const renewedUntil = T0 + 92 * DAY;
  cert.state.current = certificate("BB", renewedUntil);
  await atMinute(t, dayRun(2));
  await atMinute(t, dayRun(40));
  assert.deepEqual(sent, ["ops certificate.expiring"]);
  // Day 79: 12 days left of the renewed one, which was never warned about.
  await atMinute(t, dayRun(79));
  assert.deepEqual(sent, ["ops certificate.expiring", "ops certificate.expiring"]);
  await atMinute(t, dayRun(80));
  assert.equal(sent.length, 2);
});

Deno.test("certificateDays sets how early to warn, and null never warns", async () => {
  const cert = presenting(certificate("AA", T0 + 20.5 * DAY));
  const sent: string[] = [];
  await using t = await TestSystem.start({ probe: cert.probe, notify: delivered(sent) });
  const ch = await namedChannels(t, ["early", "never", "default"]);
  const alerts = (name: string, certificateDays?: number | null) => ({
    channels: [{ channelId: ch.id(name) }],
    ...(certificateDays === undefined ? {} : { certificateDays }),
  });
  const early = await t.createJob({ ...DAILY, alerts: alerts("early", 30) });
  assert.equal(early.alerts.certificateDays, 30);
  const never = await t.createJob({ ...DAILY, name: "Never", alerts: alerts("never", null) });
  assert.equal(never.alerts.certificateDays, null);
  await t.createJob({ ...DAILY, name: "Default", alerts: alerts("default") });

  await atMinute(t, dayRun(0)); // 20 days left: only the job warning at 30 days
  assert.deepEqual(sent, ["early certificate.expiring"]);
  await atMinute(t, dayRun(7)); // 13 days left: the default's 14 days have come
  assert.deepEqual(sent, ["early certificate.expiring", "default certificate.expiring"]);
  await atMinute(t, dayRun(19)); // hours left: still never for null
  assert.equal(sent.length, 2);
});

Deno.test('alerts.certificateDays is a whole number of days from 1 to 365, null, or "default" to go back', async () => {
  await using t = await TestSystem.start();
  for (const bad of [0, 366, 1.5, "14"]) {
    const answer = await t.call("POST", "/api/jobs", {
      body: { ...DAILY, alerts: { certificateDays: bad } },
    });
    const error = expectError(answer, 400, "INVALID_REQUEST", "alerts");
    assert.match(error.message, /alerts\.certificateDays/);
  }
  const job = await t.createJob({ ...DAILY, alerts: { certificateDays: 7 } });
  assert.equal(job.alerts.certificateDays, 7);
  const reset = await t.call<typeof job>("PATCH", `/api/jobs/${job.id}`, {
    body: { alerts: { certificateDays: "default" } },
  });
  expectStatus(reset, 200);
  const { certificateDays: _, ...rest } = job.alerts;
  assert.deepEqual(reset.body.data.alerts, rest);
});

Deno.test("a maintenance window holds the warning back until the first run after it", async () => {
  const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS));
  const sent: string[] = [];
  const calendar = new TestCalendar([[T0, T0 + 5 * MINUTE]]);
  await using t = await TestSystem.start({ probe: cert.probe, notify: delivered(sent), calendar });
  const ch = await namedChannels(t, ["ops"]);
  await t.createJob({ ...EVERY_MINUTE, alerts: { channels: [{ channelId: ch.id("ops") }] } });
  for (let minute = 1; minute <= 4; minute++) await atMinute(t, minute);
  assert.deepEqual(sent, []);
  await atMinute(t, 5);
  assert.deepEqual(sent, ["ops certificate.expiring"]);
  await atMinute(t, 6);
  assert.equal(sent.length, 1);
});

Deno.test("a warning and an incident opening together are two messages, not a group", async () => {
  const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS), {
    success: false,
    code: 503,
    failure: "Expected status 2xx, got 503",
  });
  const sent: string[] = [];
  await using t = await TestSystem.start({
    probe: cert.probe,
    notify: delivered(sent),
    env: { HIBIKI_ALERT_GROUP_MS: "50" },
  });
  const ch = await namedChannels(t, ["ops"]);
  await t.createJob({
    ...DAILY,
    alerts: { failureThreshold: 1, channels: [{ channelId: ch.id("ops") }] },
  });
  await atMinute(t, dayRun(0));
  assert.deepEqual(sent.sort(), ["ops certificate.expiring", "ops incident.opened"]);
});

Deno.test("a job without channels warns nobody, and a channel added later hears of the certificate", async () => {
  const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS));
  const sent: string[] = [];
  await using t = await TestSystem.start({ probe: cert.probe, notify: delivered(sent) });
  const ch = await namedChannels(t, ["ops"]);
  const job = await t.createJob(DAILY);
  await atMinute(t, dayRun(0));
  assert.deepEqual(sent, []);
  const changed = await t.call("PATCH", `/api/jobs/${job.id}`, {
    body: { alerts: { channels: [{ channelId: ch.id("ops") }] } },
  });
  expectStatus(changed, 200);
  await atMinute(t, dayRun(1));
  assert.deepEqual(sent, ["ops certificate.expiring"]);
});

Deno.test("two processes on one KV file warn of a certificate once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  try {
    const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS));
    await using receiver = startReceiver();
    const masterKey = crypto.getRandomValues(new Uint8Array(32));
    const options = { probe: cert.probe, env: PRIVATE, kvPath, masterKey };
    await using a = await TestSystem.start(options);
    await using b = await TestSystem.start(options);
    const hook = await webhookChannel(a, receiver);
    const job = await a.createJob({ ...EVERY_MINUTE, alerts: { channels: [{ channelId: hook }] } });
    // Both run the job by hand at nearly the same moment: two intervals, decided side by side.
    a.clock.set(T0 + 10_000);
    b.clock.set(T0 + 20_000);
    const runs = await Promise.all(
      [a, b].map((s) => s.call("POST", `/api/jobs/${job.id}/run`)),
    );
    for (const run of runs) expectStatus(run, 202);
    await Promise.all([a.settle(), b.settle(), a.settle(), b.settle()]);
    // Then both tick and drain at every minute, as two processes would.
    for (let minute = 1; minute <= 3; minute++) {
      a.clock.set(T0 + minute * MINUTE);
      b.clock.set(T0 + minute * MINUTE);
      await Promise.all([a.system.cronTick(), b.system.cronTick()]);
      await Promise.all([a.settle(), b.settle(), a.settle(), b.settle()]);
    }
    assert.deepEqual(payloads(receiver).map((p) => p.type), ["certificate.expiring"]);
    assert.equal(
      (await stateOf(b, job.id)).decidedThrough,
      new Date(T0 + 3 * MINUTE).toISOString(),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a certificate warning the receiver refuses for now is retried under the same id", async () => {
  const cert = presenting(certificate("AA", EXPIRES_IN_10_DAYS));
  await using receiver = startReceiver((_, i) =>
    i === 0 ? new Response("busy", { status: 503 }) : new Response("OK")
  );
  await using t = await TestSystem.start({
    probe: cert.probe,
    env: PRIVATE,
    retryJitter: () => 0,
  });
  const hook = await webhookChannel(t, receiver);
  await t.createJob({ ...DAILY, alerts: { channels: [{ channelId: hook }] } });
  await atMinute(t, dayRun(0));
  assert.equal(receiver.received.length, 1);
  await atMinute(t, dayRun(0), 5);
  const ids = receiver.received.map((r) => r.headers.get("webhook-id"));
  assert.equal(ids.length, 2);
  assert.equal(ids[0], ids[1]);
  const [record] = await new KvAlertStore(t.kv).getNotifications([ids[0]!]);
  assert.deepEqual(record?.notification.attempts.map((a) => [a.status, a.success]), [
    [503, false],
    [200, true],
  ]);
  assert.equal(record?.notification.state, "sent");
});

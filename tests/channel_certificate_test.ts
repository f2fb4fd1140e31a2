/**
 * A certificate warning (`certificate.expiring`) sent for real by every HTTP channel type, as
 * tests/channel_senders_test.ts sends incidents: real receivers on 127.0.0.1 for webhook,
 * Slack, Discord and ntfy, and the Telegram and PagerDuty stand-ins that check requests as
 * those services do. Each message names the job (linked), the days left, the end of validity
 * and the certificate's subject. E-mail: tests/channel_email_test.ts.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { newWebhookSecret } from "../lib/webhooks/secrets.ts";
import {
  BASE_URL,
  BOT_TOKEN,
  CERTIFICATE_VALID_TO,
  certificateMessage,
  channel,
  json,
  ROUTING_KEY,
  sampleCertificate,
  sender,
} from "./alert_samples.ts";
import { startFakePagerDuty } from "./fakes/pagerduty.ts";
import { startFakeTelegram } from "./fakes/telegram.ts";
import { T0 } from "./helpers.ts";
import { headerObject, startReceiver } from "./webhook_receiver.ts";

const JOB_LINK = `${BASE_URL}/admin/jobs/job_api`;
const VALID_TO = "2026-03-12 18:00:00 UTC";

Deno.test("a webhook channel posts certificate.expiring with the certificate and the job, signed", async () => {
  await using receiver = startReceiver();
  const secret = newWebhookSecret();
  const now = Date.now(); // standardwebhooks checks the timestamp against the wall clock
  const outcome = await sender({ now })(
    channel("webhook", { url: receiver.url, headers: null }, secret),
    certificateMessage(),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const [got] = receiver.received;
  const headers = headerObject(got.headers);
  assert.equal(headers["webhook-id"], "ntf_cert");
  const body = new Webhook(secret).verify(got.text, headers);
  const { jobId: _, ...certificate } = sampleCertificate();
  assert.deepEqual(body, {
    type: "certificate.expiring",
    test: false,
    certificate,
    jobs: [{
      id: "job_api",
      name: "API health",
      url: "https://api.example.com/health",
      state: "up",
      adminUrl: JOB_LINK,
    }],
  });
  assert.equal(certificate.validTo, CERTIFICATE_VALID_TO);
});

Deno.test("a Slack certificate warning has the headline as text and a section with the link, days, end and subject", async () => {
  await using slack = startReceiver(() => new Response("ok"));
  const outcome = await sender()(
    channel("slack", { webhookUrl: `${slack.origin}/services/T000/B000/XXXXXXXX` }),
    certificateMessage("Shop <prod> & co"),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const body = json<{ text: string; blocks: { type: string; text?: { text: string } }[] }>(
    slack.received[0].text,
  );
  assert.equal(body.text, "⚠️ Certificate expires in 10 days: Shop <prod> & co");
  assert.deepEqual(body.blocks.map((b) => b.type), ["header", "section", "context"]);
  assert.equal(body.blocks[0].text?.text, body.text);
  const section = body.blocks[1].text!.text;
  assert.match(section, new RegExp(`<${JOB_LINK}\\|Shop &lt;prod&gt; &amp; co>`));
  assert.match(section, /expires in 10 days/);
  assert.match(section, new RegExp(`\\*Valid until:\\* ${VALID_TO}`));
  assert.match(section, /\*Subject:\* CN=api\.example\.com/);
  assert.match(section, /\*Issuer:\* C=US, O=Let's Encrypt, CN=R11/);
});

Deno.test("a Discord certificate warning is an amber embed linking the job, with days, end, subject and issuer", async () => {
  await using discord = startReceiver(() => new Response(null, { status: 204 }));
  const outcome = await sender()(
    channel("discord", { webhookUrl: `${discord.origin}/api/webhooks/1/tok` }),
    certificateMessage("@everyone shop"),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const body = json<{
    content: string;
    allowed_mentions: unknown;
    embeds: {
      title: string;
      url: string;
      color: number;
      fields: { name: string; value: string }[];
    }[];
  }>(discord.received[0].text);
  assert.equal(body.content, "⚠️ Certificate expires in 10 days: @everyone shop");
  assert.deepEqual(body.allowed_mentions, { parse: [] });
  const [embed] = body.embeds;
  assert.equal(embed.url, JOB_LINK);
  assert.equal(embed.color, 0xf79009);
  assert.deepEqual(embed.fields.map((f) => [f.name, f.value]), [
    ["Expires in", "10 days"],
    ["Valid until", VALID_TO],
    ["Subject", "CN=api.example.com"],
    ["Issuer", "C=US, O=Let's Encrypt, CN=R11"],
  ]);
});

Deno.test("an ntfy certificate warning is a default-priority message with a warning tag that opens the job", async () => {
  await using ntfy = startReceiver((request) =>
    Response.json({ id: "abc", event: "message", topic: json(request.text).topic })
  );
  const outcome = await sender()(
    channel("ntfy", { serverUrl: ntfy.origin, topic: "hibiki-ops", token: null }),
    certificateMessage(),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.deepEqual(json(ntfy.received[0].text), {
    topic: "hibiki-ops",
    title: "Certificate expires in 10 days: API health",
    message: `API health: its certificate expires in 10 days\nValid until: ${VALID_TO}\n` +
      "Subject: CN=api.example.com\nIssuer: C=US, O=Let's Encrypt, CN=R11",
    priority: 3,
    tags: ["warning"],
    click: JOB_LINK,
    actions: [{ action: "view", label: "Open in Hibiki", url: JOB_LINK }],
  });
});

Deno.test("a Telegram certificate warning reaches the chat as HTML Telegram accepts, with the job's link", async () => {
  await using telegram = startFakeTelegram({ token: BOT_TOKEN, chats: ["42"] });
  const send = sender({ telegram: telegram.url });
  const target = channel("telegram", { botToken: BOT_TOKEN, chatId: "42" });
  const outcome = await send(target, certificateMessage("<b>Shop</b> & co"));
  assert.equal(outcome.success, true, outcome.error ?? "");
  const [sent] = telegram.sent;
  assert.match(sent.text, new RegExp(`<a href="${JOB_LINK}">&lt;b&gt;Shop&lt;/b&gt; &amp; co</a>`));
  assert.equal(
    sent.plain,
    "⚠️ Certificate expires in 10 days: <b>Shop</b> & co\n\n" +
      "⚠️ <b>Shop</b> & co: its certificate expires in 10 days\n" +
      `Valid until: ${VALID_TO}\nSubject: CN=api.example.com\nIssuer: C=US, O=Let's Encrypt, CN=R11`,
  );
  // A name of characters that escaping makes six times longer still fits: lines are left out.
  const long = await send(target, certificateMessage('"'.repeat(300)));
  assert.equal(long.success, true, long.error ?? "");
  assert.ok(telegram.sent[1].text.length <= 4096);
});

Deno.test("PagerDuty hears a certificate warning as a warning-severity trigger keyed by job and certificate", async () => {
  await using pd = startFakePagerDuty();
  const send = sender({ pagerDuty: pd.url });
  const target = channel("pagerduty", { routingKey: ROUTING_KEY });
  const message = certificateMessage();
  const outcome = await send(target, message);
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.equal(outcome.status, 202);
  const [event] = pd.events;
  const fingerprint = message.certificate.fingerprint256.replaceAll(":", "");
  assert.equal(event.event_action, "trigger");
  assert.equal(event.dedup_key, `certificate:job_api:${fingerprint}`);
  assert.deepEqual(
    {
      summary: event.payload?.summary,
      source: event.payload?.source,
      severity: event.payload?.severity,
      class: event.payload?.class,
      timestamp: event.payload?.timestamp,
    },
    {
      summary: `API health: certificate expires in 10 days (${VALID_TO})`,
      source: "api.example.com",
      severity: "warning",
      class: "certificate",
      timestamp: new Date(T0).toISOString(),
    },
  );
  assert.deepEqual(event.links, [{ href: JOB_LINK, text: "Open in Hibiki" }]);
  // A retry folds into the same PagerDuty alert.
  assert.equal((await send(target, message)).success, true);
  assert.deepEqual(pd.alerts.get(event.dedup_key), { state: "triggered", triggers: 2 });
});

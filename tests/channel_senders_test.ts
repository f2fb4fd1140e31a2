/**
 * Every HTTP channel type sending for real through lib/net/outbound.ts: real receivers on
 * 127.0.0.1 for webhook, Slack, Discord and ntfy (each answering as that service does), and
 * stand-ins for Telegram and PagerDuty that check requests as those services do. Messages
 * are checked against each service's format and limits; outcomes against what the lane needs
 * (success, permanent, Retry-After) with no secret in any text kept.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { newWebhookSecret } from "../lib/webhooks/secrets.ts";
import {
  BASE_URL,
  BOT_TOKEN,
  channel,
  groupedMessage,
  json,
  resolvedIncident,
  ROUTING_KEY,
  sampleIncident,
  sampleItem,
  sampleMessage,
  sender,
} from "./alert_samples.ts";
import { startFakePagerDuty } from "./fakes/pagerduty.ts";
import { startFakeTelegram } from "./fakes/telegram.ts";
import { closedPort, headerObject, hmacOfBytes, startReceiver } from "./webhook_receiver.ts";

// ---------------------------------------------------------------------------------------------
// webhook

Deno.test("a webhook channel posts the incident signed like job webhooks, verified by standardwebhooks", async () => {
  await using receiver = startReceiver();
  const secret = newWebhookSecret();
  const webhook = channel("webhook", {
    url: receiver.url,
    headers: { Authorization: "Bearer receiver-token" },
  }, secret);
  const message = sampleMessage("incident.opened", undefined, { notificationId: "ntf_1" });
  // The library checks webhook-timestamp against the wall clock (±5 min).
  const now = Date.now();
  const outcome = await sender({ now })(webhook, message);
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.equal(outcome.status, 200);
  const [got] = receiver.received;
  const headers = headerObject(got.headers);
  const verified = new Webhook(secret).verify(got.text, headers) as Record<string, unknown>;
  assert.equal(verified.type, "incident.opened");
  assert.equal(headers["x-signature"], hmacOfBytes(got.raw, secret));
  assert.equal(headers["x-webhook-id"], "ntf_1");
  assert.equal(headers["webhook-id"], "ntf_1");
  assert.equal(headers["webhook-timestamp"], String(Math.floor(now / 1000)));
  assert.equal(headers["authorization"], "Bearer receiver-token");
  assert.equal(headers["x-webhook-test"], undefined);
  const body = json(got.text);
  assert.deepEqual(body.incident, message.items[0].incident);
  assert.equal(body.test, false);
  assert.deepEqual(body.jobs, [{
    id: "job_api",
    name: "API health",
    url: "https://api.example.com/health",
    state: "down",
    adminUrl: `${BASE_URL}/admin/jobs/job_api`,
  }]);
  assert.throws(() => new Webhook(newWebhookSecret()).verify(got.text, headers));
});

Deno.test("a webhook channel's grouped message lists every incident and job, and a test is marked", async () => {
  await using receiver = startReceiver();
  const secret = newWebhookSecret();
  const webhook = channel("webhook", { url: receiver.url, headers: null }, secret);
  const send = sender({ now: Date.now() });
  assert.equal((await send(webhook, groupedMessage(3))).success, true);
  assert.equal((await send(webhook, sampleMessage("test"))).success, true);
  const grouped = json(receiver.received[0].text);
  assert.equal(grouped.type, "incidents.grouped");
  assert.equal((grouped.incidents as unknown[]).length, 3);
  assert.equal(grouped.incident, undefined);
  assert.deepEqual((grouped.jobs as { id: string }[]).map((j) => j.id), [
    "job_0",
    "job_1",
    "job_2",
  ]);
  const test = receiver.received[1];
  assert.equal(json(test.text).test, true);
  assert.equal(test.headers.get("x-webhook-test"), "true");
  assert.match(test.headers.get("webhook-id") ?? "", /^ntf_test_[0-9a-f]{32}$/);
  new Webhook(secret).verify(test.text, headerObject(test.headers));
});

Deno.test("a webhook channel's 410 is permanent and a 503's Retry-After is passed on", async () => {
  await using receiver = startReceiver((_, i) =>
    i === 0
      ? new Response("gone", { status: 410 })
      : new Response("busy", { status: 503, headers: { "Retry-After": "120" } })
  );
  const webhook = channel("webhook", { url: receiver.url, headers: null }, newWebhookSecret());
  const send = sender();
  const gone = await send(webhook, sampleMessage("incident.opened"));
  assert.deepEqual(
    { success: gone.success, status: gone.status, permanent: gone.permanent },
    { success: false, status: 410, permanent: true },
  );
  assert.equal(gone.response, "gone");
  assert.match(gone.error ?? "", /answered 410/);
  const busy = await send(webhook, sampleMessage("incident.opened"));
  assert.deepEqual(
    { status: busy.status, permanent: busy.permanent, retryAfterMs: busy.retryAfterMs },
    { status: 503, permanent: false, retryAfterMs: 120_000 },
  );
});

Deno.test("a channel URL on a private address is refused when private networks are not allowed", async () => {
  await using receiver = startReceiver();
  const send = sender({ allowPrivate: false });
  for (
    const target of [
      channel("webhook", { url: receiver.url, headers: null }, newWebhookSecret()),
      channel("slack", { webhookUrl: `${receiver.origin}/services/T0/B0/secret` }),
      channel("ntfy", { serverUrl: receiver.origin, topic: "ops", token: null }),
    ]
  ) {
    const outcome = await send(target, sampleMessage("incident.opened"));
    assert.equal(outcome.success, false);
    assert.equal(outcome.permanent, true, target.type);
    assert.match(outcome.error ?? "", /loopback/);
  }
  assert.equal(receiver.received.length, 0);
});

// ---------------------------------------------------------------------------------------------
// Slack

interface SlackBody {
  text: string;
  blocks: { type: string; text?: { type: string; text: string }; elements?: unknown[] }[];
}

function checkSlackLimits(body: SlackBody): void {
  assert.ok(body.blocks.length <= 50, `${body.blocks.length} blocks`);
  for (const block of body.blocks) {
    if (block.type === "header") assert.ok(block.text!.text.length <= 150);
    if (block.type === "section") assert.ok(block.text!.text.length <= 3000);
  }
}

Deno.test("a Slack message has the headline as text and blocks with the job's link, state, cause and time", async () => {
  await using slack = startReceiver(() => new Response("ok"));
  const webhookUrl = `${slack.origin}/services/T000/B000/XXXXXXXX`;
  const item = sampleItem("Billing <prod> & co", sampleIncident({ jobId: "job_billing" }));
  const outcome = await sender()(
    channel("slack", { webhookUrl }),
    sampleMessage("incident.opened", [item]),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.equal(outcome.response, "ok");
  const got = slack.received[0];
  assert.equal(got.path, "/services/T000/B000/XXXXXXXX");
  assert.equal(got.headers.get("content-type"), "application/json");
  const body = json<SlackBody>(got.text);
  checkSlackLimits(body);
  assert.equal(body.text, "🔴 Down: Billing <prod> & co");
  assert.equal(body.blocks[0].type, "header");
  const section = body.blocks[1].text!.text;
  assert.match(
    section,
    new RegExp(`<${BASE_URL}/admin/jobs/job_billing\\|Billing &lt;prod&gt; &amp; co>`),
  );
  assert.match(section, /is down/);
  assert.match(section, /Expected status 2xx, got 503/);
  assert.match(section, /since 2026-03-02 11:55:00 UTC \(5 min\)/);
  assert.match(section, /local, aws-tyo1a/);
});

Deno.test("a Slack message of 100 jobs stays within 50 blocks and counts the ones left out", async () => {
  await using slack = startReceiver(() => new Response("ok"));
  const outcome = await sender()(
    channel("slack", { webhookUrl: `${slack.origin}/services/T/B/X` }),
    groupedMessage(100),
  );
  assert.equal(outcome.success, true);
  const body = json<SlackBody>(slack.received[0].text);
  checkSlackLimits(body);
  assert.equal(body.text, "🔴 100 jobs down");
  assert.ok(body.blocks.some((b) => b.text?.text.startsWith("…and 60 more")));
});

Deno.test("Slack's no_service is permanent, and neither it nor a refused connection shows the URL's secret path", async () => {
  await using slack = startReceiver(() => new Response("no_service", { status: 404 }));
  const send = sender();
  const gone = await send(
    channel("slack", { webhookUrl: `${slack.origin}/services/T/B/s3cr3tPath` }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { status: gone.status, permanent: gone.permanent, error: gone.error },
    { status: 404, permanent: true, error: "Slack answered 404: no_service" },
  );
  const refused = await send(
    channel("slack", { webhookUrl: `http://127.0.0.1:${closedPort()}/services/T/B/s3cr3tPath` }),
    sampleMessage("incident.opened"),
  );
  assert.equal(refused.success, false);
  assert.equal(refused.permanent, false);
  assert.match(refused.error ?? "", /refused/);
  assert.doesNotMatch(refused.error ?? "", /s3cr3tPath/);
});

// ---------------------------------------------------------------------------------------------
// Discord

interface DiscordBody {
  content: string;
  username: string;
  allowed_mentions: { parse: string[] };
  embeds: {
    title: string;
    url?: string;
    description?: string;
    color: number;
    fields?: { name: string; value: string }[];
    footer: { text: string };
  }[];
}

function checkDiscordLimits(body: DiscordBody): void {
  assert.ok(body.content.length <= 2000);
  assert.ok(body.embeds.length <= 10);
  let total = 0;
  for (const embed of body.embeds) {
    assert.ok(embed.title.length <= 256);
    assert.ok((embed.description ?? "").length <= 4096);
    assert.ok((embed.fields ?? []).length <= 25);
    for (const field of embed.fields ?? []) {
      assert.ok(field.name.length <= 256 && field.value.length <= 1024);
      total += field.name.length + field.value.length;
    }
    total += embed.title.length + (embed.description ?? "").length + embed.footer.text.length;
  }
  assert.ok(total <= 6000, `${total} characters in embeds`);
}

Deno.test("a Discord message is content plus an embed linking the job, and mentions nobody", async () => {
  await using discord = startReceiver(() => new Response(null, { status: 204 }));
  const item = sampleItem("@everyone API", resolvedIncident());
  const outcome = await sender()(
    channel("discord", { webhookUrl: `${discord.origin}/api/webhooks/1/tok` }),
    sampleMessage("incident.resolved", [item]),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.equal(outcome.status, 204);
  const body = json<DiscordBody>(discord.received[0].text);
  checkDiscordLimits(body);
  assert.equal(body.content, "✅ Up again: @everyone API");
  assert.deepEqual(body.allowed_mentions, { parse: [] });
  const [embed] = body.embeds;
  assert.equal(embed.url, `${BASE_URL}/admin/jobs/job_api`);
  assert.equal(embed.color, 0x12b76a);
  assert.deepEqual(embed.fields?.map((f) => f.name), ["State", "When", "Cause", "Failed at"]);
  assert.equal(embed.fields?.[0].value, "up again");
  assert.match(
    embed.fields?.[1].value ?? "",
    /^down 5 min, 2026-03-02 11:55:00 UTC – 2026-03-02 12:00:00 UTC$/,
  );
});

Deno.test("a Discord message of 200 jobs stays within Discord's limits", async () => {
  await using discord = startReceiver(() => new Response(null, { status: 204 }));
  const outcome = await sender()(
    channel("discord", { webhookUrl: `${discord.origin}/api/webhooks/1/tok` }),
    groupedMessage(200),
  );
  assert.equal(outcome.success, true);
  const body = json<DiscordBody>(discord.received[0].text);
  checkDiscordLimits(body);
  assert.match(body.embeds[0].description ?? "", /…and \d+ more$/);
});

Deno.test("Discord's 429 without Retry-After still waits its body's retry_after", async () => {
  await using discord = startReceiver(() =>
    Response.json({ message: "You are being rate limited.", retry_after: 1.5, global: false }, {
      status: 429,
    })
  );
  const outcome = await sender()(
    channel("discord", { webhookUrl: `${discord.origin}/api/webhooks/1/tok` }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { permanent: outcome.permanent, retryAfterMs: outcome.retryAfterMs, error: outcome.error },
    {
      permanent: false,
      retryAfterMs: 1500,
      error: "Discord answered 429: You are being rate limited.",
    },
  );
});

// ---------------------------------------------------------------------------------------------
// ntfy

Deno.test("an ntfy message is published as JSON to the server root with the topic, priority, tags and a link", async () => {
  await using ntfy = startReceiver((request) =>
    Response.json({ id: "abc", event: "message", topic: json(request.text).topic })
  );
  const config = {
    serverUrl: `${ntfy.origin}/`,
    topic: "hibiki-ops",
    token: "tk_0123456789abcdef",
  };
  const send = sender();
  assert.equal(
    (await send(channel("ntfy", config), sampleMessage("incident.opened"))).success,
    true,
  );
  const resolved = sampleMessage("incident.resolved", [
    sampleItem("API health", resolvedIncident()),
  ]);
  assert.equal((await send(channel("ntfy", { ...config, token: null }), resolved)).success, true);
  const [down, up] = ntfy.received;
  assert.equal(down.path, "/");
  assert.equal(down.headers.get("authorization"), "Bearer tk_0123456789abcdef");
  assert.deepEqual(json(down.text), {
    topic: "hibiki-ops",
    title: "Down: API health",
    message: "API health is down\nExpected status 2xx, got 503\n" +
      "since 2026-03-02 11:55:00 UTC (5 min)\nFailed at: local, aws-tyo1a",
    priority: 4,
    tags: ["rotating_light"],
    click: `${BASE_URL}/admin/jobs/job_api`,
    actions: [{ action: "view", label: "Open in Hibiki", url: `${BASE_URL}/admin/jobs/job_api` }],
  });
  assert.equal(up.headers.get("authorization"), null);
  const upBody = json(up.text);
  assert.equal(upBody.priority, 3);
  assert.deepEqual(upBody.tags, ["white_check_mark"]);
  assert.equal(upBody.title, "Up again: API health");
});

Deno.test("an ntfy message of 300 jobs stays within ntfy's 4,096 bytes", async () => {
  await using ntfy = startReceiver(() => Response.json({ id: "abc" }));
  const outcome = await sender()(
    channel("ntfy", { serverUrl: ntfy.origin, topic: "ops", token: null }),
    groupedMessage(300),
  );
  assert.equal(outcome.success, true);
  const message = json(ntfy.received[0].text).message as string;
  assert.ok(new TextEncoder().encode(message).length <= 4096);
  assert.match(message, /…and \d+ more$/);
});

// ---------------------------------------------------------------------------------------------
// Telegram (stand-in)

Deno.test("a Telegram message reaches the chat as HTML Telegram accepts, with the job's link", async () => {
  await using telegram = startFakeTelegram({ token: BOT_TOKEN, chats: ["-1001234567890"] });
  const item = sampleItem("<script>alert(1)</script> & co", sampleIncident());
  const outcome = await sender({ telegram: telegram.url })(
    channel("telegram", { botToken: BOT_TOKEN, chatId: "-1001234567890" }),
    sampleMessage("incident.opened", [item]),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  const [sent] = telegram.sent;
  assert.equal(sent.chatId, "-1001234567890");
  assert.match(sent.text, new RegExp(`<a href="${BASE_URL}/admin/jobs/job_api">`));
  assert.match(sent.plain, /^🔴 Down: <script>alert\(1\)<\/script> & co\n/);
  assert.match(sent.plain, /Cause: Expected status 2xx, got 503/);
});

Deno.test("a Telegram message of 300 jobs is accepted within 4,096 characters", async () => {
  await using telegram = startFakeTelegram({ token: BOT_TOKEN, chats: ["42"] });
  const outcome = await sender({ telegram: telegram.url })(
    channel("telegram", { botToken: BOT_TOKEN, chatId: "42" }),
    groupedMessage(300),
  );
  assert.equal(outcome.success, true, outcome.error ?? "");
  assert.ok(telegram.sent[0].text.length <= 4096);
  assert.match(telegram.sent[0].plain, /…and \d+ more$/);
});

Deno.test("Telegram's refusals are permanent and never show the token; its 429 waits retry_after", async () => {
  await using telegram = startFakeTelegram({ token: BOT_TOKEN, chats: ["42"] });
  const send = sender({ telegram: telegram.url });
  const otherToken = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
  const unauthorized = await send(
    channel("telegram", { botToken: otherToken, chatId: "42" }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { status: unauthorized.status, permanent: unauthorized.permanent },
    { status: 401, permanent: true },
  );
  assert.equal(unauthorized.error, "Telegram answered 401: Unauthorized");
  const noChat = await send(
    channel("telegram", { botToken: BOT_TOKEN, chatId: "43" }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { status: noChat.status, permanent: noChat.permanent, error: noChat.error },
    { status: 400, permanent: true, error: "Telegram answered 400: Bad Request: chat not found" },
  );
  telegram.failNext({
    status: 429,
    description: "Too Many Requests: retry after 7",
    retryAfter: 7,
  });
  const limited = await send(
    channel("telegram", { botToken: BOT_TOKEN, chatId: "42" }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { permanent: limited.permanent, retryAfterMs: limited.retryAfterMs },
    { permanent: false, retryAfterMs: 7000 },
  );
  // The stand-in's refused tokens and a connection error alike: no token in any text kept.
  const refused = await sender({ telegram: `http://127.0.0.1:${closedPort()}` })(
    channel("telegram", { botToken: BOT_TOKEN, chatId: "42" }),
    sampleMessage("incident.opened"),
  );
  for (const outcome of [unauthorized, noChat, limited, refused]) {
    assert.doesNotMatch(
      `${outcome.error} ${outcome.response}`,
      /AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0/,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// PagerDuty (stand-in)

Deno.test("PagerDuty hears a trigger when an incident opens and a resolve with the same dedup_key", async () => {
  await using pd = startFakePagerDuty();
  const send = sender({ pagerDuty: pd.url });
  const target = channel("pagerduty", { routingKey: ROUTING_KEY });
  const opened = await send(target, sampleMessage("incident.opened"));
  assert.equal(opened.success, true, opened.error ?? "");
  assert.equal(opened.status, 202);
  assert.equal(pd.alerts.get("inc_0001")?.state, "triggered");
  const trigger = pd.events[0];
  assert.equal(trigger.event_action, "trigger");
  assert.equal(trigger.dedup_key, "inc_0001");
  assert.deepEqual(
    {
      summary: trigger.payload?.summary,
      source: trigger.payload?.source,
      severity: trigger.payload?.severity,
    },
    {
      summary: "API health is down: Expected status 2xx, got 503",
      source: "api.example.com",
      severity: "critical",
    },
  );
  assert.deepEqual(trigger.links, [{
    href: `${BASE_URL}/admin/jobs/job_api`,
    text: "Open in Hibiki",
  }]);
  const resolved = await send(
    target,
    sampleMessage("incident.resolved", [sampleItem("API health", resolvedIncident())]),
  );
  assert.equal(resolved.success, true, resolved.error ?? "");
  assert.deepEqual(pd.events[1], {
    routing_key: ROUTING_KEY,
    event_action: "resolve",
    dedup_key: "inc_0001",
  });
  assert.equal(pd.alerts.get("inc_0001")?.state, "resolved");
});

Deno.test("PagerDuty hears one event per incident of a grouped message, and a test as info", async () => {
  await using pd = startFakePagerDuty();
  const send = sender({ pagerDuty: pd.url });
  const target = channel("pagerduty", { routingKey: ROUTING_KEY });
  assert.equal((await send(target, groupedMessage(3))).success, true);
  assert.deepEqual(pd.events.map((e) => e.dedup_key), ["inc_0", "inc_1", "inc_2"]);
  const test = await send(target, sampleMessage("test"));
  assert.equal(test.success, true, test.error ?? "");
  assert.equal(pd.events[3].payload?.severity, "info");
  assert.match(String(pd.events[3].payload?.summary), /^\[Test\]/);
});

Deno.test("PagerDuty's throttling is retried after its Retry-After, its 400 is permanent", async () => {
  await using pd = startFakePagerDuty();
  const send = sender({ pagerDuty: pd.url });
  pd.failNext(429, { "Retry-After": "30" });
  const throttled = await send(
    channel("pagerduty", { routingKey: ROUTING_KEY }),
    sampleMessage("incident.opened"),
  );
  assert.deepEqual(
    { permanent: throttled.permanent, retryAfterMs: throttled.retryAfterMs },
    { permanent: false, retryAfterMs: 30_000 },
  );
  // A key that passed no check: PagerDuty refuses the event itself.
  const invalid = await send(
    channel("pagerduty", { routingKey: "short" }),
    sampleMessage("incident.opened"),
  );
  assert.equal(invalid.status, 400);
  assert.equal(invalid.permanent, true);
  assert.match(invalid.error ?? "", /routing_key/);
  assert.doesNotMatch(invalid.response, /short/);
});

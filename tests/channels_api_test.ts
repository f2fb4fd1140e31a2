/**
 * `/api/channels` end to end, in-process, with the real sender and receivers on 127.0.0.1:
 * creating each type, secrets sealed in the store and masked when read back (a masked value
 * sent back keeps the secret), validation in the API's words, owners kept apart, the SSRF
 * rules on config URLs, and `POST /api/channels/:id/test` answering what the receiver said.
 */
import assert from "node:assert/strict";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import type { SendOutcome } from "../lib/alerts/types.ts";
import { startFakeTelegram } from "./fakes/telegram.ts";
import { expectError, expectStatus, T0, TestSystem } from "./helpers.ts";
import { startReceiver } from "./webhook_receiver.ts";

const PRIVATE = { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", HIBIKI_PUBLIC_URL: "https://hibiki.test" };
const BOT_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0";
const ROUTING_KEY = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12";
const WHSEC = /^whsec_[A-Za-z0-9+/]+={0,2}$/;

async function create(
  t: TestSystem,
  body: Record<string, unknown>,
  key?: string,
): Promise<ChannelView> {
  const answer = await t.call<ChannelView>("POST", "/api/channels", { body, key });
  expectStatus(answer, 201);
  return answer.body.data;
}

/** Every stored channel record as its raw Deno KV value, in JSON. */
async function rawChannels(t: TestSystem): Promise<string> {
  const values: unknown[] = [];
  for await (const entry of t.kv.list({ prefix: ["channel"] })) values.push(entry.value);
  return JSON.stringify(values);
}

Deno.test("POST /api/channels creates a webhook channel and shows its whsec_ secret only once", async () => {
  await using t = await TestSystem.start({ env: PRIVATE });
  const created = await create(t, {
    name: "Ops endpoint",
    type: "webhook",
    config: {
      url: "https://hooks.example.com/alerts",
      headers: { "X-Team": "ops-team-token-123" },
    },
  });
  const stamp = new Date(T0).toISOString();
  assert.match(created.id, /^ch_[0-9a-z]{9}[0-9a-f]{16}$/);
  assert.match(created.secret ?? "", WHSEC);
  assert.deepEqual(created, {
    id: created.id,
    userId: "default",
    name: "Ops endpoint",
    type: "webhook",
    config: { url: "https://hooks.example.com/alerts", headers: { "X-Team": "ops-…" } },
    secret: created.secret,
    enabled: true,
    disabledReason: null,
    disabledAt: null,
    failingSince: null,
    createdAt: stamp,
    updatedAt: stamp,
  });
  const read = await t.call<ChannelView>("GET", `/api/channels/${created.id}`);
  expectStatus(read, 200);
  assert.equal(read.body.data.secret, `${created.secret!.slice(0, 10)}…`);
  assert.deepEqual(read.body.data, { ...created, secret: read.body.data.secret });
});

Deno.test("each type's secrets are sealed at rest and masked when read back", async () => {
  await using t = await TestSystem.start({ env: PRIVATE });
  const secrets = {
    slack: "https://hooks.slack.com/services/T0001/B0001/SlackSecretPath0001",
    discord: "https://discord.com/api/webhooks/1234/DiscordSecretToken0001",
    ntfy: "tk_ntfySecretToken00001",
    password: "smtp-Secret-Password-1",
    header: "Bearer header-Secret-0001",
  };
  const made = [
    await create(t, { name: "s", type: "slack", config: { webhookUrl: secrets.slack } }),
    await create(t, { name: "d", type: "discord", config: { webhookUrl: secrets.discord } }),
    await create(t, { name: "t", type: "telegram", config: { botToken: BOT_TOKEN, chatId: -42 } }),
    await create(t, { name: "p", type: "pagerduty", config: { routingKey: ROUTING_KEY } }),
    await create(t, {
      name: "n",
      type: "ntfy",
      config: { serverUrl: "https://ntfy.example.com", topic: "ops", token: secrets.ntfy },
    }),
    await create(t, {
      name: "e",
      type: "email",
      config: {
        host: "smtp.example.com",
        security: "starttls",
        username: "alerts",
        password: secrets.password,
        from: "hibiki@example.com",
        to: "ops@example.com",
      },
    }),
    await create(t, {
      name: "w",
      type: "webhook",
      config: { url: "https://example.com/hook", headers: { Authorization: secrets.header } },
    }),
  ];
  const listed = await t.call<ChannelView[]>("GET", "/api/channels");
  expectStatus(listed, 200);
  const configs = Object.fromEntries(listed.body.data.map((c) => [c.type, c.config]));
  assert.deepEqual(configs, {
    slack: { webhookUrl: "https://hooks.slack.com/…" },
    discord: { webhookUrl: "https://discord.com/…" },
    telegram: { botToken: "1234…", chatId: "-42" },
    pagerduty: { routingKey: "R0ut…" },
    ntfy: { serverUrl: "https://ntfy.example.com", topic: "ops", token: "tk_n…" },
    email: {
      host: "smtp.example.com",
      port: 587,
      security: "starttls",
      username: "alerts",
      password: "…",
      from: "hibiki@example.com",
      to: ["ops@example.com"],
    },
    webhook: { url: "https://example.com/hook", headers: { Authorization: "Bear…" } },
  });
  const whsec = made[6].secret!;
  const raw = await rawChannels(t);
  for (const secret of [...Object.values(secrets), BOT_TOKEN, ROUTING_KEY, whsec]) {
    assert.ok(!raw.includes(secret), `${secret} is stored in the clear`);
  }
  assert.ok(raw.includes("smtp.example.com"), "settings that are no secret stay readable");
});

Deno.test("PATCH with a masked secret keeps it, a new value replaces it, and null clears an optional one", async () => {
  await using receiver = startReceiver(() => new Response("ok"));
  await using t = await TestSystem.start({ env: PRIVATE });
  const slack = await create(t, {
    name: "Slack",
    type: "slack",
    config: { webhookUrl: `${receiver.origin}/services/T1/B1/first` },
  });
  // A client sends back the whole config it read, masked secret and all.
  const renamed = await t.call<ChannelView>("PATCH", `/api/channels/${slack.id}`, {
    body: { name: "Slack #ops", config: slack.config },
  });
  expectStatus(renamed, 200);
  assert.equal(renamed.body.data.name, "Slack #ops");
  assert.deepEqual(renamed.body.data.config, slack.config);
  expectStatus(await t.call("POST", `/api/channels/${slack.id}/test`), 200);
  const moved = await t.call<ChannelView>("PATCH", `/api/channels/${slack.id}`, {
    body: { config: { webhookUrl: `${receiver.origin}/services/T1/B1/second` } },
  });
  expectStatus(moved, 200);
  expectStatus(await t.call("POST", `/api/channels/${slack.id}/test`), 200);
  assert.deepEqual(receiver.received.map((r) => r.path), [
    "/services/T1/B1/first",
    "/services/T1/B1/second",
  ]);

  const ntfy = await create(t, {
    name: "ntfy",
    type: "ntfy",
    config: { serverUrl: receiver.origin, topic: "ops", token: "tk_0123456789abcdef" },
  });
  const cleared = await t.call<ChannelView>("PATCH", `/api/channels/${ntfy.id}`, {
    body: { config: { token: null, topic: "ops-2" } },
  });
  expectStatus(cleared, 200);
  assert.deepEqual(cleared.body.data.config, {
    serverUrl: receiver.origin,
    topic: "ops-2",
    token: null,
  });
});

Deno.test("PATCH enabled false records why; true clears it", async () => {
  await using t = await TestSystem.start({ env: PRIVATE });
  const channel = await create(t, {
    name: "p",
    type: "pagerduty",
    config: { routingKey: ROUTING_KEY },
  });
  t.clock.advance(60_000);
  const off = await t.call<ChannelView>("PATCH", `/api/channels/${channel.id}`, {
    body: { enabled: false },
  });
  assert.deepEqual(
    [off.body.data.enabled, off.body.data.disabledReason, off.body.data.disabledAt],
    [false, "Disabled by the owner", new Date(T0 + 60_000).toISOString()],
  );
  const on = await t.call<ChannelView>("PATCH", `/api/channels/${channel.id}`, {
    body: { enabled: true },
  });
  assert.deepEqual(
    [on.body.data.enabled, on.body.data.disabledReason, on.body.data.disabledAt],
    [true, null, null],
  );
});

Deno.test("POST /api/channels/:id/test sends a marked sample at once and answers what the receiver said", async () => {
  await using receiver = startReceiver((_, i) =>
    i === 0 ? new Response("ok") : new Response("invalid_token", { status: 403 })
  );
  await using t = await TestSystem.start({ env: PRIVATE });
  const channel = await create(t, {
    name: "Slack",
    type: "slack",
    config: { webhookUrl: `${receiver.origin}/services/T/B/X` },
  });
  const good = await t.call<SendOutcome>("POST", `/api/channels/${channel.id}/test`);
  expectStatus(good, 200);
  assert.deepEqual(
    {
      success: good.body.data.success,
      status: good.body.data.status,
      response: good.body.data.response,
    },
    { success: true, status: 200, response: "ok" },
  );
  const sample = JSON.parse(receiver.received[0].text);
  assert.equal(sample.text, "🧪 Test notification from Hibiki");
  assert.match(JSON.stringify(sample.blocks), /This is a test sent from Hibiki/);
  assert.match(JSON.stringify(sample.blocks), /https:\/\/hibiki\.test\/admin\|Sample job/);
  const bad = await t.call<SendOutcome>("POST", `/api/channels/${channel.id}/test`);
  expectStatus(bad, 200);
  assert.deepEqual(
    { success: bad.body.data.success, status: bad.body.data.status, error: bad.body.data.error },
    { success: false, status: 403, error: "Slack answered 403: invalid_token" },
  );
});

Deno.test("POST /api/channels/:id/test reaches Telegram through HIBIKI_TELEGRAM_API_URL", async () => {
  await using telegram = startFakeTelegram({ token: BOT_TOKEN, chats: ["-1001"] });
  await using t = await TestSystem.start({
    env: { ...PRIVATE, HIBIKI_TELEGRAM_API_URL: telegram.url },
  });
  const channel = await create(t, {
    name: "tg",
    type: "telegram",
    config: { botToken: BOT_TOKEN, chatId: "-1001" },
  });
  const answer = await t.call<SendOutcome>("POST", `/api/channels/${channel.id}/test`);
  assert.equal(answer.body.data.success, true, answer.body.data.error ?? "");
  assert.match(telegram.sent[0].plain, /^🧪 Test notification from Hibiki/);
});

Deno.test("another owner's channel answers 404 to every route, and is not listed", async () => {
  await using t = await TestSystem.start({ env: PRIVATE });
  const mine = await create(t, {
    name: "p",
    type: "pagerduty",
    config: { routingKey: ROUTING_KEY },
  });
  const other = (await t.createKey(["read:jobs", "write:jobs"], "someone-else")).key;
  const listed = await t.call<ChannelView[]>("GET", "/api/channels", { key: other });
  assert.deepEqual(listed.body.data, []);
  for (
    const [method, path, body] of [
      ["GET", `/api/channels/${mine.id}`, undefined],
      ["PATCH", `/api/channels/${mine.id}`, { name: "stolen" }],
      ["POST", `/api/channels/${mine.id}/test`, undefined],
      ["DELETE", `/api/channels/${mine.id}`, undefined],
    ] as const
  ) {
    const error = expectError(await t.call(method, path, { key: other, body }), 404, "NOT_FOUND");
    assert.equal(error.message, `Channel "${mine.id}" not found`);
  }
  expectStatus(await t.call("GET", `/api/channels/${mine.id}`), 200);
});

Deno.test("DELETE /api/channels/:id removes it; GET pages through the rest with a cursor", async () => {
  await using t = await TestSystem.start({ env: PRIVATE });
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    t.clock.advance(1000);
    ids.push(
      (await create(t, { name: `p${i}`, type: "pagerduty", config: { routingKey: ROUTING_KEY } }))
        .id,
    );
  }
  expectStatus(await t.call("DELETE", `/api/channels/${ids[2]}`), 200);
  expectError(await t.call("GET", `/api/channels/${ids[2]}`), 404, "NOT_FOUND");
  expectError(await t.call("DELETE", `/api/channels/${ids[2]}`), 404, "NOT_FOUND");
  const seen: string[] = [];
  let cursor: string | null | undefined;
  for (let page = 0; page < 5; page++) {
    const query = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
    const answer = await t.call<ChannelView[]>("GET", `/api/channels${query}`);
    expectStatus(answer, 200);
    seen.push(...answer.body.data.map((c) => c.id));
    cursor = answer.body.cursor;
    if (!cursor) break;
  }
  assert.deepEqual(seen, [ids[0], ids[1], ids[3], ids[4]]);
});

Deno.test("bad channel input answers 400 naming the field and the problem", async () => {
  await using t = await TestSystem.start();
  const slack = await create(t, {
    name: "s",
    type: "slack",
    config: { webhookUrl: "https://hooks.slack.com/services/T/B/X" },
  });
  const cases: [string, string, Record<string, unknown>, string, string][] = [
    ["POST", "/api/channels", { type: "slack", config: {} }, "name", "name is required"],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "sms", config: {} },
      "type",
      "type must be one of webhook, slack, discord, telegram, pagerduty, ntfy, email",
    ],
    ["POST", "/api/channels", { name: "x", type: "slack" }, "config", "config is required"],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "slack", config: "https://x" },
      "config",
      "config must be an object",
    ],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "slack", config: {} },
      "config",
      "config.webhookUrl is required",
    ],
    [
      "POST",
      "/api/channels",
      {
        name: "x",
        type: "slack",
        config: { webhookUrl: "https://hooks.slack.com/x", channel: "#ops" },
      },
      "config",
      'config has an unknown field "channel"',
    ],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "slack", config: { webhookUrl: "http://hooks.slack.com/x" } },
      "config",
      "config.webhookUrl must use https (set HIBIKI_ALLOW_HTTP_WEBHOOKS=1 to allow http)",
    ],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "telegram", config: { botToken: "12345", chatId: "1" } },
      "config",
      "config.botToken must be a bot token as @BotFather gives it (123456789:AA…, 35 characters after the colon)",
    ],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "telegram", config: { botToken: BOT_TOKEN, chatId: "ops room" } },
      "config",
      "config.chatId must be a chat id (-1001234567890) or a channel's @username",
    ],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "pagerduty", config: { routingKey: "abc" } },
      "config",
      "config.routingKey must be the 32-character integration key of an Events API v2 integration",
    ],
    [
      "POST",
      "/api/channels",
      { name: "x", type: "ntfy", config: { topic: "my topic" } },
      "config",
      "config.topic must be 1 to 64 letters, digits, - or _",
    ],
    [
      "POST",
      "/api/channels",
      {
        name: "x",
        type: "webhook",
        config: { url: "https://example.com/", headers: { "X-Signature": "x" } },
      },
      "config",
      'config.headers must not set "X-Signature": Hibiki sets it',
    ],
    [
      "POST",
      "/api/channels",
      {
        name: "x",
        type: "email",
        config: {
          host: "smtp.example.com",
          security: "none",
          from: "a@example.com",
          to: "b@example.com",
        },
      },
      "config",
      'config.security "none" sends mail and passwords unencrypted: use "tls" or "starttls" (a local relay may use none when HIBIKI_ALLOW_PRIVATE_NETWORKS=1)',
    ],
    [
      "POST",
      "/api/channels",
      {
        name: "x",
        type: "email",
        config: {
          host: "smtp.example.com",
          security: "tls",
          from: "a@example.com",
          to: "not-an-address",
        },
      },
      "config",
      "config.to must be an e-mail address",
    ],
    [
      "POST",
      "/api/channels",
      {
        name: "x",
        type: "email",
        config: {
          host: "smtp://smtp.example.com",
          security: "tls",
          from: "a@example.com",
          to: "b@example.com",
        },
      },
      "config",
      "config.host must be a host name or IP address, without a scheme or port",
    ],
    [
      "PATCH",
      `/api/channels/${slack.id}`,
      { type: "discord" },
      "type",
      "type cannot be changed from slack to discord: create a new channel",
    ],
    [
      "PATCH",
      `/api/channels/${slack.id}`,
      { config: { webhookUrl: 42 } },
      "config",
      "config.webhookUrl must be text",
    ],
    [
      "PATCH",
      `/api/channels/${slack.id}`,
      { enabled: "yes" },
      "enabled",
      "enabled must be true or false",
    ],
  ];
  for (const [method, path, body, field, message] of cases) {
    const error = expectError(await t.call(method, path, { body }), 400, "INVALID_REQUEST", field);
    assert.equal(error.message, message, JSON.stringify(body));
  }
});

Deno.test("a channel URL or SMTP host on a private address is refused unless private networks are allowed", async () => {
  await using t = await TestSystem.start();
  const cases: [string, Record<string, unknown>][] = [
    ["slack", { webhookUrl: "https://127.0.0.1/services/T/B/X" }],
    ["discord", { webhookUrl: "https://10.0.0.5/api/webhooks/1/x" }],
    ["webhook", { url: "https://169.254.169.254/latest/meta-data" }],
    ["ntfy", { serverUrl: "https://localhost", topic: "ops" }],
    ["email", {
      host: "192.168.1.10",
      security: "tls",
      from: "a@example.com",
      to: "b@example.com",
    }],
  ];
  for (const [type, config] of cases) {
    const error = expectError(
      await t.call("POST", "/api/channels", { body: { name: "x", type, config } }),
      400,
      "INVALID_REQUEST",
      "config",
    );
    assert.match(
      error.message,
      /(private|loopback|metadata|local name) address.*refused|host localhost is a local name/,
    );
    assert.match(error.message, /HIBIKI_ALLOW_PRIVATE_NETWORKS=1/);
  }
  assert.equal(await rawChannels(t), "[]");
});

Deno.test("a job's alerts.channels must name channels of the job's owner", async () => {
  await using t = await TestSystem.start({ env: PRIVATE });
  const mine = await create(t, {
    name: "p",
    type: "pagerduty",
    config: { routingKey: ROUTING_KEY },
  });
  const job = await t.createJob({ alerts: { channels: [{ channelId: mine.id }] } });
  assert.deepEqual(job.alerts?.channels, [{ channelId: mine.id }]);
  const other = (await t.createKey(["read:jobs", "write:jobs"], "someone-else")).key;
  const refused = await t.call("POST", "/api/jobs", {
    key: other,
    body: {
      name: "theirs",
      url: "https://example.com/",
      schedule: "*/5 * * * *",
      alerts: { channels: [{ channelId: mine.id }] },
    },
  });
  const error = expectError(refused, 400, "INVALID_REQUEST");
  assert.match(error.message, new RegExp(`unknown channel "${mine.id}"`));
});

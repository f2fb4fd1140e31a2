/**
 * The notification channel pages: create each type through the form (a webhook channel's
 * secret shown once), edit with secrets masked and kept when the mask comes back, a test send
 * showing what a real local receiver said, the API's errors beside the input they name with
 * the user's input kept, CSRF, owners kept apart, a concurrent change as a 409 page, Japanese.
 */
import assert from "node:assert/strict";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import { ja } from "../lib/i18n/ja.ts";
import {
  CHANNEL_TYPES,
  CONFIG_INPUTS,
  SECURITY_LABELS,
  TYPE_LABELS,
} from "../components/channel_form.tsx";
import { AdminTestSystem, expectRedirect } from "./admin_client.ts";
import { startReceiver } from "./webhook_receiver.ts";

const XSS = `<img src=x onerror=alert(1)>"'&`;
const SLACK_URL = "https://hooks.slack.com/services/T0001/B0001/SlackSecretPath0001";
const HEADER_SECRET = "Bearer header-Secret-0001";

async function signedIn(env: Record<string, string> = { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" }) {
  const s = await AdminTestSystem.start(env);
  const client = s.client();
  await client.signIn();
  await client.get("/admin");
  return { s, client };
}

function errorText(html: string, id: string): string | null {
  return new RegExp(`id="${id}"[^>]*>([^<]+)<`).exec(html)?.[1] ?? null;
}

function inputValue(html: string, id: string): string | null {
  return new RegExp(`<input id="${id}" [^>]*value="([^"]*)"`).exec(html)?.[1] ?? null;
}

Deno.test("creating a webhook channel with the form shows its whsec_ secret once", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  await using receiver = startReceiver();
  const empty = await client.get("/admin/channels");
  assert.equal(empty.status, 200);
  assert.match(empty.html, /No channels yet\./);
  assert.match(empty.html, /<a href="\/admin\/channels" aria-current="page">/);
  const form = await client.get("/admin/channels/new");
  assert.equal(form.status, 200);
  assert.match(form.html, /<select id="channel-type" name="type">/);
  for (const type of CHANNEL_TYPES) {
    assert.match(form.html, new RegExp(`<fieldset id="channel-config-${type}" [^>]*data-type`));
  }
  assert.doesNotMatch(form.html, /\son[a-z]+=|\sstyle=|<script(?![^>]*\bsrc=)/);

  const created = await client.post("/admin/channels/new", {
    name: XSS,
    type: "webhook",
    "webhook.url": receiver.url,
    "webhook.headers": `Authorization: ${HEADER_SECRET}`,
    // Another type's fields, filled in before switching: not used.
    "slack.webhookUrl": SLACK_URL,
  });
  assert.equal(created.status, 200);
  assert.doesNotMatch(created.html, /<img src=x/);
  assert.match(created.html, /Channel created\./);
  const secret = /data-testid="revealed-secret">([^<]+)</.exec(created.html)?.[1] ?? "";
  assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);

  const [channel] = await client.api<ChannelView[]>("GET", "/api/channels?limit=10");
  assert.equal(channel.name, XSS);
  assert.equal(channel.type, "webhook");
  assert.deepEqual(channel.config, { url: receiver.url, headers: { Authorization: "Bear…" } });

  // Shown once: the channel's page and the list have only the mask.
  const page = await client.get(`/admin/channels/${channel.id}`);
  assert.equal(page.status, 200);
  assert.ok(!page.html.includes(secret));
  assert.ok(!page.html.includes(HEADER_SECRET));
  // The secret is base64: `+` and `/` must not be read as pattern syntax.
  assert.ok(page.html.includes(`data-testid="masked-secret">${secret.slice(0, 10)}…<`));
  const list = await client.get("/admin/channels");
  assert.match(list.html, /&lt;img src=x onerror=alert\(1\)>/);
  assert.match(list.html, /<td>Webhook<\/td>/);
  assert.match(list.html, /<span class="badge badge-up">Enabled<\/span>/);
});

Deno.test("every channel type can be made with the form", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const forms: Record<string, Record<string, string>> = {
    slack: { "slack.webhookUrl": SLACK_URL },
    discord: { "discord.webhookUrl": "https://discord.com/api/webhooks/1234/DiscordSecret0001" },
    telegram: {
      "telegram.botToken": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
      "telegram.chatId": "-1001234567890",
    },
    pagerduty: { "pagerduty.routingKey": "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y12" },
    ntfy: { "ntfy.serverUrl": "", "ntfy.topic": "hibiki-alerts", "ntfy.token": "" },
    email: {
      "email.host": "smtp.example.com",
      "email.security": "starttls",
      "email.port": "",
      "email.username": "hibiki",
      "email.password": " spaced password ",
      "email.from": "hibiki@example.com",
      "email.to": "ops@example.com, oncall@example.com",
    },
  };
  for (const [type, fields] of Object.entries(forms)) {
    const page = await client.post("/admin/channels/new", { name: type, type, ...fields });
    assert.equal(page.status, 200, `${type}: ${errorText(page.html, '[^"]+-error')}`);
  }
  const made = await client.api<ChannelView[]>("GET", "/api/channels?limit=10");
  const config = (type: string) => made.find((c) => c.type === type)!.config;
  assert.deepEqual(config("ntfy"), {
    serverUrl: "https://ntfy.sh",
    topic: "hibiki-alerts",
    token: null,
  });
  assert.deepEqual(config("email"), {
    host: "smtp.example.com",
    port: 587,
    security: "starttls",
    username: "hibiki",
    password: "…",
    from: "hibiki@example.com",
    to: ["ops@example.com", "oncall@example.com"],
  });
  assert.deepEqual(config("telegram"), { botToken: "1234…", chatId: "-1001234567890" });
});

Deno.test("editing a channel shows its secrets masked and keeps them when the mask comes back", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  await using receiver = startReceiver();
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops",
    type: "webhook",
    config: { url: receiver.url, headers: { Authorization: HEADER_SECRET, "X-Team": "ops" } },
  });
  const edit = await client.get(`/admin/channels/${channel.id}/edit`);
  assert.equal(edit.status, 200);
  assert.ok(!edit.html.includes(HEADER_SECRET), "the secret is never shown");
  assert.match(edit.html, /Authorization: Bear…\nX-Team: …<\/textarea>/);
  // The type is fixed: no select, only its own fieldset.
  assert.doesNotMatch(edit.html, /id="channel-type"/);
  assert.doesNotMatch(edit.html, /channel-config-slack/);
  const version = /name="version" value="([^"]+)"/.exec(edit.html)?.[1];
  assert.equal(version, channel.updatedAt);

  s.clock.advance(1000);
  expectRedirect(
    await client.post(`/admin/channels/${channel.id}/edit`, {
      version: version!,
      name: "Ops (renamed)",
      type: "slack", // ignored: the type is fixed
      "webhook.url": receiver.url,
      "webhook.headers": "Authorization: Bear…\nX-Team: …\nX-New: added",
      enabled: "1",
    }),
    `/admin/channels/${channel.id}`,
  );
  const after = await client.api<ChannelView>("GET", `/api/channels/${channel.id}`);
  assert.equal(after.name, "Ops (renamed)");
  assert.equal(after.type, "webhook");
  // The masked values came back: the test send carries the stored ones.
  const tested = await client.post(`/admin/channels/${channel.id}/test`);
  assert.equal(tested.status, 200);
  assert.equal(receiver.received.length, 1);
  assert.equal(receiver.received[0].headers.get("authorization"), HEADER_SECRET);
  assert.equal(receiver.received[0].headers.get("x-team"), "ops");
  assert.equal(receiver.received[0].headers.get("x-new"), "added");
});

Deno.test("emptying an optional secret on the edit form clears it; the mask keeps it", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Phone",
    type: "ntfy",
    config: {
      serverUrl: "https://ntfy.example.com",
      topic: "ops",
      token: "tk_ntfySecretToken00001",
    },
  });
  const edit = await client.get(`/admin/channels/${channel.id}/edit`);
  assert.equal(inputValue(edit.html, "channel-ntfy-token"), "tk_n…");
  const version = /name="version" value="([^"]+)"/.exec(edit.html)![1];
  const fields = {
    version,
    name: "Phone",
    "ntfy.serverUrl": "https://ntfy.example.com",
    "ntfy.topic": "ops",
    enabled: "1",
  };
  s.clock.advance(1000);
  await client.post(`/admin/channels/${channel.id}/edit`, { ...fields, "ntfy.token": "tk_n…" });
  let after = await client.api<ChannelView>("GET", `/api/channels/${channel.id}`);
  assert.equal(after.config.token, "tk_n…");
  s.clock.advance(1000);
  await client.post(`/admin/channels/${channel.id}/edit`, {
    ...fields,
    version: after.updatedAt,
    "ntfy.token": "",
  });
  after = await client.api<ChannelView>("GET", `/api/channels/${channel.id}`);
  assert.equal(after.config.token, null);
});

Deno.test("Send test shows what the receiver said: status, words, or why nothing came back", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  let status = 503;
  await using receiver = startReceiver(() =>
    new Response(`busy <b>now</b>, status ${status}`, { status })
  );
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops",
    type: "webhook",
    config: { url: receiver.url },
  });
  await client.get(`/admin/channels/${channel.id}`);
  const failed = await client.post(`/admin/channels/${channel.id}/test`);
  assert.equal(failed.status, 200);
  assert.match(failed.html, /data-testid="test-outcome">Not delivered</);
  assert.match(failed.html, /data-testid="test-status">Status 503</);
  assert.match(failed.html, /data-testid="test-response">busy &lt;b>now&lt;\/b>, status 503</);
  assert.equal(receiver.received.length, 1);
  assert.match(receiver.received[0].text, /"type":"test"|Sample job/);

  status = 200;
  const delivered = await client.post(`/admin/channels/${channel.id}/test`);
  assert.match(delivered.html, /data-testid="test-outcome">Delivered</);
  assert.match(delivered.html, /data-testid="test-status">Status 200</);

  await receiver.close();
  const unreachable = await client.post(`/admin/channels/${channel.id}/test`);
  assert.match(unreachable.html, /data-testid="test-outcome">Not delivered</);
  assert.match(unreachable.html, /data-testid="test-status">No answer</);
  assert.match(unreachable.html, /data-testid="test-error">[^<]+</);
});

Deno.test("a rejected channel form shows the API's message beside the input, with what was typed", async () => {
  const { s, client } = await signedIn({});
  await using _ = s;
  await client.get("/admin/channels/new");
  const cases: [Record<string, string>, string, RegExp][] = [
    [{ name: " ", type: "slack", "slack.webhookUrl": SLACK_URL }, "channel-name-error", /name/],
    [{ type: "slack", "slack.webhookUrl": "" }, "channel-slack-webhookUrl-error", /is required/],
    [
      { type: "slack", "slack.webhookUrl": "http://hooks.slack.com/x" },
      "channel-slack-webhookUrl-error",
      /https/,
    ],
    [
      { type: "webhook", "webhook.url": "https://example.com/", "webhook.headers": "no colon" },
      "channel-webhook-headers-error",
      /Name: value/,
    ],
    [
      { type: "telegram", "telegram.botToken": "nope", "telegram.chatId": "42" },
      "channel-telegram-botToken-error",
      /BotFather/,
    ],
    [
      { type: "pagerduty", "pagerduty.routingKey": "short" },
      "channel-pagerduty-routingKey-error",
      /32/,
    ],
    [
      {
        type: "email",
        "email.host": "smtp.example.com",
        "email.security": "none",
        "email.from": "a@example.com",
        "email.to": "b@example.com",
      },
      "channel-email-security-error",
      /unencrypted/,
    ],
    [
      {
        type: "email",
        "email.host": "smtp.example.com",
        "email.security": "tls",
        "email.port": "smtp",
        "email.from": "a@example.com",
        "email.to": "b@example.com",
      },
      "channel-email-port-error",
      /whole number/,
    ],
    [
      {
        type: "email",
        "email.host": "smtp.example.com",
        "email.security": "tls",
        "email.from": "a@example.com",
        "email.to": "not an address",
      },
      "channel-email-to-error",
      /e-mail address/,
    ],
  ];
  for (const [change, id, message] of cases) {
    const page = await client.post("/admin/channels/new", { name: "Typed name", ...change });
    const label = JSON.stringify(change);
    assert.equal(page.status, 400, label);
    assert.match(errorText(page.html, id) ?? "", message, label);
    // The form comes back as it was sent, on the chosen type.
    if (change.name === undefined) {
      assert.equal(inputValue(page.html, "channel-name"), "Typed name");
    }
    assert.match(page.html, new RegExp(`<option value="${change.type}" selected>`), label);
  }
  const typed = await client.post("/admin/channels/new", {
    name: "",
    type: "telegram",
    "telegram.botToken": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0",
    "telegram.chatId": "@ops_channel",
  });
  assert.equal(inputValue(typed.html, "channel-telegram-chatId"), "@ops_channel");
  assert.equal((await client.api<ChannelView[]>("GET", "/api/channels?limit=10")).length, 0);
});

Deno.test("channel forms need the CSRF token; deleting needs the box", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Old",
    type: "slack",
    config: { webhookUrl: SLACK_URL },
  });
  const page = await client.get(`/admin/channels/${channel.id}`);
  assert.match(
    page.html,
    new RegExp(`action="/admin/channels/${channel.id}/delete" class="danger-zone"`),
  );
  for (const path of ["new", `${channel.id}/edit`, `${channel.id}/test`, `${channel.id}/delete`]) {
    const refused = await client.post(`/admin/channels/${path}`, {
      _csrf: "forged",
      name: "x",
      type: "slack",
      "slack.webhookUrl": SLACK_URL,
      confirm: "1",
    });
    assert.equal(refused.status, 403, path);
    assert.match(refused.html, /Not allowed/);
  }
  const crossSite = await client.post(`/admin/channels/${channel.id}/delete`, { confirm: "1" }, {
    origin: "https://evil.example",
  });
  assert.equal(crossSite.status, 403);
  assert.equal((await client.post(`/admin/channels/${channel.id}/delete`, {})).status, 400);
  expectRedirect(
    await client.post(`/admin/channels/${channel.id}/delete`, { confirm: "1" }),
    "/admin/channels",
  );
  assert.equal((await client.get(`/admin/channels/${channel.id}`)).status, 404);
});

Deno.test("another user's channel is a 404 page for every channel page", async () => {
  const { s, client: admin } = await signedIn();
  await using _ = s;
  const channel = await admin.api<ChannelView>("POST", "/api/channels", {
    name: "Mine",
    type: "slack",
    config: { webhookUrl: SLACK_URL },
  });
  await admin.get("/admin/users");
  await admin.post("/admin/users", { id: "acme", password: "acme-long-password" });
  const acme = s.client();
  await acme.signIn("acme", "acme-long-password");
  await acme.get("/admin/channels");
  const base = `/admin/channels/${channel.id}`;
  for (const path of [base, `${base}/edit`]) {
    const page = await acme.get(path);
    assert.equal(page.status, 404, path);
    assert.match(page.html, /Not found/);
    assert.doesNotMatch(page.html, /Mine/);
  }
  for (const path of [`${base}/edit`, `${base}/test`, `${base}/enable`, `${base}/delete`]) {
    const page = await acme.post(path, { name: "stolen", confirm: "1" });
    assert.equal(page.status, 404, path);
  }
  assert.doesNotMatch((await acme.get("/admin/channels")).html, /Mine/);
  assert.equal((await admin.api<ChannelView>("GET", `/api/channels/${channel.id}`)).name, "Mine");
});

Deno.test("a channel changed since its edit form was read is not saved: a 409 page", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops",
    type: "slack",
    config: { webhookUrl: SLACK_URL },
  });
  const edit = await client.get(`/admin/channels/${channel.id}/edit`);
  const version = /name="version" value="([^"]+)"/.exec(edit.html)![1];
  s.clock.advance(1000);
  await client.api("PATCH", `/api/channels/${channel.id}`, { name: "Changed elsewhere" });
  s.clock.advance(1000);
  const lost = await client.post(`/admin/channels/${channel.id}/edit`, {
    version,
    name: "Mine",
    "slack.webhookUrl": "https://hooks.slack.com/…",
    enabled: "1",
  });
  assert.equal(lost.status, 409);
  assert.match(lost.html, /Not saved: it changed meanwhile/);
  assert.equal(
    (await client.api<ChannelView>("GET", `/api/channels/${channel.id}`)).name,
    "Changed elsewhere",
  );
});

Deno.test("a disabled channel shows why, and can be enabled again", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops",
    type: "slack",
    config: { webhookUrl: SLACK_URL },
  });
  await client.api("PATCH", `/api/channels/${channel.id}`, { enabled: false });
  const list = await client.get("/admin/channels");
  assert.match(list.html, /badge-paused">Disabled</);
  assert.match(list.html, /data-testid="disabled-reason">Disabled by the owner</);
  const ja = await client.get("/admin/channels", { "accept-language": "ja" });
  assert.match(ja.html, /data-testid="disabled-reason">所有者が無効にしました</);
  const page = await client.get(`/admin/channels/${channel.id}`);
  assert.match(page.html, /Enable again/);
  expectRedirect(
    await client.post(`/admin/channels/${channel.id}/enable`),
    `/admin/channels/${channel.id}`,
  );
  assert.equal((await client.api<ChannelView>("GET", `/api/channels/${channel.id}`)).enabled, true);
});

Deno.test("the channel pages speak Japanese", async () => {
  const { s, client } = await signedIn();
  await using _ = s;
  const channel = await client.api<ChannelView>("POST", "/api/channels", {
    name: "Ops",
    type: "slack",
    config: { webhookUrl: SLACK_URL },
  });
  const ja = { "accept-language": "ja-JP,ja;q=0.9" };
  const list = await client.get("/admin/channels", ja);
  assert.match(list.html, /<h1>通知チャンネル<\/h1>/);
  assert.match(list.html, />アラート<\/a>/);
  const form = await client.get("/admin/channels/new", ja);
  assert.match(form.html, /<legend>Slack の設定<\/legend>/);
  assert.match(form.html, /<option value="email">メール<\/option>/);
  const page = await client.get(`/admin/channels/${channel.id}`, ja);
  assert.match(page.html, /テスト送信/);
  assert.match(page.html, /このチャンネルを削除/);
});

Deno.test("every label of the channel form has a Japanese version", () => {
  const texts = [
    ...Object.values(TYPE_LABELS),
    ...SECURITY_LABELS.map(([, label]) => label),
    ...CHANNEL_TYPES.flatMap((type) =>
      CONFIG_INPUTS[type].flatMap((input) => [input.label, input.hint ?? input.label])
    ),
  ];
  assert.deepEqual(texts.filter((text) => !(text in ja)), []);
});

/**
 * The notification lane end to end: jobs go down and up on the injected clock, the real lanes
 * on Deno KV decide and send, and real webhook receivers on 127.0.0.1 get the messages. Sends
 * on open and resolve, escalation, reminders, retries with Retry-After, dead notifications and
 * dead channels, grouping, a channel deleted meanwhile, and two processes on one KV file.
 */
import assert from "node:assert/strict";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import type { WebhookPayload } from "../lib/alerts/channels/webhook.ts";
import type { Notification } from "../lib/alerts/types.ts";
import { atMinute, incident, incidentsOf, MINUTE, switchableProbe } from "./alerts_support.ts";
import { expectStatus, T0, TestSystem } from "./helpers.ts";
import { type Receiver, type Reply, startReceiver } from "./webhook_receiver.ts";

const PRIVATE = { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", HIBIKI_PUBLIC_URL: "https://hibiki.test" };
/** A job firing every minute at :00, created at T0: its first run is at 12:01. */
const EVERY_MINUTE = { name: "API", url: "https://example.com/health", schedule: "* * * * *" };

async function webhookChannel(t: TestSystem, receiver: Receiver): Promise<ChannelView> {
  const answer = await t.call<ChannelView>("POST", "/api/channels", {
    body: { name: "ops hook", type: "webhook", config: { url: receiver.url } },
  });
  expectStatus(answer, 201);
  return answer.body.data;
}

function payloads(receiver: Receiver): WebhookPayload[] {
  return receiver.received.map((r) => JSON.parse(r.text));
}

function kinds(receiver: Receiver): string[] {
  return payloads(receiver).map((p) => p.type);
}

/** A system whose jobs fail or pass as the test says, with a webhook channel to `receiver`. */
async function downJob(
  options: { reply?: (r: unknown, i: number) => Reply; alerts?: Record<string, unknown> } = {},
) {
  const target = switchableProbe();
  target.set("down");
  const receiver = startReceiver(options.reply as never);
  const t = await TestSystem.start({ probe: target.probe, env: PRIVATE, retryJitter: () => 0 });
  const channel = await webhookChannel(t, receiver);
  const job = await t.createJob({
    ...EVERY_MINUTE,
    alerts: { failureThreshold: 1, channels: [{ channelId: channel.id }], ...options.alerts },
  });
  return {
    t,
    target,
    receiver,
    channel,
    job,
    async [Symbol.asyncDispose]() {
      await t[Symbol.asyncDispose]();
      await receiver.close();
    },
  };
}

async function notificationsOf(t: TestSystem): Promise<Notification[]> {
  const [open] = await incidentsOf(t);
  return (await incident(t, open.id)).notifications;
}

Deno.test("an incident's opening and resolving each reach a webhook channel once, with the notification's id", async () => {
  await using s = await downJob();
  await atMinute(s.t, 1);
  assert.deepEqual(kinds(s.receiver), ["incident.opened"]);
  const [opened] = await notificationsOf(s.t);
  assert.equal(opened.state, "sent");
  assert.equal(opened.nextAttemptAt, null);
  assert.equal(opened.attempts.length, 1);
  assert.equal(opened.attempts[0].status, 200);
  assert.equal(opened.attempts[0].success, true);
  assert.equal(opened.attempts[0].response, "OK");
  assert.equal(s.receiver.received[0].headers.get("webhook-id"), opened.id);
  const body = payloads(s.receiver)[0];
  assert.equal(body.incident?.jobId, s.job.id);
  assert.equal(body.jobs[0].name, "API");
  assert.equal(body.jobs[0].state, "down");
  assert.match(body.jobs[0].adminUrl, /^https:\/\/hibiki\.test\//);

  s.target.set("up");
  await atMinute(s.t, 2);
  await atMinute(s.t, 3);
  assert.deepEqual(kinds(s.receiver), ["incident.opened", "incident.resolved"]);
  const [done] = await incidentsOf(s.t, "?state=resolved");
  const detail = await incident(s.t, done.id);
  assert.deepEqual(detail.notifications.map((n) => [n.kind, n.state]), [
    ["incident.opened", "sent"],
    ["incident.resolved", "sent"],
  ]);
  const metrics = await (await s.t.system.app.request("/metrics")).text();
  assert.match(metrics, /hibiki_notifications_total\{type="webhook",outcome="sent"\} 2/);
  assert.match(metrics, /hibiki_open_incidents 0/);
});

Deno.test("a channel with onResolve false hears of the opening only", async () => {
  await using s = await downJob();
  await s.t.call("PATCH", `/api/jobs/${s.job.id}`, {
    body: { alerts: { channels: [{ channelId: s.channel.id, onResolve: false }] } },
  });
  await atMinute(s.t, 1);
  const metrics = await (await s.t.system.app.request("/metrics")).text();
  assert.match(metrics, /hibiki_open_incidents 1/);
  s.target.set("up");
  await atMinute(s.t, 2);
  await atMinute(s.t, 3);
  assert.deepEqual(kinds(s.receiver), ["incident.opened"]);
});

Deno.test("an escalation is sent after its delay only while the incident is open and unacknowledged", async () => {
  const target = switchableProbe();
  target.set("down");
  await using ops = startReceiver();
  await using pager = startReceiver();
  await using t = await TestSystem.start({ probe: target.probe, env: PRIVATE });
  const first = await webhookChannel(t, ops);
  const second = await webhookChannel(t, pager);
  const alerts = (delay: number) => ({
    failureThreshold: 1,
    channels: [{ channelId: first.id }, { channelId: second.id, delayMinutes: delay }],
  });
  const a = await t.createJob({ ...EVERY_MINUTE, alerts: alerts(10) });
  const b = await t.createJob({ ...EVERY_MINUTE, name: "B", alerts: alerts(10) });
  await atMinute(t, 1);
  assert.equal(ops.received.length, 1); // a and b grouped for the channel heard at once
  assert.equal(pager.received.length, 0);
  // b is acknowledged at 12:05: its escalation is cancelled; a's goes out at 12:11.
  const [ofB] = await incidentsOf(t, `?jobId=${b.id}`);
  await atMinute(t, 5);
  expectStatus(await t.call("POST", `/api/incidents/${ofB.id}/acknowledge`), 200);
  await atMinute(t, 10);
  assert.equal(pager.received.length, 0);
  await atMinute(t, 11);
  assert.deepEqual(kinds(pager), ["incident.opened"]);
  assert.equal(payloads(pager)[0].incident?.jobId, a.id);
  const bNotes = (await incident(t, ofB.id)).notifications;
  assert.deepEqual(bNotes.map((n) => [n.channelId, n.state]), [
    [first.id, "sent"],
    [second.id, "cancelled"],
  ]);
});

Deno.test("reminders repeat every N minutes until the incident is acknowledged", async () => {
  await using s = await downJob({ alerts: { remindEveryMinutes: 5 } });
  await atMinute(s.t, 1);
  await atMinute(s.t, 5);
  assert.deepEqual(kinds(s.receiver), ["incident.opened"]);
  await atMinute(s.t, 6);
  await atMinute(s.t, 11);
  assert.deepEqual(kinds(s.receiver), [
    "incident.opened",
    "incident.reminder",
    "incident.reminder",
  ]);
  const reminder = (await notificationsOf(s.t)).find((n) => n.kind === "incident.reminder")!;
  assert.equal(reminder.state, "pending");
  assert.equal(reminder.nextAttemptAt, T0 + 16 * MINUTE);
  assert.equal(reminder.attempts.filter((a) => a.success).length, 2);
  const [open] = await incidentsOf(s.t);
  expectStatus(await s.t.call("POST", `/api/incidents/${open.id}/acknowledge`), 200);
  await atMinute(s.t, 16);
  await atMinute(s.t, 21);
  assert.equal(s.receiver.received.length, 3);
  const after = (await notificationsOf(s.t)).find((n) => n.kind === "incident.reminder")!;
  assert.equal(after.state, "cancelled");
});

Deno.test("a failed send retries after the receiver's Retry-After, then succeeds", async () => {
  await using s = await downJob({
    reply: (_r, i) =>
      i === 0
        ? new Response("busy", { status: 503, headers: { "Retry-After": "120" } })
        : new Response("OK"),
  });
  await atMinute(s.t, 1);
  const [failed] = await notificationsOf(s.t);
  assert.equal(failed.state, "pending");
  assert.equal(failed.attempts[0].status, 503);
  assert.equal(failed.nextAttemptAt, T0 + MINUTE + 120_000); // not the schedule's 5 s
  await atMinute(s.t, 2, 59);
  assert.equal(s.receiver.received.length, 1);
  await atMinute(s.t, 3);
  const [sent] = await notificationsOf(s.t);
  assert.equal(sent.state, "sent");
  assert.deepEqual(sent.attempts.map((a) => a.status), [503, 200]);
  // The retry is the same message: same id, so a receiver can tell.
  const ids = s.receiver.received.map((r) => r.headers.get("webhook-id"));
  assert.equal(ids[0], ids[1]);
});

Deno.test("a permanent refusal makes the notification dead at once", async () => {
  await using s = await downJob({ reply: () => new Response("no", { status: 401 }) });
  await atMinute(s.t, 1);
  const [dead] = await notificationsOf(s.t);
  assert.equal(dead.state, "dead");
  assert.equal(dead.nextAttemptAt, null);
  assert.equal(dead.attempts.length, 1);
  assert.equal(dead.reason, "Refused for good by the receiver");
  const metrics = await (await s.t.system.app.request("/metrics")).text();
  assert.match(metrics, /hibiki_notifications_total\{type="webhook",outcome="dead"\} 1/);
  const channel = await s.t.call<ChannelView>("GET", `/api/channels/${s.channel.id}`);
  assert.equal(channel.body.data.enabled, true);
  assert.notEqual(channel.body.data.failingSince, null);
});

Deno.test("a 410 Gone disables the channel, and what was queued for it is cancelled", async () => {
  await using s = await downJob({ reply: () => new Response("gone", { status: 410 }) });
  await atMinute(s.t, 1);
  const channel = await s.t.call<ChannelView>("GET", `/api/channels/${s.channel.id}`);
  assert.equal(channel.body.data.enabled, false);
  assert.equal(channel.body.data.disabledReason, "The endpoint answered 410 Gone");
  const [dead] = await notificationsOf(s.t);
  assert.equal(dead.state, "dead");
  s.target.set("up");
  await atMinute(s.t, 2);
  const [done] = await incidentsOf(s.t);
  const resolved = (await incident(s.t, done.id)).notifications[1];
  assert.equal(resolved.kind, "incident.resolved");
  assert.equal(resolved.state, "cancelled");
  assert.equal(resolved.reason, "Channel disabled: The endpoint answered 410 Gone");
  assert.equal(s.receiver.received.length, 1);
});

Deno.test("a channel deleted before an escalation's time cancels it with a reason", async () => {
  await using s = await downJob();
  await s.t.call("PATCH", `/api/jobs/${s.job.id}`, {
    body: { alerts: { channels: [{ channelId: s.channel.id, delayMinutes: 5 }] } },
  });
  await atMinute(s.t, 1);
  expectStatus(await s.t.call("DELETE", `/api/channels/${s.channel.id}`), 200);
  await atMinute(s.t, 6);
  const [gone] = await notificationsOf(s.t);
  assert.equal(gone.state, "cancelled");
  assert.equal(gone.reason, "Channel deleted");
  assert.equal(s.receiver.received.length, 0);
});

Deno.test("fifty jobs going down together make one grouped message per channel", async () => {
  const target = switchableProbe();
  await using one = startReceiver();
  await using two = startReceiver();
  await using t = await TestSystem.start({
    probe: target.probe,
    env: { ...PRIVATE, HIBIKI_ALERT_GROUP_MS: "300" },
  });
  const channels = [await webhookChannel(t, one), await webhookChannel(t, two)];
  for (let i = 0; i < 50; i++) {
    await t.createJob({
      ...EVERY_MINUTE,
      name: `shard ${i}`,
      alerts: { failureThreshold: 1, channels: channels.map((c) => ({ channelId: c.id })) },
    });
  }
  await atMinute(t, 1);
  target.set("down");
  await atMinute(t, 2);
  for (const receiver of [one, two]) {
    assert.deepEqual(kinds(receiver), ["incidents.grouped"]);
    const [message] = payloads(receiver);
    assert.equal(message.incidents?.length, 50);
    assert.equal(new Set(message.jobs.map((j) => j.name)).size, 50);
  }
  const incidents = await incidentsOf(t, "?limit=100");
  assert.equal(incidents.length, 50);
  const all = (await Promise.all(incidents.map((i) => incident(t, i.id))))
    .flatMap((d) => d.notifications);
  assert.equal(all.length, 100);
  assert.ok(all.every((n) => n.state === "sent" && n.attempts.length === 1));
  // Each channel's message went out under one notification's id, which the others name.
  for (const receiver of [one, two]) {
    const id = receiver.received[0].headers.get("webhook-id");
    const leader = all.find((n) => n.id === id)!;
    assert.equal(leader.group?.length, 49);
    assert.equal(all.filter((n) => n.groupedInto === id).length, 49);
  }

  // And their recovery is one grouped message again.
  target.set("up");
  await atMinute(t, 3);
  for (const receiver of [one, two]) {
    assert.equal(receiver.received.length, 2);
    const resolved = payloads(receiver)[1];
    assert.equal(resolved.type, "incidents.grouped");
    assert.ok(resolved.incidents?.every((i) => i.state === "resolved"));
  }
});

Deno.test("two processes on one KV file send an incident's message once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  const target = switchableProbe();
  await using receiver = startReceiver();
  const env = { ...PRIVATE, HIBIKI_ALERT_GROUP_MS: "50" };
  const masterKey = crypto.getRandomValues(new Uint8Array(32));
  await using a = await TestSystem.start({ probe: target.probe, env, kvPath, masterKey });
  await using b = await TestSystem.start({ probe: target.probe, env, kvPath, masterKey });
  const channel = await webhookChannel(a, receiver);
  await a.createJob({
    ...EVERY_MINUTE,
    alerts: { failureThreshold: 1, channels: [{ channelId: channel.id }] },
  });
  target.set("down");
  a.clock.set(T0 + MINUTE);
  b.clock.set(T0 + MINUTE);
  // Both tick and drain every lane at once, as two processes would.
  await Promise.all([a.system.cronTick(), b.system.cronTick()]);
  await Promise.all([a.settle(), b.settle(), a.settle(), b.settle()]);
  assert.deepEqual(kinds(receiver), ["incident.opened"]);
});

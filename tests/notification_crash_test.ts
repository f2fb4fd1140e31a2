/**
 * Notifications survive the death of the process that queued or was sending them. Two Deno
 * KV handles on one file stand for two processes: the "dead" one is the store, engine and
 * notifier of a process, driven step by step and then closed where it would have died; the
 * survivor is a whole system. What is guaranteed:
 * - a process dying after the state change commit and before the send loses nothing: the
 *   survivor sends the message once;
 * - one dying after the receiver got the message and before its outcome was written sends
 *   it again once the lease runs out (NOTIFY_LEASE_MS), under the same `webhook-id`, and then
 *   never again: at-least-once with a stable id, which the receiver can dedupe;
 * - one dying after writing a group and before sending it leaves only the group's leader in
 *   the lane: the survivor sends that same grouped message once, under the leader's id.
 */
import assert from "node:assert/strict";
import { ChannelService } from "../lib/alerts/channel_service.ts";
import { createNotifySend } from "../lib/alerts/channels/notify_send.ts";
import { AlertEngine } from "../lib/alerts/engine.ts";
import { noMaintenance } from "../lib/alerts/no_maintenance.ts";
import { Notifier, NOTIFY_LEASE_MS } from "../lib/alerts/notifier.ts";
import type { AlertMessage, Channel, SendOutcome } from "../lib/alerts/types.ts";
import { ManualClock } from "../lib/clock.ts";
import { SecretBox } from "../lib/crypto.ts";
import { Dispatcher } from "../lib/lanes/dispatcher.ts";
import { Metrics } from "../lib/metrics.ts";
import type { AlertStore, NotificationRef } from "../lib/store/alerts.ts";
import { createKvStores } from "../lib/store/kv/mod.ts";
import { openKv } from "../lib/store/kv/open_kv.ts";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import type { Run } from "../lib/store/types.ts";
import { incident, incidentsOf } from "./alerts_support.ts";
import { expectStatus, TestSystem } from "./helpers.ts";
import { type Receiver, startReceiver } from "./webhook_receiver.ts";

const ENV = { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1", HIBIKI_PUBLIC_URL: "https://hibiki.test" };
const EVERY_MINUTE = { url: "https://example.com/health", schedule: "* * * * *" };

interface DeadOptions {
  /** The outcome write fails, as if the process died right after the send. */
  failWrites?: boolean;
  /** Replaces the send (a process that dies while sending). */
  send?: (channel: Channel, message: AlertMessage) => Promise<SendOutcome>;
}

/** The parts of a process that will die: its store, engine and notification lane. */
async function process(kvPath: string, masterKey: Uint8Array, at: number, o: DeadOptions = {}) {
  const clock = new ManualClock(at);
  const kv = await openKv(kvPath);
  const stores = createKvStores(kv, { clock });
  const engine = new AlertEngine({ alerts: stores.alerts, clock, calendar: noMaintenance });
  const channels = new ChannelService({
    channels: stores.channels,
    box: new SecretBox(masterKey),
    clock,
    send: createNotifySend({
      allowPrivateNetworks: true,
      telegramApiUrl: "http://127.0.0.1:9",
      pagerDutyApiUrl: "http://127.0.0.1:9",
      publicUrl: "https://hibiki.test",
      clock,
    }),
    baseUrl: "https://hibiki.test",
    allowPrivateNetworks: true,
    allowHttp: false,
  });
  const alerts: AlertStore = o.failWrites
    ? new Proxy(stores.alerts, {
      get(target, name) {
        if (name === "saveNotifications") return () => Promise.reject(new Error("killed"));
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      },
    })
    : stores.alerts;
  const notifier = new Notifier({
    alerts,
    channels: stores.channels,
    lanes: stores.lanes,
    send: o.send ?? ((channel, message) => channels.send(channel, message)),
    clock,
    metrics: new Metrics(),
    baseUrl: "https://hibiki.test",
    onDue: () => {},
    groupWindowMs: 0,
  });
  const lane = new Dispatcher<NotificationRef>({
    lane: "notification",
    store: stores.lanes,
    clock,
    maxConcurrency: 100,
    leaseMs: () => NOTIFY_LEASE_MS,
    execute: (item, lease) => notifier.execute(item, lease),
  });
  return {
    kv,
    clock,
    /** Records a failing run of each job and decides it: incidents open, notifications queue. */
    async fail(jobIds: string[]) {
      for (const jobId of jobIds) {
        const job = (await stores.records.getJob("default", jobId))!.job;
        const run = failedRun(jobId, at);
        const decide = engine.requestFor(run, job)!;
        const recorded = await stores.records.recordRun({
          run,
          scheduledAt: at,
          suffix: "local",
          lease: null,
          runsStored: 0,
          counts: true,
          decide,
        });
        assert.equal(recorded, true);
        await engine.afterRecord(run, job, decide);
      }
    },
    /** Lets the notification lane take what is due and run it to its end (or its death). */
    async notify() {
      await lane.drain();
      while (lane.active > 0) await new Promise((resolve) => setTimeout(resolve, 5));
    },
  };
}

async function setUp(jobs = 1) {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  const masterKey = crypto.getRandomValues(new Uint8Array(32));
  const receiver = startReceiver();
  const survivor = await TestSystem.start({ kvPath, masterKey, env: ENV });
  const answer = await survivor.call<ChannelView>("POST", "/api/channels", {
    body: { name: "ops", type: "webhook", config: { url: receiver.url } },
  });
  expectStatus(answer, 201);
  const ids: string[] = [];
  for (let i = 0; i < jobs; i++) {
    const job = await survivor.createJob({
      ...EVERY_MINUTE,
      name: `job ${i}`,
      alerts: { failureThreshold: 1, channels: [{ channelId: answer.body.data.id }] },
    });
    ids.push(job.id);
  }
  const at = Date.parse(
    (await survivor.call<{ nextRunAt: string }>("GET", `/api/jobs/${ids[0]}`))
      .body.data.nextRunAt,
  );
  survivor.clock.set(at + 50);
  return {
    kvPath,
    masterKey,
    receiver,
    survivor,
    ids,
    at,
    async [Symbol.asyncDispose]() {
      await survivor[Symbol.asyncDispose]();
      await receiver.close();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

function ids(receiver: Receiver): (string | null)[] {
  return receiver.received.map((r) => r.headers.get("webhook-id"));
}

Deno.test("a process that dies between the state change and the send loses nothing: another sends once", async () => {
  await using s = await setUp();
  const dead = await process(s.kvPath, s.masterKey, s.at + 50);
  await dead.fail(s.ids);
  dead.kv.close(); // dies before its notification lane ran

  await s.survivor.settle();
  assert.equal(s.receiver.received.length, 1);
  s.survivor.clock.advance(10 * NOTIFY_LEASE_MS);
  await s.survivor.settle();
  assert.equal(s.receiver.received.length, 1);
  const [open] = await incidentsOf(s.survivor);
  const [sent] = (await incident(s.survivor, open.id)).notifications;
  assert.equal(sent.state, "sent");
  assert.deepEqual(ids(s.receiver), [sent.id]);
});

Deno.test("a send whose outcome was never written is sent again once, after its lease, with the same id", async () => {
  await using s = await setUp();
  const dead = await process(s.kvPath, s.masterKey, s.at + 50, { failWrites: true });
  await dead.fail(s.ids);
  await dead.notify(); // the receiver gets it; the write that records it never lands
  dead.kv.close();
  assert.equal(s.receiver.received.length, 1);

  // Its lease still holds: nobody sends it meanwhile.
  await s.survivor.settle();
  s.survivor.clock.advance(NOTIFY_LEASE_MS - 1000);
  await s.survivor.settle();
  assert.equal(s.receiver.received.length, 1);
  // Then the survivor takes it over: one more send, the same webhook-id, and no more.
  s.survivor.clock.advance(2000);
  await s.survivor.settle();
  s.survivor.clock.advance(10 * NOTIFY_LEASE_MS);
  await s.survivor.settle();
  const [open] = await incidentsOf(s.survivor);
  const [sent] = (await incident(s.survivor, open.id)).notifications;
  assert.equal(sent.state, "sent");
  assert.deepEqual(ids(s.receiver), [sent.id, sent.id]);
});

Deno.test("a group written by a process that died before sending it goes out once, whole, under its leader's id", async () => {
  await using s = await setUp(5);
  const dead = await process(s.kvPath, s.masterKey, s.at + 50, {
    send: () => Promise.reject(new Error("killed while sending")),
  });
  await dead.fail(s.ids);
  await dead.notify();
  dead.kv.close();
  assert.equal(s.receiver.received.length, 0);

  s.survivor.clock.advance(NOTIFY_LEASE_MS + 1000);
  await s.survivor.settle();
  s.survivor.clock.advance(10 * NOTIFY_LEASE_MS);
  await s.survivor.settle();
  assert.equal(s.receiver.received.length, 1);
  const message = JSON.parse(s.receiver.received[0].text);
  assert.equal(message.type, "incidents.grouped");
  assert.equal(message.incidents.length, 5);
  const notes =
    (await Promise.all((await incidentsOf(s.survivor)).map((i) => incident(s.survivor, i.id))))
      .flatMap((d) => d.notifications);
  const leader = notes.find((n) => n.group)!;
  assert.deepEqual(ids(s.receiver), [leader.id]);
  assert.ok(notes.every((n) => n.state === "sent"));
});

function failedRun(jobId: string, at: number): Run {
  const stamp = new Date(at).toISOString();
  return {
    id: `${at}-local`,
    jobId,
    userId: "default",
    where: "local",
    trigger: "AUTO",
    status: "failure",
    code: 503,
    scheduledAt: stamp,
    startedAt: stamp,
    finishedAt: new Date(at + 12).toISOString(),
    durationMs: 12,
    lateMs: 0,
    response: { headers: {}, body: "down", bodyTruncated: false },
    error: null,
    failure: "Expected status 2xx, got 503",
  };
}

/**
 * Alerting on a job checked here, through the HTTP API with the injected clock: thresholds,
 * degraded, pause, maintenance, incidents and their notifications, acknowledgement, uptime.
 * Every run is a real scheduled fire, recorded and decided by the real lanes on Deno KV.
 */
import assert from "node:assert/strict";
import {
  type Answer,
  atMinute,
  delivered,
  incident,
  incidentsOf,
  MINUTE,
  namedChannels,
  stateOf,
  switchableProbe,
  TestCalendar,
  uptimeOf,
} from "./alerts_support.ts";
import { expectError, expectStatus, storeTest, T0, TestSystem } from "./helpers.ts";
import type { Incident } from "../lib/alerts/types.ts";
import type { Run } from "../lib/store/types.ts";

const iso = (minutes: number) => new Date(T0 + minutes * MINUTE).toISOString();

/** A job firing every minute at :00, created at T0 (12:00:00): its first run is at 12:01. */
const EVERY_MINUTE = { name: "API", url: "https://example.com/health", schedule: "* * * * *" };

storeTest(
  "a job checked every minute goes down after 3 failing intervals and up after 1 passing one",
  async (store) => {
    const target = switchableProbe();
    await using t = await TestSystem.start({ store, probe: target.probe });
    const job = await t.createJob(EVERY_MINUTE);
    assert.equal(job.alerts.failureThreshold, 3);
    assert.equal(job.alerts.successThreshold, 1);
    assert.equal((await stateOf(t, job.id)).state, "pending");

    await atMinute(t, 1);
    assert.equal((await stateOf(t, job.id)).state, "up");
    target.set("down");
    await atMinute(t, 2);
    await atMinute(t, 3);
    const failing = await stateOf(t, job.id);
    assert.equal(failing.state, "up");
    assert.equal(failing.failures, 2);
    assert.deepEqual(await incidentsOf(t), []);

    await atMinute(t, 4);
    const down = await stateOf(t, job.id);
    assert.equal(down.state, "down");
    assert.equal(down.since, iso(4));
    const [opened] = await incidentsOf(t, "?state=open");
    assert.equal(down.incidentId, opened.id);
    assert.equal(opened.jobId, job.id);
    assert.equal(opened.startedAt, iso(2)); // the first failing interval
    assert.equal(opened.cause, "Expected status 2xx, got 503");
    assert.deepEqual(opened.runIds, [`${T0 + 4 * MINUTE}-local`]);
    assert.deepEqual(opened.locations, ["local"]);

    await atMinute(t, 5); // still failing: the same incident
    assert.equal((await incidentsOf(t)).length, 1);
    target.set("up");
    await atMinute(t, 6);
    const up = await stateOf(t, job.id);
    assert.equal(up.state, "up");
    assert.equal(up.incidentId, null);
    const [resolved] = await incidentsOf(t, "?state=resolved");
    assert.equal(resolved.id, opened.id);
    assert.equal(resolved.endedAt, iso(6));
    assert.equal(resolved.durationMs, 4 * MINUTE);
    assert.deepEqual(await incidentsOf(t, "?state=open"), []);
  },
);

storeTest("a daily job opens an incident on its first failure", async (store) => {
  const target = switchableProbe();
  target.set("down");
  await using t = await TestSystem.start({ store, probe: target.probe });
  const job = await t.createJob({ ...EVERY_MINUTE, schedule: "0 13 * * *" });
  assert.equal(job.alerts.failureThreshold, 1);
  await atMinute(t, 60);
  assert.equal((await stateOf(t, job.id)).state, "down");
  assert.equal((await incidentsOf(t, "?state=open")).length, 1);
});

storeTest(
  "an incident resolves only after successThreshold passing intervals in a row",
  async (store) => {
    const target = switchableProbe();
    await using t = await TestSystem.start({ store, probe: target.probe });
    const job = await t.createJob({
      ...EVERY_MINUTE,
      alerts: { failureThreshold: 1, successThreshold: 3 },
    });
    target.set("down");
    await atMinute(t, 1);
    target.set("up");
    await atMinute(t, 2);
    await atMinute(t, 3);
    target.set("down");
    await atMinute(t, 4); // breaks the streak
    target.set("up");
    await atMinute(t, 5);
    await atMinute(t, 6);
    assert.equal((await stateOf(t, job.id)).state, "down");
    await atMinute(t, 7);
    const state = await stateOf(t, job.id);
    assert.equal(state.state, "up");
    const [only] = await incidentsOf(t);
    assert.equal(only.state, "resolved");
    assert.equal(only.startedAt, iso(1));
    assert.equal(only.endedAt, iso(5));
  },
);

storeTest(
  "a passing run slower than degradedLatencyMs makes the job degraded, not down",
  async (store) => {
    const target = switchableProbe();
    await using t = await TestSystem.start({ store, probe: target.probe });
    const job = await t.createJob({ ...EVERY_MINUTE, alerts: { degradedLatencyMs: 500 } });
    await atMinute(t, 1);
    target.set("slow");
    await atMinute(t, 2);
    const slow = await stateOf(t, job.id);
    assert.equal(slow.state, "degraded");
    assert.equal(slow.verdict, "degraded");
    target.set("up");
    await atMinute(t, 3);
    assert.equal((await stateOf(t, job.id)).state, "up");
    assert.deepEqual(await incidentsOf(t), []);
  },
);

storeTest("a disabled job shows paused", async (store) => {
  await using t = await TestSystem.start({ store });
  const job = await t.createJob(EVERY_MINUTE);
  await atMinute(t, 1);
  t.clock.advance(1000);
  expectStatus(await t.call("PATCH", `/api/jobs/${job.id}`, { body: { enabled: false } }), 200);
  const state = await stateOf(t, job.id);
  assert.equal(state.state, "paused");
  assert.equal(state.since, new Date(T0 + MINUTE + 1000).toISOString());
});

storeTest(
  "an incident queues one notification per channel, escalations and reminders later",
  async (store) => {
    const target = switchableProbe();
    target.set("down");
    const sent: string[] = [];
    await using t = await TestSystem.start({ store, probe: target.probe, notify: delivered(sent) });
    const ch = await namedChannels(t, ["ch_ops", "ch_pager", "ch_boss"]);
    await t.createJob({
      ...EVERY_MINUTE,
      alerts: {
        failureThreshold: 1,
        remindEveryMinutes: 60,
        channels: [
          { channelId: ch.id("ch_ops") },
          { channelId: ch.id("ch_pager"), delayMinutes: 30, onResolve: false },
          { channelId: ch.id("ch_boss"), delayMinutes: 120 },
        ],
      },
    });
    await atMinute(t, 1);
    const [open] = await incidentsOf(t);
    const detail = await incident(t, open.id);
    const queued = detail.notifications.map((n) => [
      ch.label(n.channelId),
      n.kind,
      n.nextAttemptAt,
      n.state,
    ]);
    const at = (minutes: number) => T0 + minutes * MINUTE;
    assert.deepEqual(queued, [
      ["ch_ops", "incident.opened", null, "sent"], // due at once: the lane sent it
      ["ch_ops", "incident.reminder", at(61), "pending"],
      ["ch_pager", "incident.opened", at(31), "pending"],
      ["ch_pager", "incident.reminder", at(91), "pending"],
      ["ch_boss", "incident.opened", at(121), "pending"],
      ["ch_boss", "incident.reminder", at(181), "pending"],
    ]);
    assert.deepEqual(detail.notificationIds, detail.notifications.map((n) => n.id));
    assert.ok(
      detail.notifications.every((n) => n.incidentIds[0] === open.id && n.userId === "default"),
    );

    // The escalation to ch_pager is sent at 12:31, while the incident is still open.
    await atMinute(t, 31);
    assert.deepEqual(sent, ["ch_ops incident.opened", "ch_pager incident.opened"]);
    // Resolved at 12:40: ch_pager heard at 12:31 but asked for no resolve; ch_boss never heard.
    target.set("up");
    await atMinute(t, 40);
    const after = await incident(t, open.id);
    const states = after.notifications.map((n) => [ch.label(n.channelId), n.kind, n.state]);
    assert.deepEqual(states, [
      ["ch_ops", "incident.opened", "sent"],
      ["ch_ops", "incident.reminder", "cancelled"],
      ["ch_pager", "incident.opened", "sent"],
      ["ch_pager", "incident.reminder", "cancelled"],
      ["ch_boss", "incident.opened", "cancelled"],
      ["ch_boss", "incident.reminder", "cancelled"],
      ["ch_ops", "incident.resolved", "sent"],
    ]);
    assert.deepEqual(sent, [
      "ch_ops incident.opened",
      "ch_pager incident.opened",
      "ch_ops incident.resolved",
    ]);
    assert.equal(after.notifications[6].attempts[0].at, new Date(at(40)).toISOString());
    assert.ok(
      after.notifications.filter((n) => n.state === "cancelled").every((n) =>
        n.nextAttemptAt === null
      ),
    );
  },
);

storeTest(
  "POST /api/incidents/:id/acknowledge records who and stops reminders and escalations",
  async (store) => {
    const target = switchableProbe();
    target.set("down");
    const sent: string[] = [];
    await using t = await TestSystem.start({ store, probe: target.probe, notify: delivered(sent) });
    const ch = await namedChannels(t, ["ch_ops", "ch_pager"]);
    await t.createJob({
      ...EVERY_MINUTE,
      alerts: {
        failureThreshold: 1,
        remindEveryMinutes: 15,
        channels: [{ channelId: ch.id("ch_ops") }, {
          channelId: ch.id("ch_pager"),
          delayMinutes: 10,
        }],
      },
    });
    await atMinute(t, 1);
    const [open] = await incidentsOf(t);
    const { key } = await t.createKey(["write:jobs"]); // named "test write:jobs"
    t.clock.advance(5000);
    const acked = await t.call<Incident>("POST", `/api/incidents/${open.id}/acknowledge`, { key });
    expectStatus(acked, 200);
    assert.equal(acked.body.data.acknowledgedBy, "test write:jobs");
    assert.equal(acked.body.data.acknowledgedAt, new Date(T0 + MINUTE + 5000).toISOString());
    const detail = await incident(t, open.id);
    assert.deepEqual(detail.notifications.map((n) => [ch.label(n.channelId), n.kind, n.state]), [
      ["ch_ops", "incident.opened", "sent"],
      ["ch_ops", "incident.reminder", "cancelled"],
      ["ch_pager", "incident.opened", "cancelled"],
      ["ch_pager", "incident.reminder", "cancelled"],
    ]);
    // Again, as the root key: the first acknowledgement stands.
    t.clock.advance(5000);
    const again = await t.call<Incident>("POST", `/api/incidents/${open.id}/acknowledge`);
    assert.equal(again.body.data.acknowledgedBy, "test write:jobs");
    assert.equal(again.body.data.acknowledgedAt, acked.body.data.acknowledgedAt);

    // Resolving tells only the channel that heard of it.
    target.set("up");
    await atMinute(t, 2);
    const resolved = await incident(t, open.id);
    assert.deepEqual(
      resolved.notifications.filter((n) => n.kind === "incident.resolved").map((n) =>
        ch.label(n.channelId)
      ),
      ["ch_ops"],
    );
    const late = await t.call("POST", `/api/incidents/${open.id}/acknowledge`);
    assert.equal((late.body.data as Incident).acknowledgedBy, "test write:jobs");
  },
);

storeTest("a resolved incident cannot be acknowledged", async (store) => {
  const target = switchableProbe();
  target.set("down");
  await using t = await TestSystem.start({ store, probe: target.probe });
  await t.createJob({ ...EVERY_MINUTE, alerts: { failureThreshold: 1 } });
  await atMinute(t, 1);
  target.set("up");
  await atMinute(t, 2);
  const [done] = await incidentsOf(t);
  expectError(await t.call("POST", `/api/incidents/${done.id}/acknowledge`), 409, "CONFLICT");
});

storeTest("incidents are the owner's: another owner's id answers 404", async (store) => {
  const target = switchableProbe();
  target.set("down");
  await using t = await TestSystem.start({ store, probe: target.probe });
  const job = await t.createJob({ ...EVERY_MINUTE, alerts: { failureThreshold: 1 } });
  await atMinute(t, 1);
  const [open] = await incidentsOf(t);
  const alice = (await t.createKey(["read:jobs", "write:jobs"], "alice")).key;
  expectError(await t.call("GET", `/api/incidents/${open.id}`, { key: alice }), 404, "NOT_FOUND");
  expectError(
    await t.call("POST", `/api/incidents/${open.id}/acknowledge`, { key: alice }),
    404,
    "NOT_FOUND",
  );
  const theirs = await t.call<Incident[]>("GET", "/api/incidents", { key: alice });
  assert.deepEqual(theirs.body.data, []);
  expectError(await t.call("GET", `/api/jobs/${job.id}/state`, { key: alice }), 404, "NOT_FOUND");
  expectError(await t.call("GET", `/api/jobs/${job.id}/uptime`, { key: alice }), 404, "NOT_FOUND");
  expectError(await t.call("GET", "/api/incidents/inc_nope"), 404, "NOT_FOUND");
});

storeTest("GET /api/incidents filters by state and job and pages newest first", async (store) => {
  const target = switchableProbe();
  await using t = await TestSystem.start({ store, probe: target.probe });
  const a = await t.createJob({ ...EVERY_MINUTE, alerts: { failureThreshold: 1 } });
  const b = await t.createJob({ ...EVERY_MINUTE, name: "B", alerts: { failureThreshold: 1 } });
  // Both fail at 12:01, recover at 12:02, fail again at 12:03: a and b each have a resolved
  // incident and an open one.
  for (const [minute, answer] of [[1, "down"], [2, "up"], [3, "down"]] as const) {
    target.set(answer);
    await atMinute(t, minute);
  }
  const all = await incidentsOf(t);
  assert.equal(all.length, 4);
  assert.deepEqual(all.map((i) => i.state), ["open", "open", "resolved", "resolved"]);
  const page = await t.call<Incident[]>("GET", "/api/incidents?limit=3");
  assert.equal(page.body.data.length, 3);
  const next = await t.call<Incident[]>("GET", `/api/incidents?limit=3&cursor=${page.body.cursor}`);
  assert.deepEqual([...page.body.data, ...next.body.data].map((i) => i.id), all.map((i) => i.id));
  const ofA = await incidentsOf(t, `?jobId=${a.id}`);
  assert.deepEqual(ofA.map((i) => [i.jobId, i.state]), [[a.id, "open"], [a.id, "resolved"]]);
  const openOfB = await incidentsOf(t, `?jobId=${b.id}&state=open`);
  assert.deepEqual(openOfB.map((i) => [i.jobId, i.state]), [[b.id, "open"]]);
  expectError(await t.call("GET", "/api/incidents?state=closed"), 400, "INVALID_REQUEST", "state");
});

storeTest(
  "a maintenance window holds the incident back and it opens when the window ends",
  async (store) => {
    const target = switchableProbe();
    // 12:01:30 to 12:03:30: the fires of 12:02 and 12:03 are inside it.
    const calendar = new TestCalendar([[T0 + 1.5 * MINUTE, T0 + 3.5 * MINUTE]]);
    await using t = await TestSystem.start({ store, probe: target.probe, calendar });
    const ch = await namedChannels(t, ["ch_ops"]);
    const job = await t.createJob({
      ...EVERY_MINUTE,
      alerts: { failureThreshold: 2, channels: [{ channelId: ch.id("ch_ops") }] },
    });
    await atMinute(t, 1);
    target.set("down");
    await atMinute(t, 2);
    await atMinute(t, 3);
    const held = await stateOf(t, job.id);
    assert.equal(held.state, "maintenance");
    assert.equal(held.failures, 2);
    assert.deepEqual(await incidentsOf(t), []);
    // The runs inside the window are kept, and marked; the one before it is not.
    const runs = await t.call<Run[]>("GET", `/api/jobs/${job.id}/runs`);
    const marks = runs.body.data.map((r) => [r.scheduledAt, r.maintenance?.name ?? null]);
    assert.deepEqual(marks.sort(), [
      [iso(1), null],
      [iso(2), "test window"],
      [iso(3), "test window"],
    ]);

    // The window ends at 12:03:30 while the job is failing: the incident opens then, not at 12:04.
    await atMinute(t, 3, 30);
    const down = await stateOf(t, job.id);
    assert.equal(down.state, "down");
    assert.equal(down.since, new Date(T0 + 3.5 * MINUTE).toISOString());
    const [opened] = await incidentsOf(t);
    assert.equal(opened.startedAt, iso(2));
    assert.equal((await incident(t, opened.id)).notifications.length, 1);

    // Maintenance counts as neither up nor down: 12:00 to 12:05 less 2 min of window, of which
    // 12:03:30 to 12:05 (1.5 min) was down.
    t.clock.set(T0 + 5 * MINUTE);
    const { windows } = await uptimeOf(t, job.id);
    assert.deepEqual(windows["24h"], {
      from: iso(0),
      countedMs: 3 * MINUTE,
      downMs: 1.5 * MINUTE,
      maintenanceMs: 2 * MINUTE,
      uptime: 0.5,
    });
  },
);

storeTest(
  "a maintenance window that ends while the job passes leaves it up with no incident",
  async (store) => {
    const target = switchableProbe();
    const calendar = new TestCalendar([[T0 + 1.5 * MINUTE, T0 + 2.5 * MINUTE]]);
    await using t = await TestSystem.start({ store, probe: target.probe, calendar });
    const job = await t.createJob({ ...EVERY_MINUTE, alerts: { failureThreshold: 1 } });
    await atMinute(t, 2);
    assert.equal((await stateOf(t, job.id)).state, "maintenance");
    await atMinute(t, 2, 30);
    assert.equal((await stateOf(t, job.id)).state, "up");
    assert.deepEqual(await incidentsOf(t), []);
  },
);

storeTest(
  "GET /api/jobs/:id/uptime answers exact figures from incidents since the job existed",
  async (store) => {
    const target = switchableProbe();
    await using t = await TestSystem.start({ store, probe: target.probe });
    const job = await t.createJob({ ...EVERY_MINUTE, alerts: { failureThreshold: 1 } });
    // Down from 12:02 to 12:05 (resolved), and again from 12:09, still open at 12:10:30.
    const answers = new Map<number, Answer>([[1, "up"], [2, "down"], [5, "up"], [9, "down"]]);
    for (let minute = 1; minute <= 10; minute++) {
      const answer = answers.get(minute);
      if (answer) target.set(answer);
      await atMinute(t, minute);
    }
    t.clock.set(T0 + 10.5 * MINUTE);
    const uptime = await uptimeOf(t, job.id);
    assert.equal(uptime.at, new Date(T0 + 10.5 * MINUTE).toISOString());
    const expected = {
      from: iso(0), // the job was created at T0: no time before it counts
      countedMs: 10.5 * MINUTE,
      downMs: 3 * MINUTE + 1.5 * MINUTE,
      maintenanceMs: 0,
      uptime: 1 - 4.5 / 10.5,
    };
    assert.deepEqual(uptime.windows, {
      "24h": expected,
      "7d": expected,
      "30d": expected,
      "90d": expected,
    });

    // A day and a half later, the 24 h window has only the open incident's last 24 h.
    t.clock.set(T0 + 36 * 60 * MINUTE);
    const later = await uptimeOf(t, job.id);
    assert.equal(later.windows["24h"].countedMs, 24 * 60 * MINUTE);
    assert.equal(later.windows["24h"].downMs, 24 * 60 * MINUTE);
    assert.equal(later.windows["7d"].downMs, 36 * 60 * MINUTE - 9 * MINUTE + 3 * MINUTE);
  },
);

storeTest("alerts in a job's input are checked and merged on change", async (store) => {
  await using t = await TestSystem.start({ store });
  const ch = await namedChannels(t, ["ch_1"]);
  const real = ch.id("ch_1");
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ failureThreshold: 0 }, /alerts\.failureThreshold/],
    [{ quorum: 2 }, /alerts\.quorum is 2: the job is checked from 1 location/],
    [{ channels: [{ channelId: "a b" }] }, /alerts\.channels\.0\.channelId/],
    [{ channels: [{ channelId: real }, { channelId: real }] }, new RegExp(`lists "${real}" twice`)],
    [{ channels: [{ channelId: "ch_nobody" }] }, /names an unknown channel "ch_nobody"/],
    [{ channels: [{ channelId: "x", delayMinutes: -1 }] }, /delayMinutes/],
    [{ bogus: 1 }, /alerts has an unknown field "bogus"/],
  ];
  for (const [alerts, message] of bad) {
    const answer = await t.call("POST", "/api/jobs", { body: { ...EVERY_MINUTE, alerts } });
    const error = expectError(answer, 400, "INVALID_REQUEST", "alerts");
    assert.match(error.message, message);
  }
  const job = await t.createJob({
    ...EVERY_MINUTE,
    alerts: { successThreshold: 2, channels: [{ channelId: ch.id("ch_1"), delayMinutes: 5 }] },
  });
  assert.deepEqual(job.alerts, {
    failureThreshold: 3,
    successThreshold: 2,
    degradedLatencyMs: null,
    quorum: null,
    channels: [{ channelId: ch.id("ch_1"), delayMinutes: 5 }],
    remindEveryMinutes: null,
  });
  const changed = await t.call<typeof job>("PATCH", `/api/jobs/${job.id}`, {
    body: { alerts: { remindEveryMinutes: 30 } },
  });
  expectStatus(changed, 200);
  assert.deepEqual(changed.body.data.alerts, { ...job.alerts, remindEveryMinutes: 30 });
});

/**
 * Alerting across locations and processes: the quorum of local and worker checks, intervals
 * decided when every location reported or at their deadline, a repeated worker batch, two
 * processes on one KV file, and a process that died between writing a run and deciding.
 */
import assert from "node:assert/strict";
import { AlertEngine, DECIDE_HOLD_MS } from "../lib/alerts/engine.ts";
import { DEADLINE_MARGIN_MS } from "../lib/alerts/intervals.ts";
import { noMaintenance } from "../lib/alerts/no_maintenance.ts";
import { ManualClock } from "../lib/clock.ts";
import { nextFireTimes, parseSchedule } from "../lib/schedule/schedule.ts";
import { createKvStores } from "../lib/store/kv/mod.ts";
import { openKv } from "../lib/store/kv/open_kv.ts";
import type { JobView, Run } from "../lib/store/types.ts";
import {
  delivered,
  incident,
  incidentsOf,
  MINUTE,
  namedChannels,
  stateOf,
  switchableProbe,
  TestCalendar,
} from "./alerts_support.ts";
import { callEdge, checkResult } from "./edge_support.ts";
import { expectStatus, TestSystem, type TestSystem as TS } from "./helpers.ts";

const WORKER_KEY = "alerts-test-worker-key-0123456789";
const ENV = { PINGMON_WORKER_API_KEY: WORKER_KEY };

async function addWorkers(t: TS, ...ids: string[]): Promise<void> {
  for (const id of ids) expectStatus(await t.call("POST", "/api/workers", { body: { id } }), 201);
}

/** Posts one worker's check of `job` at `at` (epoch ms) and stores it. */
async function report(t: TS, job: JobView, workerId: string, at: number, success: boolean) {
  const result = checkResult(job.id, {
    worker_id: workerId,
    checked_at: new Date(at).toISOString(),
    success,
    status_code: success ? 200 : 503,
    error_message: success ? null : `${workerId} got 503`,
  });
  const answer = await callEdge(t, "batch-save-results", { check_results: [result] }, WORKER_KEY);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer;
}

/**
 * Where the first interval of `job` (an `@every` schedule) after now starts. Intervals, as
 * workers check them and alerting decides them, start on whole seconds; the job's own fire
 * comes `spreadMs` later (lib/schedule/interval.ts).
 */
function firstInterval(t: TS, job: JobView): number {
  const [at] = nextFireTimes(parseSchedule(job.schedule, { key: job.id }), t.clock.now(), {
    limit: 1,
  });
  return at - spreadOf(job);
}

function spreadOf(job: JobView): number {
  const schedule = parseSchedule(job.schedule, { key: job.id });
  return schedule.kind === "interval" ? schedule.spreadMs : 0;
}

/** Runs the job's local fire of the interval starting at `start` and waits for its record. */
async function fireAt(t: TS, job: JobView, start: number): Promise<void> {
  t.clock.set(start + spreadOf(job));
  await t.system.cronTick();
  await t.settle();
}

Deno.test("an interval checked from three places fails when a majority failed it, decided once all reported", async () => {
  const target = switchableProbe();
  await using t = await TestSystem.start({ probe: target.probe, env: ENV });
  await addWorkers(t, "aws-tyo1a", "gcp-tyo1a");
  const job = await t.createJob({
    name: "API",
    url: "https://example.com/",
    schedule: "@every 60s",
    workers: [{ workerId: "aws-tyo1a" }, { workerId: "gcp-tyo1a" }],
    alerts: { failureThreshold: 1 },
  });
  const f = Date.parse(job.nextRunAt!) - spreadOf(job);

  // Interval 1: local and aws fail, gcp passes: 2 of 3.
  target.set("down");
  await fireAt(t, job, f);
  assert.equal((await stateOf(t, job.id)).state, "pending"); // waiting for the workers
  t.clock.set(f + 30_000);
  await report(t, job, "aws-tyo1a", f + 10_000, false);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).decidedThrough, null);
  await report(t, job, "gcp-tyo1a", f + 20_000, true);
  await t.settle();
  const down = await stateOf(t, job.id);
  assert.equal(down.state, "down");
  assert.equal(down.decidedThrough, new Date(f).toISOString());
  const [opened] = await incidentsOf(t);
  assert.deepEqual(opened.locations, ["local", "aws-tyo1a"]);
  assert.deepEqual(opened.runIds, [`${f + spreadOf(job)}-local`, `${f + 10_000}-aws-tyo1a`]);
  assert.equal(opened.cause, "local: Expected status 2xx, got 503; aws-tyo1a: aws-tyo1a got 503");

  // Interval 2: only aws fails: 1 of 3 is no quorum, the job is up again.
  target.set("up");
  await fireAt(t, job, f + MINUTE);
  await report(t, job, "aws-tyo1a", f + MINUTE + 10_000, false);
  await report(t, job, "gcp-tyo1a", f + MINUTE + 20_000, true);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "up");
  assert.equal((await incidentsOf(t, "?state=resolved")).length, 1);

  // Interval 3: local and aws fail, gcp never reports: decided at the deadline.
  target.set("down");
  await fireAt(t, job, f + 2 * MINUTE);
  await report(t, job, "aws-tyo1a", f + 2 * MINUTE + 10_000, false);
  await t.settle();
  const deadline = f + 3 * MINUTE + job.timeoutMs + DEADLINE_MARGIN_MS;
  t.clock.set(deadline - 1);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).decidedThrough, new Date(f + MINUTE).toISOString());
  t.clock.set(deadline);
  await t.settle();
  const again = await stateOf(t, job.id);
  assert.equal(again.decidedThrough, new Date(f + 2 * MINUTE).toISOString());
  assert.equal(again.state, "down");
  assert.equal((await incidentsOf(t, "?state=open")).length, 1);
});

Deno.test("quorum 1 of three places fails an interval on one failing location", async () => {
  const target = switchableProbe();
  await using t = await TestSystem.start({ probe: target.probe, env: ENV });
  await addWorkers(t, "aws-tyo1a", "gcp-tyo1a");
  const job = await t.createJob({
    name: "API",
    url: "https://example.com/",
    schedule: "@every 60s",
    workers: [{ workerId: "aws-tyo1a" }, { workerId: "gcp-tyo1a" }],
    alerts: { failureThreshold: 1, quorum: 1, degradedLatencyMs: 500 },
  });
  const f = Date.parse(job.nextRunAt!) - spreadOf(job);
  target.set("slow");
  await fireAt(t, job, f);
  await report(t, job, "aws-tyo1a", f + 10_000, true);
  await report(t, job, "gcp-tyo1a", f + 20_000, true);
  await t.settle();
  // One of three was slow: with a quorum of 1 the interval is degraded.
  assert.equal((await stateOf(t, job.id)).state, "degraded");
  target.set("up");
  await fireAt(t, job, f + MINUTE);
  await report(t, job, "aws-tyo1a", f + MINUTE + 10_000, true);
  await report(t, job, "gcp-tyo1a", f + MINUTE + 20_000, false);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "down");
});

Deno.test("a worker batch sent twice moves the state once", async () => {
  await using t = await TestSystem.start({ env: ENV });
  await addWorkers(t, "aws-tyo1a");
  const job = await t.createJob({
    name: "API",
    url: "https://example.com/",
    schedule: "@every 60s",
    local: false,
    workers: [{ workerId: "aws-tyo1a" }],
    alerts: { failureThreshold: 2 },
  });
  const f = firstInterval(t, job);
  t.clock.set(f + 30_000);
  await report(t, job, "aws-tyo1a", f + 10_000, false);
  await t.settle();
  await report(t, job, "aws-tyo1a", f + 10_000, false);
  await t.settle();
  const once = await stateOf(t, job.id);
  assert.equal(once.failures, 1);
  assert.equal(once.decidedThrough, new Date(f).toISOString());
  assert.deepEqual(await incidentsOf(t), []);
  // The lane finds nothing left to decide once the writer's hold runs out.
  t.clock.advance(DECIDE_HOLD_MS + 1);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).failures, 1);

  t.clock.set(f + MINUTE + 30_000);
  await report(t, job, "aws-tyo1a", f + MINUTE + 10_000, false);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "down");
  assert.equal((await incidentsOf(t)).length, 1);
});

Deno.test("two processes sharing one KV file decide each interval once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  try {
    // One master key, as two processes of one deployment have: each sends what the other queued.
    const masterKey = crypto.getRandomValues(new Uint8Array(32));
    const sent: string[] = [];
    const notify = delivered(sent);
    await using a = await TestSystem.start({ env: ENV, kvPath, masterKey, notify });
    await using b = await TestSystem.start({ env: ENV, kvPath, masterKey, notify });
    await addWorkers(a, "aws-tyo1a", "gcp-tyo1a");
    const ch = await namedChannels(a, ["ch_a", "ch_b"]);
    const job = await a.createJob({
      name: "API",
      url: "https://example.com/",
      schedule: "@every 60s",
      local: false,
      workers: [{ workerId: "aws-tyo1a" }, { workerId: "gcp-tyo1a" }],
      alerts: {
        failureThreshold: 1,
        quorum: 1,
        channels: [{ channelId: ch.id("ch_a") }, { channelId: ch.id("ch_b") }],
      },
    });
    const f = firstInterval(a, job);
    // Five intervals failing and passing in turn: three incidents open, and two resolve.
    for (let i = 0; i < 5; i++) {
      const start = f + i * MINUTE;
      const now = start + 30_000;
      a.clock.set(now);
      b.clock.set(now);
      const failing = i % 2 === 0;
      // Each process takes one worker's batch, then both store and decide at once.
      await report(a, job, "aws-tyo1a", start + 10_000, !failing);
      await report(b, job, "gcp-tyo1a", start + 20_000, !failing);
      await Promise.all([a.settle(), b.settle()]);
    }
    // Past every deadline and hold: the lanes of both find nothing more to decide.
    const later = f + 10 * MINUTE;
    a.clock.set(later);
    b.clock.set(later);
    await Promise.all([a.settle(), b.settle()]);
    const all = await incidentsOf(a);
    assert.equal(all.length, 3);
    assert.deepEqual(all.map((i) => i.state), ["open", "resolved", "resolved"]);
    for (const { id } of all) {
      const detail = await incident(b, id);
      const kinds = detail.notifications.map((n) => `${ch.label(n.channelId)} ${n.kind}`).sort();
      const expected = ["ch_a incident.opened", "ch_b incident.opened"];
      if (detail.state === "resolved") {
        expected.push("ch_a incident.resolved", "ch_b incident.resolved");
      }
      assert.deepEqual(kinds, expected.sort());
    }
    // Each sent once, by whichever process took it.
    const times = (line: string) => sent.filter((s) => s === line).length;
    assert.equal(sent.length, 10);
    assert.deepEqual(
      ["ch_a incident.opened", "ch_b incident.opened", "ch_a incident.resolved"].map(times),
      [3, 3, 2],
    );
    const state = await stateOf(b, job.id);
    assert.equal(state.failures, 1);
    assert.equal(state.decidedThrough, new Date(f + 4 * MINUTE).toISOString());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a process that dies between writing a run and deciding loses nothing: the lane decides once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  try {
    await using survivor = await TestSystem.start({ kvPath });
    const ch = await namedChannels(survivor, ["ch_ops"]);
    const job = await survivor.createJob({
      name: "API",
      url: "https://example.com/",
      schedule: "* * * * *",
      alerts: { failureThreshold: 1, channels: [{ channelId: ch.id("ch_ops") }] },
    });
    const at = Date.parse(job.nextRunAt!);

    // The process that ran the fire: its run commit (with the decide item) lands, then it dies.
    const clock = new ManualClock(at + 50);
    const kv = await openKv(kvPath);
    const stores = createKvStores(kv, { clock });
    const engine = new AlertEngine({ alerts: stores.alerts, clock, calendar: noMaintenance });
    const stored = (await stores.records.getJob("default", job.id))!.job;
    const run = failedRun(stored.id, at);
    const decide = engine.requestFor(run, stored)!;
    assert.equal(
      await stores.records.recordRun({
        run,
        scheduledAt: at,
        suffix: "local",
        lease: null,
        runsStored: 0,
        counts: true,
        decide,
      }),
      true,
    );
    kv.close();

    survivor.clock.set(at + 50);
    await survivor.settle();
    assert.equal((await stateOf(survivor, job.id)).state, "pending"); // still held by the dead one
    survivor.clock.set(at + 50 + DECIDE_HOLD_MS);
    await survivor.settle();
    const state = await stateOf(survivor, job.id);
    assert.equal(state.state, "down");
    assert.equal(state.decidedThrough, new Date(at).toISOString());
    const [opened] = await incidentsOf(survivor);
    assert.deepEqual(opened.runIds, [`${at}-local`]);
    assert.equal((await incident(survivor, opened.id)).notifications.length, 1);
    survivor.clock.advance(10 * DECIDE_HOLD_MS);
    await survivor.settle();
    assert.equal((await incidentsOf(survivor)).length, 1);
    assert.equal((await stateOf(survivor, job.id)).failures, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes deciding the same interval at the same moment count it once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  try {
    await using setup = await TestSystem.start({ kvPath, env: ENV });
    await addWorkers(setup, "aws-tyo1a", "gcp-tyo1a");
    const ch = await namedChannels(setup, ["ch_ops"]);
    const created = await setup.createJob({
      name: "API",
      url: "https://example.com/",
      schedule: "@every 60s",
      local: false,
      workers: [{ workerId: "aws-tyo1a" }, { workerId: "gcp-tyo1a" }],
      alerts: { failureThreshold: 1, channels: [{ channelId: ch.id("ch_ops") }] },
    });
    const f = firstInterval(setup, created);
    // Two processes each store one location's run, both see the interval complete and both
    // decide from the same read of the state: one compare-and-set wins, the other finds the
    // interval decided.
    const clock = new ManualClock(f + 30_000);
    const processes = await Promise.all([0, 1].map(async () => {
      const kv = await openKv(kvPath);
      const stores = createKvStores(kv, { clock });
      return {
        kv,
        stores,
        engine: new AlertEngine({ alerts: stores.alerts, clock, calendar: noMaintenance }),
      };
    }));
    try {
      const [{ stores }] = processes;
      const job = (await stores.records.getJob("default", created.id))!.job;
      const runs = ["aws-tyo1a", "gcp-tyo1a"].map((where, i) => ({
        ...failedRun(job.id, f + 10_000 * (i + 1)),
        id: `${f + 10_000 * (i + 1)}-${where}`,
        where,
      }));
      const requests = runs.map((run) => processes[0].engine.requestFor(run, job)!);
      for (const [i, run] of runs.entries()) {
        await processes[i].stores.records.recordRun({
          run,
          scheduledAt: Date.parse(run.scheduledAt),
          suffix: run.where,
          lease: null,
          runsStored: i,
          counts: true,
          decide: requests[i],
        });
      }
      const known = await stores.alerts.getState("default", job.id);
      await Promise.all(
        processes.map(({ engine }, i) => engine.afterRecord(runs[i], job, requests[i], known)),
      );
    } finally {
      for (const { kv } of processes) kv.close();
    }
    const state = await stateOf(setup, created.id);
    assert.equal(state.failures, 1);
    assert.equal(state.state, "down");
    const [opened] = await incidentsOf(setup);
    assert.equal((await incidentsOf(setup)).length, 1);
    assert.equal((await incident(setup, opened.id)).notifications.length, 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a dead process's decisions for consecutive intervals are taken over in order, each counted", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/hibiki.kv`;
  try {
    await using survivor = await TestSystem.start({ kvPath, env: ENV });
    await addWorkers(survivor, "aws-tyo1a");
    // Checked by a worker alone, so the survivor runs no check of its own meanwhile.
    const job = await survivor.createJob({
      name: "API",
      url: "https://example.com/",
      schedule: "@every 10s",
      local: false,
      workers: [{ workerId: "aws-tyo1a" }],
      alerts: { failureThreshold: 3, successThreshold: 1 },
    });
    const first = firstInterval(survivor, job);
    const clock = new ManualClock(first);
    const kv = await openKv(kvPath);
    const stores = createKvStores(kv, { clock });
    const engine = new AlertEngine({ alerts: stores.alerts, clock, calendar: noMaintenance });
    const stored = (await stores.records.getJob("default", job.id))!.job;
    for (let i = 0; i < 3; i++) {
      const at = first + i * 10_000;
      clock.set(at + 50);
      const run = { ...failedRun(stored.id, at), id: `${at}-aws-tyo1a`, where: "aws-tyo1a" };
      await stores.records.recordRun({
        run,
        scheduledAt: at,
        suffix: "aws-tyo1a",
        lease: null,
        runsStored: i,
        counts: true,
        decide: engine.requestFor(run, stored)!,
      });
    }
    kv.close();
    // All three holds have run out when the survivor looks: its lane takes them together.
    survivor.clock.set(first + 20_050 + DECIDE_HOLD_MS);
    await survivor.settle();
    const state = await stateOf(survivor, job.id);
    assert.equal(state.failures, 3);
    assert.equal(state.state, "down");
    const [opened] = await incidentsOf(survivor);
    assert.equal(opened.startedAt, new Date(first).toISOString());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
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

Deno.test("a worker's result inside a maintenance window is stored, marked, and moves no state", async () => {
  const calendar = new TestCalendar();
  await using t = await TestSystem.start({ env: ENV, calendar });
  await addWorkers(t, "aws-tyo1a");
  const job = await t.createJob({
    name: "API",
    url: "https://example.com/",
    schedule: "@every 60s",
    local: false,
    workers: [{ workerId: "aws-tyo1a" }],
    alerts: { failureThreshold: 1 },
  });
  const f = firstInterval(t, job);
  calendar.windows.push([f, f + MINUTE]);
  t.clock.set(f + 30_000);
  await report(t, job, "aws-tyo1a", f + 10_000, false);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "maintenance");
  assert.deepEqual(await incidentsOf(t), []);
  const runs = await t.call<Run[]>("GET", `/api/jobs/${job.id}/runs`);
  assert.deepEqual(runs.body.data.map((r) => [r.where, r.status, r.maintenance?.id]), [
    ["aws-tyo1a", "failure", "mw_test"],
  ]);
});

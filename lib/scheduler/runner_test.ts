import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { Metrics } from "../metrics.ts";
import type { ProbeResult } from "../net/probe.ts";
import { kvKeys, runsOnly } from "../store/kv/keys.ts";
import { KvStore } from "../store/kv/kv_store.ts";
import { KvLaneStore } from "../store/kv/lanes.ts";
import type { Run } from "../store/types.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import { type FireTask, fireTask, type FireValue } from "./fires.ts";
import { Runner } from "./runner.ts";
import { putJob } from "./test_support.ts";
import { nextFireTimes, parseSchedule } from "../schedule/schedule.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function okResult(): ProbeResult {
  return {
    success: true,
    code: 200,
    durationMs: 12,
    headers: { "content-type": "text/plain" },
    body: "ok",
    bodyTruncated: false,
    error: null,
    failure: null,
    finalUrl: "http://127.0.0.1:9/",
    redirects: 0,
  };
}

function setup(kv: Deno.Kv, clock: ManualClock, retention = { count: 1000, maxAgeMs: 86_400_000 }) {
  const store = new KvStore(kv, { clock, retention });
  const metrics = new Metrics();
  let calls = 0;
  const runner = new Runner({
    store,
    lanes: new KvLaneStore(kv),
    clock,
    metrics,
    allowPrivateNetworks: true,
    catchUpDeadlineMs: 60_000,
    probe: () => {
      calls++;
      return Promise.resolve(okResult());
    },
  });
  return { store, metrics, runner, calls: () => calls };
}

async function runs(kv: Deno.Kv, userId: string, jobId: string): Promise<Run[]> {
  const out: Run[] = [];
  for await (const e of kv.list<Run>(runsOnly(userId, jobId))) out.push(e.value);
  return out;
}

/** A lease as the scheduler or dispatcher would have written it. */
async function leased(kv: Deno.Kv, key: Deno.KvKey): Promise<Deno.KvKey> {
  await kv.set(key, { trigger: "AUTO", timeoutMs: 5000 });
  return key;
}

function task(jobId: string, at: number, trigger: "AUTO" | "MANUAL" = "AUTO"): FireTask {
  return {
    at,
    userId: "default",
    jobId,
    suffix: "local",
    trigger,
    timeoutMs: 5000,
    retaken: false,
  };
}

Deno.test("running the same fire twice (after a crash) records one run and counts it once", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0 + 1000);
  const { store, runner } = setup(kv, clock);
  const job = await putJob(store, T0, { schedule: "* * * * * *" });
  const lease = kvKeys.lease(T0 + 20_000, T0 + 1000, "default", job.id, "local");
  await runner.execute(task(job.id, T0 + 1000), await leased(kv, lease), T0 + 20_000);
  // The same fire again, under a lease taken anew (as after a crash).
  await runner.execute(task(job.id, T0 + 1000), await leased(kv, lease), T0 + 20_000);
  const recorded = await runs(kv, "default", job.id);
  assert.equal(recorded.length, 1);
  assert.equal(recorded[0].id, `${T0 + 1000}-local`);
  assert.equal(recorded[0].status, "success");
  assert.equal(recorded[0].code, 200);
  assert.equal(recorded[0].lateMs, 0);
  const stored = await store.getJobForRun("default", job.id);
  assert.equal(stored?.count, 1);
  assert.equal(stored?.runsStored, 1);
  assert.equal(stored?.lastRunAt, T0 + 1000);
  kv.close();
});

Deno.test("a claimed fire that the job's new schedule lacks is dropped without a request", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0 + 1000);
  const { store, runner, calls, metrics } = setup(kv, clock);
  const job = await putJob(store, T0, { schedule: "* * * * * *" });
  await store.updateJob("default", job.id, (j) => ({
    job: { ...j, schedule: "*/10 * * * * *" },
    firstFireAt: T0 + 10_000,
  }));
  await runner.execute(task(job.id, T0 + 1000), await leased(kv, ["lease", 1]), T0 + 20_000);
  await runner.execute(task(job.id, T0 + 10_000), await leased(kv, ["lease", 2]), T0 + 20_000);
  assert.equal(calls(), 1);
  assert.equal(metrics.runs.skipped, 1);
  assert.deepEqual((await runs(kv, "default", job.id)).map((r) => r.scheduledAt), [
    new Date(T0 + 10_000).toISOString(),
  ]);
  kv.close();
});

Deno.test("a fire an earlier release claimed at an interval's start runs, as do the spread ones after it", async () => {
  const kv = await Deno.openKv(":memory:");
  const { store, runner, calls } = setup(kv, new ManualClock(T0));
  // An id whose fires come 805 ms after its intervals' start.
  const job = await putJob(store, T0, { id: "job-42", schedule: "@every 20s" });
  const schedule = parseSchedule("@every 20s", { key: job.id });
  if (schedule.kind !== "interval") throw new Error("not an interval");
  const [spread] = nextFireTimes(schedule, T0, { limit: 1 });
  const legacy = spread - schedule.spreadMs;
  assert.equal(schedule.spreadMs, 805);
  const clock = new ManualClock(legacy);
  const { runner: late } = setup(kv, clock);
  await late.execute(task(job.id, legacy), await leased(kv, ["lease", 1]), legacy + 20_000);
  clock.set(spread + 20_000);
  await late.execute(
    task(job.id, spread + 20_000),
    await leased(kv, ["lease", 2]),
    spread + 40_000,
  );
  // Between the two, on neither grid: no fire of this job.
  await runner.execute(task(job.id, legacy + 5_000), await leased(kv, ["lease", 3]), T0 + 60_000);
  assert.equal(calls(), 0);
  assert.deepEqual((await runs(kv, "default", job.id)).map((r) => [r.scheduledAt, r.status]), [
    [new Date(legacy).toISOString(), "success"],
    [new Date(spread + 20_000).toISOString(), "success"],
  ]);
  kv.close();
});

Deno.test("a fire dispatched after the catch-up deadline is recorded as missed, not run", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0 + 1000 + 61_000);
  const { store, runner, calls } = setup(kv, clock);
  const job = await putJob(store, T0, { schedule: "* * * * * *" });
  await runner.execute(
    task(job.id, T0 + 1000),
    await leased(kv, ["lease", 1]),
    clock.now() + 20_000,
  );
  assert.equal(calls(), 0);
  const [run] = await runs(kv, "default", job.id);
  assert.equal(run.status, "missed");
  assert.equal((await store.getJobForRun("default", job.id))?.count, 0);
  kv.close();
});

Deno.test("a manual run is never judged against the schedule", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0 + 1234);
  const { store, runner, calls } = setup(kv, clock);
  const job = await putJob(store, T0, { schedule: "0 0 1 1 *", enabled: false });
  await runner.execute(
    { ...task(job.id, T0 + 1234, "MANUAL"), suffix: "manual-abc" },
    await leased(kv, ["lease", 1]),
    T0 + 30_000,
  );
  assert.equal(calls(), 1);
  const [run] = await runs(kv, "default", job.id);
  assert.equal(run.trigger, "MANUAL");
  assert.equal(run.id, `${T0 + 1234}-manual-abc`);
  kv.close();
});

Deno.test("prune() keeps the newest runs within the retention count and age", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0 + 3600_000);
  const { store, runner } = setup(kv, clock, { count: 5, maxAgeMs: 3000_000 });
  const job = await putJob(store, T0, { schedule: "* * * * * *" });
  for (let i = 1; i <= 12; i++) {
    clock.set(T0 + i * 1000);
    await runner.execute(task(job.id, T0 + i * 1000), await leased(kv, ["lease", i]), T0 + 60_000);
  }
  clock.set(T0 + 20_000);
  assert.equal(await store.pruneRuns("default", job.id), 7);
  const left = await runs(kv, "default", job.id);
  assert.deepEqual(left.map((r) => Date.parse(r.scheduledAt) - T0), [
    8000,
    9000,
    10000,
    11000,
    12000,
  ]);
  assert.equal((await store.getJobForRun("default", job.id))?.runsStored, 5);
  // Age: at T0 + 3000 s + 10.5 s, the runs older than 3000 s go too.
  clock.set(T0 + 3000_000 + 10_500);
  assert.equal(await store.pruneRuns("default", job.id), 3);
  assert.equal((await runs(kv, "default", job.id)).length, 2);
  kv.close();
});

Deno.test("the dispatcher takes again a lease whose process died", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const started: FireTask[] = [];
  const lanes = new KvLaneStore(kv);
  const dispatcher = new Dispatcher<FireValue>({
    lane: "fire",
    store: lanes,
    clock,
    maxConcurrency: 10,
    leaseMs: (fire) => fire.timeoutMs + 10_000,
    execute: (item, lease) => {
      started.push(fireTask(item));
      return lanes.release(lease.ref);
    },
  });
  // A lease left behind by a crashed process, running out at T0 + 5 s.
  const value: FireValue = { trigger: "AUTO", timeoutMs: 1000 };
  await kv.set(kvKeys.lease(T0 + 5000, T0 - 1000, "default", "job-1", "local"), value);
  await lanes.add("fire", { at: T0 + 2000, id: ["default", "job-2", "local"], value });
  await dispatcher.drain();
  assert.equal(started.length, 0);
  clock.set(T0 + 2000);
  await dispatcher.drain();
  assert.deepEqual(started.map((t) => t.jobId), ["job-2"]);
  clock.set(T0 + 5000);
  await dispatcher.drain();
  assert.deepEqual(started.map((t) => t.jobId), ["job-2", "job-1"]);
  assert.equal(started[1].at, T0 - 1000);
  await dispatcher.stop();
  kv.close();
});

Deno.test("a fire's run may wait to share a commit, unless webhook deliveries wait on it", async () => {
  await using kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0 + 1000);
  const store = new KvStore(kv, { clock, retention: { count: 1000, maxAgeMs: 86_400_000 } });
  const waits: (boolean | undefined)[] = [];
  const recording = Object.create(store, {
    recordRun: {
      value: (
        c: Parameters<KvStore["recordRun"]>[0],
      ) => (waits.push(c.mayWait), store.recordRun({ ...c, outbox: undefined })),
    },
  }) as KvStore;
  const outboxes = [[], [{ delivery: { id: "dl_1" } }]];
  const runner = new Runner({
    store: recording,
    lanes: new KvLaneStore(kv),
    clock,
    metrics: new Metrics(),
    allowPrivateNetworks: true,
    catchUpDeadlineMs: 60_000,
    probe: () => Promise.resolve(okResult()),
    followUp: () => Promise.resolve({ outbox: outboxes.shift() as never, afterCommit: () => {} }),
  });
  const job = await putJob(store, T0, { schedule: "* * * * * *" });
  for (const at of [T0 + 1000, T0 + 2000]) {
    const lease = await leased(kv, kvKeys.lease(at + 20_000, at, "default", job.id, "local"));
    await runner.execute(task(job.id, at), lease, at + 20_000);
  }
  assert.deepEqual(waits, [true, false]);
});

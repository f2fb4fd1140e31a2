import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { Metrics } from "../metrics.ts";
import { kvKeys, runsOnly } from "../store/kv/keys.ts";
import { KvStore } from "../store/kv/kv_store.ts";
import { createKvStores } from "../store/kv/mod.ts";
import { openKv } from "../store/kv/open_kv.ts";
import type { ClaimStore } from "../store/claims.ts";
import type { Job, Run } from "../store/types.ts";
import { Scheduler } from "./scheduler.ts";
import { putJob } from "./test_support.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function scheduler(kv: Deno.Kv, clock: ManualClock, catchUpDeadlineMs = 300_000): Scheduler {
  const { lanes, claims } = createKvStores(kv, { clock });
  return new Scheduler({ lanes, claims, clock, metrics: new Metrics(), catchUpDeadlineMs });
}

/** Fire times claimed: each is a lease held by the claimer, in time order. */
async function pendingFires(kv: Deno.Kv): Promise<number[]> {
  const out: number[] = [];
  for await (const e of kv.list({ prefix: kvKeys.leases() })) out.push(e.key[2] as number);
  return out.sort((a, b) => a - b);
}

async function runsOf(kv: Deno.Kv, userId: string, jobId: string): Promise<Run[]> {
  const out: Run[] = [];
  for await (const e of kv.list<Run>(runsOnly(userId, jobId))) out.push(e.value);
  return out;
}

Deno.test("tick() claims each fire before the horizon once, and a repeated tick claims none", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  await putJob(new KvStore(kv), T0, { schedule: "* * * * * *" });
  const s = scheduler(kv, clock);
  const first = await s.tick();
  assert.deepEqual(first.claimed, 89); // T0+1 s … T0+89 s: everything before T0+90 s
  assert.deepEqual((await s.tick()).claimed, 0);
  const fires = await pendingFires(kv);
  assert.deepEqual(fires.length, 89);
  // Claimed, not started: each lease runs out at its fire's own time.
  for await (const e of kv.list({ prefix: kvKeys.leases() })) assert.equal(e.key[1], e.key[2]);
  assert.deepEqual(fires[0], T0 + 1000);
  assert.deepEqual(fires.at(-1), T0 + 89_000);
  clock.advance(60_000);
  assert.deepEqual((await s.tick()).claimed, 60); // T0+90 s … T0+149 s
  kv.close();
});

Deno.test("tick() reads only the due part of the index", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const store = new KvStore(kv);
  for (let i = 0; i < 50; i++) await putJob(store, T0, { schedule: "0 0 1 1 *" }); // yearly
  await putJob(store, T0, { schedule: "*/30 * * * * *" });
  const report = await scheduler(kv, clock).tick();
  assert.deepEqual(report, { jobs: 1, claimed: 2, missed: 0 });
  kv.close();
});

Deno.test("two schedulers on one KV file claim every fire exactly once", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/hibiki.kv`;
  const kvA = await openKv(path);
  const kvB = await openKv(path);
  const clock = new ManualClock(T0);
  const store = new KvStore(kvA);
  const jobs = [];
  for (let i = 0; i < 40; i++) jobs.push(await putJob(store, T0, { schedule: "*/5 * * * * *" }));
  for (let i = 0; i < 40; i++) jobs.push(await putJob(store, T0, { schedule: "@every 7s" }));
  const [a, b] = await Promise.all([scheduler(kvA, clock).tick(), scheduler(kvB, clock).tick()]);
  const fires = await pendingFires(kvA);
  // */5 before T0+70 s: T0+5 … T0+65 → 13 each; @every 7s: 9 or 10 each by phase.
  assert.deepEqual(a.claimed + b.claimed, fires.length);
  assert(fires.length >= 40 * 13 + 40 * 9);
  const perJob = new Map<string, number[]>();
  for await (const e of kvA.list({ prefix: kvKeys.leases() })) {
    const id = e.key[4] as string;
    perJob.set(id, [...(perJob.get(id) ?? []), e.key[2] as number]);
  }
  for (const times of perJob.values()) assert.deepEqual(new Set(times).size, times.length);
  kvA.close();
  kvB.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a job created between ticks gets its fires in the current minute", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const s = scheduler(kv, clock);
  await s.tick();
  clock.advance(20_500);
  const job = await putJob(new KvStore(kv), clock.now(), { schedule: "*/10 * * * * *" });
  const report = await s.scheduleJob(job.userId, job.id);
  // T0+30 s … T0+110 s are before the horizon (T0+110.5 s).
  assert.deepEqual(report.claimed, 9);
  assert.deepEqual((await pendingFires(kv))[0], T0 + 30_000);
  kv.close();
});

Deno.test("after downtime the latest missed fire runs and the others are recorded as missed", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const job = await putJob(new KvStore(kv), T0, { schedule: "* * * * *" });
  clock.set(T0 + 10 * 60_000 + 30_000); // down from T0 until T0+10:30
  const report = await scheduler(kv, clock).tick();
  assert.deepEqual(report.missed, 9); // T0+1 … T0+9 min
  const fires = await pendingFires(kv);
  assert.deepEqual(fires[0], T0 + 10 * 60_000); // the latest missed, 30 s old, runs
  assert.deepEqual(fires.slice(1), [T0 + 11 * 60_000]); // then back on schedule
  const runs = await runsOf(kv, job.userId, job.id);
  assert.deepEqual(runs.length, 9);
  assert(runs.every((r) => r.status === "missed" && r.code === 0));
  kv.close();
});

Deno.test("a missed fire older than the catch-up deadline is recorded, not run", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const job = await putJob(new KvStore(kv), T0, { schedule: "* * * * *" });
  clock.set(T0 + 10 * 60_000 + 30_000);
  const report = await scheduler(kv, clock, 10_000).tick();
  assert.deepEqual(report.missed, 10);
  assert.deepEqual(await pendingFires(kv), [T0 + 11 * 60_000]);
  assert.deepEqual((await runsOf(kv, job.userId, job.id)).length, 10);
  kv.close();
});

Deno.test("a long outage folds older missed fires into one record with missedCount", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const job = await putJob(new KvStore(kv), T0, { schedule: "* * * * * *" });
  clock.set(T0 + 3600_000 + 500); // one hour of one fire a second
  const report = await scheduler(kv, clock).tick();
  const runs = await runsOf(kv, job.userId, job.id);
  assert.deepEqual(runs.length, 101);
  const total = runs.reduce((sum, r) => sum + (r.missedCount ?? 1), 0);
  assert.deepEqual(total, report.missed);
  // Fires T0+1 s … T0+3599 s are more than a second late; T0+3599 s runs as the catch-up.
  assert.deepEqual(report.missed, 3598);
  assert.deepEqual(runs[0].missedCount, 3598 - 100);
  kv.close();
});

Deno.test("a disabled job is not in the index and claims nothing", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const store = new KvStore(kv);
  const job = await putJob(store, T0, { schedule: "* * * * * *" });
  await store.updateJob(job.userId, job.id, (j) => ({
    job: { ...j, enabled: false },
    firstFireAt: null,
  }));
  assert.deepEqual((await scheduler(kv, clock).tick()).claimed, 0);
  kv.close();
});

Deno.test("a batch that loses a race still sends every second's wake-up when its plans retry alone", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const { records: store, lanes, claims } = createKvStores(kv, { clock });
  const jobs: Job[] = [];
  for (let i = 0; i < 3; i++) jobs.push(await putJob(store, T0, { schedule: "*/30 * * * * *" }));
  // The wake-ups of claims that committed, and one real conflict: just before the first
  // shared claim, another writer touches one job's due entry, so that claim fails.
  const woken = new Set<number>();
  let raced = false;
  const racing: ClaimStore = {
    listDue: (before, limit) => claims.listDue(before, limit),
    getDue: (userId, jobId) => claims.getDue(userId, jobId),
    claim: async (batch, wakeAfterMs) => {
      if (!raced) {
        raced = true;
        for await (const due of kv.list({ prefix: kvKeys.dueBefore() })) {
          if (due.key.includes(jobs[1].id)) await kv.set(due.key, due.value);
        }
      }
      const leases = await claims.claim(batch, wakeAfterMs);
      if (leases.some((lease) => lease !== null)) {
        wakeAfterMs.forEach((ms) => woken.add(Math.floor((clock.now() + ms) / 1000)));
      }
      return leases;
    },
  };
  const s = new Scheduler({
    claims: racing,
    lanes,
    clock,
    metrics: new Metrics(),
    catchUpDeadlineMs: 300_000,
    queueWakeups: true,
  });
  await s.tick();
  assert.ok(raced);
  const fires = [...new Set(await pendingFires(kv))].map((at) => Math.floor(at / 1000));
  assert.ok(fires.length > 0);
  assert.deepEqual([...woken].sort(), fires.sort());
  kv.close();
});

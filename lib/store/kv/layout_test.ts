import assert from "node:assert/strict";
import type { JobAlertState } from "../../alerts/types.ts";
import { putJob } from "../../scheduler/test_support.ts";
import { decodeRecent } from "../recent_results.ts";
import { kvKeys } from "./keys.ts";
import { KvStore } from "./kv_store.ts";
import { packTally, unpackTally } from "./job_tally.ts";
import { KV_LAYOUT, upgradeKvLayout } from "./layout.ts";
import type { Job } from "../types.ts";

const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);

function downState(userId: string, jobId: string): JobAlertState {
  return {
    userId,
    jobId,
    state: "down",
    failures: 3,
    successes: 0,
    incidentId: "inc_1",
    decidedThrough: T0,
    since: T0 - 60_000,
    streakSince: T0 - 180_000,
    verdict: "fail",
  };
}

/** A job's latest results: one failure at T0 with 120 ms latency, packed as the ring packs it. */
function oneFailure(): Uint8Array {
  const ring = new Uint8Array(9);
  const view = new DataView(ring.buffer);
  view.setUint32(0, T0 / 1000 - 1_577_836_800);
  view.setUint32(4, 120);
  ring[8] = 1;
  return ring;
}

/**
 * Jobs as a release before layout 2 left them (`layout` 1: alert state and latest results
 * under keys of their own, counters as KvU64 keys), one before layout 3 (2: the state and
 * results in the job's range, the counters beside them) or one before layout 4 (3: the state
 * and the tally in the job's range).
 */
async function legacyStore(jobs: number, layout: 1 | 2 | 3 = 1) {
  const kv = await Deno.openKv(":memory:");
  const store = new KvStore(kv);
  const made = [];
  for (let i = 0; i < jobs; i++) {
    const job = await putJob(store, T0, { schedule: "@every 20s" });
    const { userId, id } = job;
    const op = kv.atomic()
      .set(
        layout === 1 ? ["alert_state", userId, id] : ["job", userId, id, "alert"],
        downState(userId, id),
      )
      .set(
        layout === 1 ? ["job_recent", userId, id] : ["job", userId, id, "recent"],
        layout === 3
          ? packTally({ count: 4, lastRunAt: T0 + 5, ring: oneFailure() })
          : oneFailure(),
      );
    if (layout < 3) {
      op.set(["job", userId, id, "count"], new Deno.KvU64(4n))
        .set(["job", userId, id, "last"], new Deno.KvU64(BigInt(T0 + 5)));
    }
    await op.commit();
    made.push(job);
  }
  if (layout > 1) await kv.set(kvKeys.layout(), layout);
  return { kv, store, jobs: made };
}

/** What the store reads of each job: state, count, last run, latest results. */
async function readBack(store: KvStore, jobs: Job[]) {
  return await Promise.all(jobs.map(async (job) => {
    const forRun = await store.getJobForRun(job.userId, job.id);
    const stored = await store.getJob(job.userId, job.id);
    return {
      state: forRun?.alertState?.state?.state,
      count: [forRun?.count, stored?.count],
      lastRunAt: [forRun?.lastRunAt, stored?.lastRunAt],
      runsStored: forRun?.runsStored,
      recent: decodeRecent(unpackTally(forRun?.recent?.ring).ring),
    };
  }));
}

const AS_BEFORE = {
  state: "down",
  count: [4, 4],
  lastRunAt: [T0 + 5, T0 + 5],
  runsStored: 4,
  recent: [{ at: T0, status: "failure", latencyMs: 120, maintenance: false }],
};

Deno.test("a KV file from before layout 2 keeps every job's state, counts and latest results", async () => {
  const { kv, store, jobs } = await legacyStore(60); // more than one batch of moves and folds
  assert.equal(await upgradeKvLayout(kv), 180);
  const read = await readBack(store, jobs);
  assert.deepEqual(read, jobs.map(() => AS_BEFORE));
  assert.deepEqual(
    (await kv.get<JobAlertState>(kvKeys.alertState(jobs[0].userId, jobs[0].id))).value,
    downState(jobs[0].userId, jobs[0].id),
  );
  // Nothing is left under the old keys, and the file says its layout.
  for (const prefix of [["alert_state"], ["job_recent"]]) {
    assert.equal((await Array.fromAsync(kv.list({ prefix }))).length, 0);
  }
  const parts = (await Array.fromAsync(kv.list({ prefix: ["job"] }))).map((e) => e.key[3]);
  assert.deepEqual(new Set(parts), new Set([undefined, "due"]));
  assert.equal((await kv.get(kvKeys.layout())).value, KV_LAYOUT);
  // Once: a second start reads the layout and moves nothing.
  assert.equal(await upgradeKvLayout(kv), 0);
  kv.close();
});

Deno.test("two processes upgrading one KV file together change each job once", async () => {
  const { kv, store, jobs } = await legacyStore(50);
  const [a, b] = await Promise.all([upgradeKvLayout(kv), upgradeKvLayout(kv)]);
  assert.equal(a + b, 150);
  assert.deepEqual(await readBack(store, jobs), jobs.map(() => AS_BEFORE));
  assert.equal((await Array.fromAsync(kv.list({ prefix: ["alert_state"] }))).length, 0);
  kv.close();
});

Deno.test("a KV file of layout 2 moves each job's state and results and folds its counters", async () => {
  const { kv, store, jobs } = await legacyStore(35, 2);
  assert.equal(await upgradeKvLayout(kv), 35 * 2 + 35);
  assert.deepEqual(await readBack(store, jobs), jobs.map(() => AS_BEFORE));
  assert.equal((await kv.get(kvKeys.layout())).value, KV_LAYOUT);
  kv.close();
});

Deno.test("a KV file of layout 3 moves each job's state and tally to just after its runs", async () => {
  const { kv, store, jobs } = await legacyStore(30, 3); // more than one batch of moves
  const { userId, id } = jobs[0];
  await kv.set(kvKeys.run(userId, id, T0, "local"), { id: "a run" });
  assert.equal(await upgradeKvLayout(kv), 60);
  assert.deepEqual(await readBack(store, jobs), jobs.map(() => AS_BEFORE));
  const parts = (await Array.fromAsync(kv.list({ prefix: ["job"] }))).map((e) => e.key[3]);
  assert.deepEqual(new Set(parts), new Set([undefined, "due"]));
  // The newest run, then what every run rewrites: one page of the file takes a run's writes.
  const keys = (await Array.fromAsync(kv.list({ prefix: kvKeys.runsOf(userId, id) }))).map((e) =>
    e.key
  );
  assert.deepEqual(keys, [
    kvKeys.run(userId, id, T0, "local"),
    kvKeys.alertState(userId, id),
    kvKeys.jobTally(userId, id),
  ]);
  assert.equal(await upgradeKvLayout(kv), 0);
  kv.close();
});

Deno.test("a new KV file is marked with the layout at once, with nothing to move", async () => {
  const kv = await Deno.openKv(":memory:");
  assert.equal(await upgradeKvLayout(kv), 0);
  assert.equal((await kv.get(kvKeys.layout())).value, KV_LAYOUT);
  kv.close();
});

import assert from "node:assert/strict";
import type { JobAlertState } from "../../alerts/types.ts";
import { putJob } from "../../scheduler/test_support.ts";
import { decodeRecent } from "../recent_results.ts";
import { kvKeys } from "./keys.ts";
import { KvStore } from "./kv_store.ts";
import { KV_LAYOUT, upgradeKvLayout } from "./layout.ts";

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

/** Jobs as a release before layout 2 left them: alert state and latest results under keys of their own. */
async function legacyStore(jobs: number) {
  const kv = await Deno.openKv(":memory:");
  const store = new KvStore(kv);
  const made = [];
  for (let i = 0; i < jobs; i++) {
    const job = await putJob(store, T0, { schedule: "@every 20s" });
    await kv.atomic()
      .set(["alert_state", job.userId, job.id], downState(job.userId, job.id))
      .set(["job_recent", job.userId, job.id], oneFailure())
      .commit();
    made.push(job);
  }
  return { kv, store, jobs: made };
}

Deno.test("a KV file from before layout 2 keeps every job's alert state and latest results", async () => {
  const { kv, store, jobs } = await legacyStore(60); // more than one batch of moves
  assert.equal(await upgradeKvLayout(kv), 120);
  for (const job of jobs) {
    const forRun = await store.getJobForRun(job.userId, job.id);
    assert.deepEqual(forRun?.alertState?.state, downState(job.userId, job.id));
    assert.deepEqual(decodeRecent(forRun?.recent?.ring), [
      { at: T0, status: "failure", latencyMs: 120, maintenance: false },
    ]);
  }
  // Nothing is left under the old keys, and the file says its layout.
  for (const prefix of [["alert_state"], ["job_recent"]]) {
    assert.equal((await Array.fromAsync(kv.list({ prefix }))).length, 0);
  }
  assert.equal((await kv.get(kvKeys.layout())).value, KV_LAYOUT);
  // Once: a second start reads the layout and moves nothing.
  assert.equal(await upgradeKvLayout(kv), 0);
  kv.close();
});

Deno.test("two processes upgrading one KV file together move each key once", async () => {
  const { kv, jobs } = await legacyStore(50);
  const [a, b] = await Promise.all([upgradeKvLayout(kv), upgradeKvLayout(kv)]);
  assert.equal(a + b, 100);
  const states = await Promise.all(jobs.map((j) => kv.get(kvKeys.alertState(j.userId, j.id))));
  assert.ok(states.every((s) => (s.value as JobAlertState).state === "down"));
  assert.equal((await Array.fromAsync(kv.list({ prefix: ["alert_state"] }))).length, 0);
  kv.close();
});

Deno.test("a new KV file is marked with the layout at once, with nothing to move", async () => {
  const kv = await Deno.openKv(":memory:");
  assert.equal(await upgradeKvLayout(kv), 0);
  assert.equal((await kv.get(kvKeys.layout())).value, KV_LAYOUT);
  kv.close();
});

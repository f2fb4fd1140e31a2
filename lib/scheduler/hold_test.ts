/**
 * Fires the scheduler claims ahead and a fire lane holds: taken over at their time when their
 * holder dies, left to a holder that marked them started, withdrawn when their job changes.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { parseConfig } from "../config.ts";
import { Metrics } from "../metrics.ts";
import { heldLeaseKey } from "../store/kv/claims.ts";
import { kvKeys } from "../store/kv/keys.ts";
import { KvStore } from "../store/kv/kv_store.ts";
import { createKvStores } from "../store/kv/mod.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import { type FireTask, fireTask, type FireValue } from "./fires.ts";
import { Scheduler, type SchedulerOptions } from "./scheduler.ts";
import { buildFires, fireLane, putJob } from "./test_support.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

Deno.test("changing a job's schedule withdraws the fires claimed under the old one", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const config = parseConfig({ HIBIKI_KV_PATH: ":memory:" });
  const fires = buildFires(kv, clock, config);
  const job = await fires.jobs.create("default", {
    name: "every second",
    url: "https://example.com/",
    schedule: "* * * * * *",
  });
  const leased = async () => {
    const times: number[] = [];
    for await (const e of kv.list({ prefix: kvKeys.leases() })) times.push(e.key[2] as number);
    return times.sort((a, b) => a - b);
  };
  assert.equal((await leased()).length, 89); // T0+1 s … T0+89 s
  clock.set(T0 + 10_500);
  await fires.jobs.update("default", job.id, { schedule: "*/10 * * * * *" });
  const after = await leased();
  // Old claims after the edit are gone; the new schedule starts a second after it.
  const upcoming = after.filter((at) => at > T0 + 10_500);
  assert.deepEqual(upcoming.slice(0, 3), [T0 + 20_000, T0 + 30_000, T0 + 40_000]);
  assert.ok(upcoming.every((at) => at % 10_000 === 0));
  assert.equal(new Set(after).size, after.length, "no fire time is claimed twice");
  clock.set(T0 + 11_000); // the fire started ahead for 11 s waits for its time, then finds it withdrawn
  await fires.lane.stop();
  kv.close();
});

/** A scheduler that claims fires for a holder that then dies: it holds them nowhere. */
function deadClaimer(kv: Deno.Kv, clock: ManualClock, onClaimed?: SchedulerOptions["onClaimed"]) {
  const { lanes, claims } = createKvStores(kv, { clock });
  return new Scheduler({
    lanes,
    claims,
    clock,
    metrics: new Metrics(),
    catchUpDeadlineMs: 300_000,
    onClaimed,
  });
}

Deno.test("a fire claimed ahead whose holder died is taken over at its time, not after a run's lease", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  await putJob(new KvStore(kv), T0, { schedule: "* * * * * *", timeoutMs: 60_000 });
  await deadClaimer(kv, clock).tick();
  const started: FireTask[] = [];
  const other = fireLane(kv, clock, started);
  clock.set(T0 + 1000);
  await other.drain();
  assert.deepEqual(started.map((t) => [t.at, t.retaken]), [[T0 + 1000, false]]);
  await other.stop();
  kv.close();
});

Deno.test("a held fire is marked started before its time, so another process leaves it to its holder", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  await putJob(new KvStore(kv), T0, { schedule: "* * * * * *", timeoutMs: 60_000 });
  let finish!: () => void;
  const running = new Promise<void>((resolve) => (finish = resolve));
  const startedHere: FireTask[] = [];
  const { lanes } = createKvStores(kv, { clock });
  const holder = new Dispatcher<FireValue>({
    lane: "fire",
    store: lanes,
    clock,
    maxConcurrency: 10,
    leaseMs: (fire) => fire.timeoutMs + 10_000,
    execute: async (item, lease) => {
      startedHere.push(fireTask(item));
      await running; // still in flight when the other process looks
      await lanes.release(lease.ref);
    },
  });
  await deadClaimer(kv, clock, (held) => holder.hold(held)).tick();
  clock.set(T0 + 1000);
  await holder.drain();
  while (startedHere.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  // Much later, the holder is still running its fire of T0+1 s; it never started T0+2 s.
  const startedThere: FireTask[] = [];
  const other = fireLane(kv, clock, startedThere, 100);
  clock.set(T0 + 2000);
  await other.drain();
  assert.deepEqual(startedHere.map((t) => t.at), [T0 + 1000]);
  assert.deepEqual(startedThere.map((t) => [t.at, t.retaken]), [[T0 + 2000, false]]);
  // Once the run's lease runs out, the fire is taken again.
  clock.set(T0 + 1000 + 70_000);
  await other.drain();
  assert.deepEqual(startedThere.find((t) => t.at === T0 + 1000)?.retaken, true);
  finish();
  await holder.stop();
  await other.stop();
  kv.close();
});

Deno.test("a held fire withdrawn before its time (its job changed) is not run", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const job = await putJob(new KvStore(kv), T0, { schedule: "* * * * * *", timeoutMs: 60_000 });
  const started: FireTask[] = [];
  const holder = fireLane(kv, clock, started);
  await deadClaimer(kv, clock, (held) => holder.hold(held)).tick();
  await kv.delete(heldLeaseKey(T0 + 1000, "default", job.id)); // as an edit withdraws it
  clock.set(T0 + 2000);
  await holder.drain();
  await holder.stop();
  assert.deepEqual(started.map((t) => t.at), [T0 + 2000]);
  const leases = [];
  for await (const e of kv.list({ prefix: kvKeys.leases() })) leases.push(e.key[2]);
  assert.ok(!leases.includes(T0 + 1000));
  kv.close();
});

Deno.test("a holder that comes late to a fire another process took over does not run it too", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  await putJob(new KvStore(kv), T0, { schedule: "* * * * * *", timeoutMs: 60_000 });
  const startedHere: FireTask[] = [];
  const holder = fireLane(kv, clock, startedHere);
  await deadClaimer(kv, clock, (held) => holder.hold(held)).tick();
  const startedThere: FireTask[] = [];
  const other = fireLane(kv, clock, startedThere);
  clock.set(T0 + 1000);
  await other.drain(); // the holder is late: the other process takes the fire at its time
  await holder.drain();
  await holder.stop();
  await other.stop();
  assert.deepEqual(startedThere.map((t) => t.at), [T0 + 1000]);
  assert.deepEqual(startedHere, []);
  kv.close();
});

for (
  const [change, patch] of [
    ["disabled", { enabled: false }],
    ["rescheduled", { schedule: "*/10 * * * * *" }],
  ] as const
) {
  Deno.test(`fires a dead process held that were due before the job was ${change} are recorded, later ones withdrawn`, async () => {
    const kv = await Deno.openKv(":memory:");
    const clock = new ManualClock(T0);
    // Private networks allowed: the job's URL is a closed port on 127.0.0.1.
    const config = parseConfig({ HIBIKI_KV_PATH: ":memory:", HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" });
    const fires = buildFires(kv, clock, config);
    const job = await putJob(fires.store, T0, { schedule: "* * * * * *", timeoutMs: 1000 });
    await deadClaimer(kv, clock).tick(); // claims T0+1 s … T0+89 s, then its process dies
    // Its fire of T0+6 s had been marked started when it died (a lease running to T0+17 s).
    const at6 = T0 + 6000;
    const held6 = await kv.get(heldLeaseKey(at6, "default", job.id));
    const started6 = kvKeys.lease(at6 + 11_000, at6, "default", job.id, "local");
    assert.ok(
      (await kv.atomic().check(held6).delete(held6.key).set(started6, held6.value).commit()).ok,
    );
    clock.set(T0 + 5500);
    await fires.jobs.update("default", job.id, patch);
    clock.set(T0 + 20_500); // past every lease of the dead process
    await fires.lane.drain();
    await fires.lane.stop();
    const runs = (await fires.store.listRuns("default", job.id, { limit: 100 })).values
      .filter((run) => Date.parse(run.scheduledAt) < T0 + 10_000);
    // T0+1 s … T0+5 s were due while the job fired every second: each is a record. After the
    // change, nothing of the old schedule (T0+6 s, withdrawn or not) runs or is recorded.
    assert.deepEqual(
      runs.map((run) => [Date.parse(run.scheduledAt) - T0, run.status]).sort(),
      [1000, 2000, 3000, 4000, 5000].map((ms) => [ms, "missed"]),
    );
    let leases = 0;
    for await (const e of kv.list({ prefix: kvKeys.leases() })) {
      if (e.key[4] === job.id && (e.key[2] as number) < T0 + 10_000) leases++;
    }
    assert.equal(leases, 0);
    kv.close();
  });
}

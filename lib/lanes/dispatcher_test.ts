/**
 * The durable lane on its own: items held ahead start at their time, recovery leaves them to
 * their holder, stopping hands them back, and read-aheads are paced. Held fires claimed by the
 * scheduler are tested in lib/scheduler/hold_test.ts.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { type FireTask, type FireValue } from "../scheduler/fires.ts";
import { fireLane } from "../scheduler/test_support.ts";
import { kvKeys } from "../store/kv/keys.ts";
import { KvLaneStore } from "../store/kv/lanes.ts";
import { Dispatcher, type DispatcherOptions, HELD_BATCH_MS, startSlotOf } from "./dispatcher.ts";

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);
const FIRE: FireValue = { trigger: "AUTO", timeoutMs: 1000 };

function held(at: number, jobId: string) {
  const until = at + 11_000;
  return {
    item: { at, id: ["default", jobId, "local"], value: FIRE, retaken: false },
    lease: { ref: kvKeys.lease(until, at, "default", jobId, "local"), until },
  };
}

/** Held items with their leases stored, as a claim leaves them. */
async function storedHeld(kv: Deno.Kv, ...items: [number, string][]) {
  const out = items.map(([at, jobId]) => held(at, jobId));
  for (const h of out) await kv.set(h.lease.ref as Deno.KvKey, FIRE);
  return out;
}

/** The held item's lease is gone and the item waits as pending, with its stored value. */
async function assertHandedBack(kv: Deno.Kv, h: ReturnType<typeof held>) {
  assert.equal((await kv.get(h.lease.ref as Deno.KvKey)).value, null);
  const pending = await kv.get(kvKeys.fire(h.item.at, "default", h.item.id[1], "local"));
  assert.deepEqual(pending.value, FIRE);
}

/**
 * A fire lane over `kv` reading ahead with `prepare` (1 s ahead), whose items are noted by
 * `executed` (what `prepare` returned for them, or their job id) and then released.
 */
function readingLane(
  kv: Deno.Kv,
  clock: ManualClock,
  executed: string[],
  options: Pick<DispatcherOptions<FireValue>, "prepare" | "ready" | "readyLeadMs">,
): Dispatcher<FireValue> {
  const lanes = new KvLaneStore(kv);
  return new Dispatcher<FireValue>({
    lane: "fire",
    store: lanes,
    clock,
    maxConcurrency: 100,
    leaseMs: () => 11_000,
    leadMs: 1000,
    ...options,
    execute: async (item, lease, prepared) => {
      executed.push(typeof prepared === "string" ? prepared : item.id[1] as string);
      await lanes.release(lease.ref);
    },
  });
}

Deno.test("held fires start at their time, and recovery leaves them to their holder", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const started: FireTask[] = [];
  const d = fireLane(kv, clock, started);
  const [a, b] = await storedHeld(kv, [T0 + 1000, "job-a"], [T0 + 2000, "job-b"]);
  d.hold([a, b]);
  await d.drain();
  assert.equal(started.length, 0);
  clock.set(T0 + 1000);
  await d.drain();
  assert.deepEqual(started.map((t) => t.jobId), ["job-a"]);
  // This process is very late: b's lease has run out, yet it is still its own to run.
  clock.set(b.lease.until + 5000);
  await d.drain();
  assert.deepEqual(started.map((t) => t.jobId), ["job-a", "job-b"]);
  await d.stop();
  kv.close();
});

Deno.test("stop() hands held fires back as pending, so a restart runs them on time", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const started: FireTask[] = [];
  const d = fireLane(kv, clock, started);
  const [a] = await storedHeld(kv, [T0 + 5000, "job-a"]);
  d.hold([a]);
  await d.stop();
  await assertHandedBack(kv, a);
  // A fresh dispatcher (the restart) starts it at its time.
  const again: FireTask[] = [];
  const restarted = fireLane(kv, clock, again);
  clock.set(T0 + 5000);
  await restarted.drain();
  assert.deepEqual(again.map((t) => t.at), [T0 + 5000]);
  await restarted.stop();
  kv.close();
});

Deno.test("stop() hands back the stored value, not what the holder kept beside it in memory", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const d = fireLane(kv, clock, []);
  const [a] = await storedHeld(kv, [T0 + 5000, "job-a"]);
  d.hold([{ ...a, item: { ...a.item, value: { ...FIRE, inMemoryOnly: "x" } as FireValue } }]);
  await d.stop();
  const pending = await kv.get(kvKeys.fire(T0 + 5000, "default", "job-a", "local"));
  assert.deepEqual(pending.value, FIRE);
  kv.close();
});

Deno.test("held items read ahead a few at a time, so their reads do not crowd out other work", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  let reading = 0;
  let mostAtOnce = 0;
  const gates: (() => void)[] = [];
  const executed: string[] = [];
  const d = readingLane(kv, clock, executed, {
    prepare: async (item) => {
      reading++;
      mostAtOnce = Math.max(mostAtOnce, reading);
      await new Promise<void>((resolve) => gates.push(resolve));
      reading--;
      return item.id[1];
    },
  });
  const items = await storedHeld(
    kv,
    ...Array.from({ length: 30 }, (_, i) => [T0, `job-${i}`] as [number, string]),
  );
  d.hold(items);
  // Let every read start that may, then release them one by one.
  while (executed.length < 30) {
    await new Promise((resolve) => setTimeout(resolve, 0));
    gates.shift()?.();
  }
  assert.equal(mostAtOnce, 8);
  assert.deepEqual(executed.toSorted(), items.map((h) => h.item.id[1]).toSorted());
  await d.stop();
  kv.close();
});

Deno.test("a held item whose job is in memory starts at the shorter lead, one that reads at the longer", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const preparing: string[] = [];
  const gates: (() => void)[] = [];
  const executed: string[] = [];
  const d = readingLane(kv, clock, executed, {
    readyLeadMs: 300,
    ready: (item) => item.id[1] === "in-memory",
    prepare: (item) => {
      preparing.push(item.id[1] as string);
      return new Promise<void>((resolve) => gates.push(resolve));
    },
  });
  const at = T0 + 2000;
  const items = await storedHeld(kv, [at, "in-memory"], [at, "read"]);
  clock.set(at - 1000 - HELD_BATCH_MS);
  d.hold(items);
  assert.deepEqual(preparing, ["read"]);
  clock.set(at - 301 - HELD_BATCH_MS);
  await d.drain();
  assert.deepEqual(preparing, ["read"]);
  clock.set(at - 300 - HELD_BATCH_MS);
  await d.drain();
  assert.deepEqual(preparing, ["read", "in-memory"]);
  // At their time both run.
  clock.set(at);
  gates.forEach((open) => open());
  while (executed.length < 2) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(executed.toSorted(), ["in-memory", "read"]);
  await d.stop();
  kv.close();
});

Deno.test("held items whose leads begin within 50 ms of each other start on one wake", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const preparing: string[] = [];
  const d = readingLane(kv, clock, [], {
    readyLeadMs: 300,
    ready: () => true,
    prepare: (item) => {
      preparing.push(item.id[1] as string);
      return Promise.resolve(null);
    },
  });
  const at = T0 + 2000;
  const items = await storedHeld(
    kv,
    [at, "first"],
    [at + 40, "last-in-batch"],
    [at + 60, "next-batch"],
  );
  clock.set(at - 1000);
  d.hold(items);
  clock.set(at - 300);
  await d.drain();
  assert.deepEqual(preparing, ["first", "last-in-batch"]);
  clock.set(at + 10 - 300);
  await d.drain();
  assert.deepEqual(preparing, ["first", "last-in-batch", "next-batch"]);
  clock.set(at + 60);
  await d.stop();
  kv.close();
});

Deno.test("a held item started ahead executes when the injected clock reaches its time, not the real one", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const executed: string[] = [];
  const d = readingLane(kv, clock, executed, { prepare: () => Promise.resolve(null) });
  const [a] = await storedHeld(kv, [T0 + 270, "job-a"]);
  d.hold([a]);
  await d.drain();
  assert.equal(d.active, 1);
  // Started ahead, it waits for its time: far longer than 270 ms of real time changes nothing.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(executed, []);
  assert.equal(d.busy, 0);
  clock.set(T0 + 270);
  while (executed.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  assert.deepEqual(executed, ["job-a"]);
  await d.stop();
  kv.close();
});

Deno.test("stop() hands back held items waiting for their shorter lead too", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const executed: string[] = [];
  const d = readingLane(kv, clock, executed, {
    readyLeadMs: 300,
    ready: () => true,
    prepare: () => Promise.resolve(null),
  });
  const [a] = await storedHeld(kv, [T0 + 900, "job-a"]);
  d.hold([a]);
  await d.stop();
  await assertHandedBack(kv, a);
  assert.deepEqual(executed, []);
  kv.close();
});

Deno.test("countDue() counts the items waiting that are due now, up to its limit", async () => {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const d = fireLane(kv, clock, []);
  for (const [at, jobId] of [[T0 - 2000, "a"], [T0 - 1000, "b"], [T0, "c"], [T0 + 1, "d"]]) {
    await kv.set(kvKeys.fire(at as number, "default", jobId as string, "local"), FIRE);
  }
  assert.equal(await d.countDue(100), 3);
  assert.equal(await d.countDue(2), 2);
  clock.set(T0 + 1);
  assert.equal(await d.countDue(100), 4);
  kv.close();
});

Deno.test("held items due in one 100 ms slot are marked started together, at least 100 ms ahead", () => {
  const slots = [T0 + 200, T0 + 201, T0 + 250, T0 + 299].map(startSlotOf);
  assert.deepEqual(slots, [T0 + 100, T0 + 100, T0 + 100, T0 + 100]);
  assert.equal(startSlotOf(T0 + 300), T0 + 200);
  for (let at = T0; at < T0 + 1000; at += 7) {
    const slot = startSlotOf(at);
    assert.ok(at - slot >= 100 && at - slot < 200, `${at - T0}: ${slot - T0}`);
  }
});

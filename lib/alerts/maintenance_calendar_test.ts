import assert from "node:assert/strict";
import { ManualClock } from "../clock.ts";
import { KvMaintenanceStore } from "../store/kv/maintenance.ts";
import { createMaintenance, type Maintenance } from "./maintenance.ts";

const T0 = Date.parse("2026-03-02T12:00:00Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

/** The service and calendar over a real in-memory KV; `jobs` are the owner's. */
async function setUp(jobs = ["a", "b", "c"]) {
  const kv = await Deno.openKv(":memory:");
  const clock = new ManualClock(T0);
  const store = new KvMaintenanceStore(kv);
  const make = (): Maintenance =>
    createMaintenance({
      store,
      clock,
      jobExists: (userId, jobId) => Promise.resolve(userId === "u" && jobs.includes(jobId)),
    });
  const { service, calendar } = make();
  return {
    kv,
    clock,
    service,
    calendar,
    /** Another process over the same store. */
    other: make(),
    [Symbol.dispose]: () => kv.close(),
  };
}

Deno.test("coveringAt() answers for the jobs a window names, in its span only", async () => {
  using t = await setUp();
  const w = await t.service.create("u", {
    name: "db upgrade",
    jobIds: ["a", "b"],
    start: iso(T0 + HOUR),
    end: iso(T0 + 2 * HOUR),
  });
  assert.equal(await t.calendar.coveringAt("u", "a", T0), null);
  assert.equal((await t.calendar.coveringAt("u", "a", T0 + HOUR))?.id, w.id);
  assert.equal((await t.calendar.coveringAt("u", "b", T0 + 90 * MINUTE))?.id, w.id);
  assert.equal(await t.calendar.coveringAt("u", "c", T0 + 90 * MINUTE), null);
  assert.equal(await t.calendar.coveringAt("someone", "a", T0 + 90 * MINUTE), null);
  assert.equal(await t.calendar.coveringAt("u", "a", T0 + 2 * HOUR), null);
});

Deno.test("a window with all: true covers a job created after it", async () => {
  using t = await setUp();
  const w = await t.service.create("u", {
    name: "everything",
    all: true,
    schedule: "0 3 * * *",
    durationMinutes: 30,
    timezone: "Asia/Tokyo",
  });
  // 03:00 in Tokyo is 18:00Z the day before; "new-job" did not exist when the window was made.
  const fire = Date.parse("2026-03-02T18:00:00Z");
  assert.equal((await t.calendar.coveringAt("u", "new-job", fire + 10 * MINUTE))?.id, w.id);
  assert.equal(await t.calendar.coveringAt("u", "new-job", fire + 30 * MINUTE), null);
});

Deno.test("a change made here applies at once; one made by another process within the TTL", async () => {
  using t = await setUp();
  const w = await t.service.create("u", {
    name: "m",
    jobIds: ["a"],
    start: iso(T0 - HOUR),
    end: iso(T0 + HOUR),
  });
  assert.equal((await t.calendar.coveringAt("u", "a", T0))?.id, w.id);
  assert.equal((await t.other.calendar.coveringAt("u", "a", T0))?.id, w.id);

  await t.service.update("u", w.id, { jobIds: ["b"] });
  assert.equal(await t.calendar.coveringAt("u", "a", T0), null);
  assert.equal((await t.calendar.coveringAt("u", "b", T0))?.id, w.id);
  // The other process answers from what it read until its copy is 10 s old.
  t.clock.advance(9_999);
  assert.equal((await t.other.calendar.coveringAt("u", "a", T0))?.id, w.id);
  t.clock.advance(1);
  assert.equal(await t.other.calendar.coveringAt("u", "a", T0), null);
  assert.equal((await t.other.calendar.coveringAt("u", "b", T0))?.id, w.id);

  await t.service.delete("u", w.id);
  assert.equal(await t.calendar.coveringAt("u", "b", T0), null);
});

Deno.test("ending a window early uncovers its jobs at once, for good when recurring", async () => {
  using t = await setUp();
  const w = await t.service.create("u", {
    name: "nightly",
    jobIds: ["a"],
    schedule: "0 * * * *",
    durationMinutes: 30,
  });
  assert.equal((await t.calendar.coveringAt("u", "a", T0 + 5 * MINUTE))?.id, w.id);
  t.clock.advance(10 * MINUTE);
  const ended = await t.service.end("u", w.id);
  assert.equal(ended.status, "ended");
  assert.equal(ended.endedAt, iso(T0 + 10 * MINUTE));
  assert.equal(await t.calendar.coveringAt("u", "a", T0 + 10 * MINUTE), null);
  assert.equal(await t.calendar.coveringAt("u", "a", T0 + HOUR + 5 * MINUTE), null);
  // Before it was ended, it covered.
  assert.equal((await t.calendar.coveringAt("u", "a", T0 + 5 * MINUTE))?.id, w.id);
  // Ending it again changes nothing.
  t.clock.advance(MINUTE);
  assert.equal((await t.service.end("u", w.id)).endedAt, iso(T0 + 10 * MINUTE));
});

Deno.test("spans() merges the windows that cover a job", async () => {
  using t = await setUp();
  await t.service.create("u", {
    name: "one-off",
    jobIds: ["a"],
    start: iso(T0 + 20 * MINUTE),
    end: iso(T0 + 70 * MINUTE),
  });
  await t.service.create("u", {
    name: "hourly",
    all: true,
    schedule: "0 * * * *",
    durationMinutes: 30,
  });
  await t.service.create("u", {
    name: "b only",
    jobIds: ["b"],
    schedule: "45 * * * *",
    durationMinutes: 5,
  });
  const spans = await t.calendar.spans("u", "a", T0, T0 + 3 * HOUR);
  assert.deepEqual(spans.map(([s, e]) => [(s - T0) / MINUTE, (e - T0) / MINUTE]), [
    [0, 90],
    [120, 150],
  ]);
  assert.deepEqual(await t.calendar.spans("someone", "a", T0, T0 + 3 * HOUR), []);
});

Deno.test("endsBetween() names spans that ran out, windows ended early and coverage taken away", async () => {
  using t = await setUp();
  const ran = await t.service.create("u", {
    name: "ran out",
    jobIds: ["a"],
    start: iso(T0),
    end: iso(T0 + 30 * MINUTE),
  });
  const hourly = await t.service.create("u", {
    name: "hourly",
    all: true,
    schedule: "50 * * * *",
    durationMinutes: 5,
  });
  const shrunk = await t.service.create("u", {
    name: "shrunk",
    jobIds: ["b", "c"],
    start: iso(T0),
    end: iso(T0 + 2 * HOUR),
  });
  const deleted = await t.service.create("u", {
    name: "deleted",
    jobIds: ["c"],
    start: iso(T0),
    end: iso(T0 + 2 * HOUR),
  });
  const stopped = await t.service.create("u", {
    name: "stopped",
    jobIds: ["b"],
    start: iso(T0),
    end: iso(T0 + 2 * HOUR),
  });
  t.clock.advance(40 * MINUTE);
  await t.service.update("u", shrunk.id, { jobIds: ["b"] });
  await t.service.delete("u", deleted.id);
  await t.service.end("u", stopped.id);

  const ends = await t.calendar.endsBetween(T0, T0 + HOUR);
  const order = (x: unknown[], y: unknown[]) =>
    (x[0] as number) - (y[0] as number) || String(x[1]).localeCompare(String(y[1]));
  assert.deepEqual(
    ends.map((e) => [(e.at - T0) / MINUTE, e.windowId, e.all, e.jobIds]).sort(order),
    [
      [30, ran.id, false, ["a"]],
      [40, shrunk.id, false, ["c"]],
      [40, deleted.id, false, ["c"]],
      [40, stopped.id, false, ["b"]],
      [55, hourly.id, true, []],
    ].sort(order),
  );
  assert.deepEqual(ends.map((e) => e.at), ends.map((e) => e.at).sort((a, b) => a - b));
  // Consecutive ranges split the ends between them, none twice.
  const first = await t.calendar.endsBetween(T0, T0 + 40 * MINUTE);
  const second = await t.calendar.endsBetween(T0 + 40 * MINUTE, T0 + HOUR);
  assert.equal(first.length + second.length, ends.length);
  assert.deepEqual(first.map((e) => e.windowId), [ran.id]);
  assert.ok(ends.every((e) => e.userId === "u"));
});

Deno.test("coveringAt() reads an owner's windows once per TTL however often it is asked", async () => {
  using kv = await Deno.openKv(":memory:");
  let reads = 0;
  const store = new (class extends KvMaintenanceStore {
    override list(...args: Parameters<KvMaintenanceStore["list"]>) {
      reads++;
      return super.list(...args);
    }
  })(kv);
  const clock = new ManualClock(T0);
  const { service, calendar } = createMaintenance({
    store,
    clock,
    jobExists: () => Promise.resolve(true),
  });
  await service.create("u", { name: "w", all: true, schedule: "*/10 * * * *", durationMinutes: 5 });
  reads = 0;
  // 10,000 jobs' interval decisions, asked all at once.
  const answers = await Promise.all(
    Array.from({ length: 10_000 }, (_, i) => calendar.coveringAt("u", `job-${i}`, T0 + i)),
  );
  assert.equal(reads, 1);
  assert.ok(answers.every((w) => w?.name === "w"));
  clock.advance(10_000);
  await calendar.coveringAt("u", "job-0", clock.now());
  assert.equal(reads, 2);
});

/**
 * `/api/maintenance` in-process: shapes, validation answers, owners, ending early, and what
 * the calendar alerting asks makes of the windows made through the API.
 */
import assert from "node:assert/strict";
import type { MaintenanceView } from "../lib/alerts/maintenance.ts";
import { WindowCalendar } from "../lib/alerts/maintenance_calendar.ts";
import { createKvStores } from "../lib/store/kv/mod.ts";
import { expectError, expectStatus, T0, TestSystem } from "./helpers.ts";

/**
 * The calendar as another process over the same store sees it, read afresh for each question
 * (a calendar keeps an owner's windows for 10 s; the system's own one is invalidated on change).
 */
function calendarOf(t: TestSystem): Pick<WindowCalendar, "coveringAt" | "spans"> {
  const fresh = () =>
    new WindowCalendar({
      store: createKvStores(t.kv, { clock: t.clock }).maintenance,
      clock: t.clock,
    });
  return {
    coveringAt: (...args) => fresh().coveringAt(...args),
    spans: (...args) => fresh().spans(...args),
  };
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const iso = (ms: number) => new Date(ms).toISOString();

async function create(t: TestSystem, body: Record<string, unknown>, key?: string) {
  const answer = await t.call<MaintenanceView>("POST", "/api/maintenance", { body, key });
  expectStatus(answer, 201);
  return answer.body.data;
}

Deno.test("a one-off window is created, read, listed, changed and deleted", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const window = await create(t, {
    name: "DB upgrade",
    jobIds: [job.id],
    start: "2026-03-02T22:00:00+09:00",
    end: "2026-03-02T23:30:00+09:00",
  });
  assert.match(window.id, /^mw_[0-9a-f]{32}$/);
  assert.deepEqual(window, {
    id: window.id,
    userId: "default",
    name: "DB upgrade",
    jobIds: [job.id],
    all: false,
    start: "2026-03-02T13:00:00.000Z",
    end: "2026-03-02T14:30:00.000Z",
    schedule: null,
    durationMinutes: null,
    timezone: null,
    endedAt: null,
    createdAt: iso(T0),
    updatedAt: iso(T0),
    status: "scheduled",
    occurrence: { start: "2026-03-02T13:00:00.000Z", end: "2026-03-02T14:30:00.000Z" },
  });
  const read = await t.call<MaintenanceView>("GET", `/api/maintenance/${window.id}`);
  assert.deepEqual(read.body.data, window);

  await create(t, { name: "second", all: true, schedule: "0 3 * * SUN", durationMinutes: 60 });
  const first = await t.call<MaintenanceView[]>("GET", "/api/maintenance?limit=1");
  expectStatus(first, 200);
  assert.equal(first.body.data.length, 1);
  const rest = await t.call<MaintenanceView[]>(
    "GET",
    `/api/maintenance?limit=1&cursor=${first.body.cursor}`,
  );
  assert.equal(rest.body.data.length, 1);
  assert.notEqual(rest.body.data[0].id, first.body.data[0].id);

  t.clock.advance(HOUR + 10 * MINUTE);
  const changed = await t.call<MaintenanceView>("PATCH", `/api/maintenance/${window.id}`, {
    body: { name: "DB upgrade, part 2", end: "2026-03-02T15:00:00Z" },
  });
  expectStatus(changed, 200);
  assert.equal(changed.body.data.name, "DB upgrade, part 2");
  assert.equal(changed.body.data.status, "active");
  assert.equal(changed.body.data.end, "2026-03-02T15:00:00.000Z");

  expectStatus(await t.call("DELETE", `/api/maintenance/${window.id}`), 200);
  expectError(await t.call("GET", `/api/maintenance/${window.id}`), 404, "NOT_FOUND");
});

Deno.test("a recurring window shows its current or next occurrence in its zone", async () => {
  await using t = await TestSystem.start();
  const window = await create(t, {
    name: "Nightly backup",
    all: true,
    schedule: "30 2 * * *",
    durationMinutes: 45,
    timezone: "America/New_York",
  });
  assert.equal(window.status, "scheduled");
  assert.equal(window.timezone, "America/New_York");
  // 02:30 EST is 07:30Z.
  assert.deepEqual(window.occurrence, {
    start: "2026-03-03T07:30:00.000Z",
    end: "2026-03-03T08:15:00.000Z",
  });
  // On 8 March 02:30 does not exist in New York: the occurrence starts at 03:00 EDT.
  t.clock.set(Date.parse("2026-03-08T07:10:00Z"));
  const read = await t.call<MaintenanceView>("GET", `/api/maintenance/${window.id}`);
  assert.equal(read.body.data.status, "active");
  assert.deepEqual(read.body.data.occurrence, {
    start: "2026-03-08T07:00:00.000Z",
    end: "2026-03-08T07:45:00.000Z",
  });
});

Deno.test("bad windows are refused with 400 naming the field", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const oneOff = { name: "w", jobIds: [job.id], start: iso(T0), end: iso(T0 + HOUR) };
  const recurring = { name: "w", jobIds: [job.id], schedule: "0 3 * * *", durationMinutes: 30 };
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ ...oneOff, end: iso(T0 - MINUTE) }, "end", /^end must be after start$/],
    [{ ...oneOff, start: iso(T0 - 2 * HOUR), end: iso(T0 - HOUR) }, "end", /in the future/],
    [{ ...oneOff, end: iso(T0 + 32 * 24 * HOUR) }, "end", /at most 31 days/],
    [{ ...oneOff, start: "tomorrow" }, "start", /^start must be an ISO 8601 date/],
    [{ ...oneOff, start: "2026-03-02T12:00:00" }, "start", /with a zone/],
    [{ ...oneOff, start: undefined }, "start", /^start is required: or give schedule/],
    [{ ...oneOff, timezone: "UTC" }, "timezone", /^timezone is for recurring windows/],
    [{ ...recurring, durationMinutes: 0 }, "durationMinutes", /from 1 to 10080/],
    [{ ...recurring, durationMinutes: 10081 }, "durationMinutes", /from 1 to 10080/],
    [{ ...recurring, durationMinutes: 1.5 }, "durationMinutes", /whole number/],
    [{ ...recurring, durationMinutes: undefined }, "durationMinutes", /is required/],
    [{ ...recurring, timezone: "Mars/Olympus" }, "timezone", /Unknown time zone "Mars\/Olympus"/],
    [{ ...recurring, schedule: "0 3 * * * * *" }, "schedule", /has 7 fields/],
    [{ ...recurring, schedule: "61 3 * * *" }, "schedule", /61 is outside 0-59/],
    [{ ...oneOff, jobIds: "abc" }, "jobIds", /^jobIds must be a list of job ids$/],
    [{ ...recurring, schedule: "@every 1h" }, "schedule", /cron expression/],
    [{ ...recurring, schedule: "*/10 * * * * *" }, "schedule", /at most once a minute/],
    [{ ...recurring, start: iso(T0) }, "start", /^start is for one-off windows/],
    [{ ...oneOff, all: true }, "jobIds", /cannot be given with all: true/],
    [{ ...oneOff, jobIds: undefined }, "jobIds", /^jobIds is required: or give all: true/],
    [{ ...oneOff, jobIds: [] }, "jobIds", /at least one job/],
    [{ ...oneOff, jobIds: undefined, all: false }, "jobIds", /is required/],
    [{ ...oneOff, name: " " }, "name", /must not be empty/],
    [{ ...oneOff, name: undefined }, "name", /^name is required$/],
    [{ ...oneOff, every: "day" }, "every", /^Unknown field "every"$/],
  ];
  for (const [body, field, message] of cases) {
    const answer = await t.call("POST", "/api/maintenance", { body });
    const error = expectError(answer, 400, "INVALID_REQUEST", field);
    assert.match(error.message, message, JSON.stringify(body));
  }
  const w = await create(t, oneOff);
  const patch = await t.call("PATCH", `/api/maintenance/${w.id}`, {
    body: { schedule: "0 3 * * *" },
  });
  assert.match(
    expectError(patch, 400, "INVALID_REQUEST", "schedule").message,
    /^schedule is for recurring windows: this window is a one-off$/,
  );
  const backwards = await t.call("PATCH", `/api/maintenance/${w.id}`, {
    body: { end: iso(T0 - HOUR) },
  });
  expectError(backwards, 400, "INVALID_REQUEST", "end");
});

Deno.test("a window names only its owner's jobs, and another owner's window answers 404", async () => {
  await using t = await TestSystem.start();
  const alice = (await t.createKey(["read:jobs", "write:jobs"], "alice")).key;
  const bob = (await t.createKey(["read:jobs", "write:jobs"], "bob")).key;
  const bobsJob = await t.createJob({}, bob);
  const alicesJob = await t.createJob({}, alice);
  const body = { name: "w", start: iso(T0), end: iso(T0 + HOUR) };
  const foreign = await t.call("POST", "/api/maintenance", {
    key: alice,
    body: { ...body, jobIds: [alicesJob.id, bobsJob.id] },
  });
  assert.equal(
    expectError(foreign, 404, "NOT_FOUND").message,
    `Job "${bobsJob.id}" not found`,
  );
  const unknown = await t.call("POST", "/api/maintenance", {
    key: alice,
    body: { ...body, jobIds: ["no-such-job"] },
  });
  assert.equal(expectError(unknown, 404, "NOT_FOUND").message, 'Job "no-such-job" not found');

  const window = await create(t, { ...body, jobIds: [alicesJob.id] }, alice);
  for (
    const [method, path] of [
      ["GET", `/api/maintenance/${window.id}`],
      ["PATCH", `/api/maintenance/${window.id}`],
      ["DELETE", `/api/maintenance/${window.id}`],
      ["POST", `/api/maintenance/${window.id}/end`],
    ]
  ) {
    const body = method === "PATCH" ? { name: "mine" } : undefined;
    const answer = await t.call(method, path, { key: bob, body });
    assert.equal(
      expectError(answer, 404, "NOT_FOUND").message,
      `Maintenance window "${window.id}" not found`,
    );
  }
  const listed = await t.call<MaintenanceView[]>("GET", "/api/maintenance", { key: bob });
  assert.deepEqual(listed.body.data, []);
  const patched = await t.call<MaintenanceView>("PATCH", `/api/maintenance/${window.id}`, {
    key: alice,
    body: { jobIds: [bobsJob.id] },
  });
  expectError(patched, 404, "NOT_FOUND");
});

Deno.test("POST /api/maintenance/:id/end stops a one-off now and a recurring one for good", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  const calendar = calendarOf(t);
  const oneOff = await create(t, {
    name: "deploy",
    jobIds: [job.id],
    start: iso(T0),
    end: iso(T0 + 2 * HOUR),
  });
  const hourly = await create(t, {
    name: "hourly",
    jobIds: [job.id],
    schedule: "0 * * * *",
    durationMinutes: 20,
  });
  t.clock.advance(10 * MINUTE);
  assert.equal(oneOff.status, "active");
  const ended = await t.call<MaintenanceView>("POST", `/api/maintenance/${oneOff.id}/end`);
  expectStatus(ended, 200);
  assert.equal(ended.body.data.status, "ended");
  assert.equal(ended.body.data.endedAt, iso(T0 + 10 * MINUTE));
  // The job stays covered by the other window.
  assert.equal((await calendar.coveringAt("default", job.id, t.clock.now()))?.id, hourly.id);

  const stopped = await t.call<MaintenanceView>("POST", `/api/maintenance/${hourly.id}/end`);
  assert.equal(stopped.body.data.status, "ended");
  assert.equal(stopped.body.data.occurrence, null);
  assert.equal(await calendar.coveringAt("default", job.id, t.clock.now()), null);
  assert.equal(await calendar.coveringAt("default", job.id, T0 + 5 * HOUR + MINUTE), null);

  // A new plan sets a stopped window going again.
  const again = await t.call<MaintenanceView>("PATCH", `/api/maintenance/${hourly.id}`, {
    body: { durationMinutes: 15 },
  });
  assert.equal(again.body.data.endedAt, null);
  assert.equal(again.body.data.status, "active"); // 12:00 to 12:15 covers 12:10
  assert.equal(
    (await calendar.coveringAt("default", job.id, T0 + 5 * HOUR + MINUTE))?.id,
    hourly.id,
  );
});

Deno.test("a window with all: true covers a job created after it", async () => {
  await using t = await TestSystem.start();
  const window = await create(t, { name: "all", all: true, start: iso(T0), end: iso(T0 + HOUR) });
  const later = await t.createJob();
  const calendar = calendarOf(t);
  assert.equal((await calendar.coveringAt("default", later.id, T0 + MINUTE))?.id, window.id);
  const spans = await calendar.spans("default", later.id, T0 - HOUR, T0 + 2 * HOUR);
  assert.deepEqual(spans, [[T0, T0 + HOUR]]);
});

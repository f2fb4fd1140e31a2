/** `/api/jobs` end to end, in-process: creation, validation, paging, changes, runs, previews. */
import assert from "node:assert/strict";
import type { JobView, Run } from "../lib/store/types.ts";
import { buildStore } from "./build.ts";
import { expectError, expectStatus, kvOnlyTest, storeTest, T0, TestSystem } from "./helpers.ts";
import { kvKeys } from "../lib/store/kv/keys.ts";
import { packTally } from "../lib/store/kv/job_tally.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const VALID = { name: "Ping", url: "https://example.com/", schedule: "0 9 * * *" };

// ---------------------------------------------------------------------------------------------
// Creating

storeTest(
  "POST /api/jobs answers 201 with the job, its defaults and its next fire time",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const answer = await t.call<JobView>("POST", "/api/jobs", { body: VALID });
    expectStatus(answer, 201);
    assert.equal(answer.body.success, true);
    const job = answer.body.data;
    assert.match(job.id, UUID);
    const stamp = new Date(T0).toISOString();
    assert.deepEqual(job, {
      id: job.id,
      userId: "default",
      type: "http",
      name: "Ping",
      url: "https://example.com/",
      method: "GET",
      headers: null,
      body: null,
      schedule: "0 9 * * *",
      timezone: "UTC",
      enabled: true,
      timeoutMs: 30000,
      expect: null,
      local: true,
      workers: [],
      // A daily job: one failure is an incident, one success ends it.
      alerts: {
        failureThreshold: 1,
        successThreshold: 1,
        degradedLatencyMs: null,
        quorum: null,
        channels: [],
        remindEveryMinutes: null,
      },
      createdAt: stamp,
      updatedAt: stamp,
      count: 0,
      lastRunAt: null,
      // T0 is 12:00Z, so 09:00Z today has passed: the next fire is tomorrow's.
      nextRunAt: "2026-03-03T09:00:00.000Z",
    });

    const read = await t.call<JobView>("GET", `/api/jobs/${job.id}`);
    expectStatus(read, 200);
    assert.deepEqual(read.body.data, job);
  },
);

storeTest("POST /api/jobs keeps every optional field it is given", async (store) => {
  await using t = await TestSystem.start({ store });
  const job = await t.createJob({
    method: "POST",
    headers: { "X-Token": "abc" },
    body: '{"ping":true}',
    schedule: "*/15 * * * *",
    timezone: "Europe/Paris",
    enabled: false,
    timeoutMs: 5000,
    expect: { status: 204 },
  });
  assert.equal(job.method, "POST");
  assert.deepEqual(job.headers, { "X-Token": "abc" });
  assert.equal(job.body, '{"ping":true}');
  assert.equal(job.timezone, "Europe/Paris");
  assert.equal(job.enabled, false);
  assert.equal(job.nextRunAt, null);
  assert.equal(job.timeoutMs, 5000);
  assert.deepEqual(job.expect, { status: 204 });
});

interface InvalidCase {
  what: string;
  body: Record<string, unknown>;
  field: string;
  /** A fragment the message must contain, so it tells a person what is wrong. */
  mentions: string;
}

const withoutName = { url: VALID.url, schedule: VALID.schedule };
const INVALID: InvalidCase[] = [
  { what: "a missing name", body: withoutName, field: "name", mentions: "required" },
  { what: "an empty name", body: { ...VALID, name: "" }, field: "name", mentions: "empty" },
  { what: "a blank name", body: { ...VALID, name: "   " }, field: "name", mentions: "empty" },
  {
    what: "a url that is not a URL",
    body: { ...VALID, url: "not a url" },
    field: "url",
    mentions: "not a valid URL",
  },
  {
    what: "an ftp: url",
    body: { ...VALID, url: "ftp://example.com/" },
    field: "url",
    mentions: "http",
  },
  {
    what: "a url longer than 2048 characters",
    body: { ...VALID, url: `https://example.com/${"a".repeat(2048)}` },
    field: "url",
    mentions: "2048",
  },
  {
    what: "a url with credentials",
    body: { ...VALID, url: "https://user:secret@example.com/" },
    field: "url",
    mentions: "credentials",
  },
  {
    what: "a loopback url",
    body: { ...VALID, url: "http://127.0.0.1/" },
    field: "url",
    mentions: "refused",
  },
  {
    what: "the cloud metadata url",
    body: { ...VALID, url: "http://169.254.169.254/" },
    field: "url",
    mentions: "refused",
  },
  {
    what: "a localhost url",
    body: { ...VALID, url: "http://localhost/" },
    field: "url",
    mentions: "refused",
  },
  {
    what: "a url with a line break (CR LF)",
    body: { ...VALID, url: "https://example.com/a\r\nX-Injected: 1" },
    field: "url",
    mentions: "control character",
  },
  {
    what: "a url with a tab",
    body: { ...VALID, url: "https://example.com/\ta" },
    field: "url",
    mentions: "U+0009",
  },
  {
    what: "a url with a NUL",
    body: { ...VALID, url: "https://example.com/a\u0000" },
    field: "url",
    mentions: "control character",
  },
  {
    what: "a url with a C1 control character",
    body: { ...VALID, url: "https://example.com/a\u0085b" },
    field: "url",
    mentions: "control character",
  },
  { what: "method TRACE", body: { ...VALID, method: "TRACE" }, field: "method", mentions: "GET" },
  {
    what: "a Host header",
    body: { ...VALID, headers: { Host: "internal" } },
    field: "headers",
    mentions: "Host",
  },
  {
    what: "a Metadata-Flavor header",
    body: { ...VALID, headers: { "Metadata-Flavor": "Google" } },
    field: "headers",
    mentions: "Metadata-Flavor",
  },
  {
    what: "an invalid header name",
    body: { ...VALID, headers: { "bad name": "x" } },
    field: "headers",
    mentions: "bad name",
  },
  {
    what: "a header value with a line break",
    body: { ...VALID, headers: { "X-Test": "a\r\nInjected: 1" } },
    field: "headers",
    mentions: "line break",
  },
  {
    what: "a header value with a control character",
    body: { ...VALID, headers: { "X-Test": "a\u0001b" } },
    field: "headers",
    mentions: "control character",
  },
  {
    what: "a header value with DEL",
    body: { ...VALID, headers: { "X-Test": "a\u007f" } },
    field: "headers",
    mentions: "control character",
  },
  { what: "a body with GET", body: { ...VALID, body: "hello" }, field: "body", mentions: "GET" },
  {
    what: "a schedule with 7 fields",
    body: { ...VALID, schedule: "0 0 0 * * * *" },
    field: "schedule",
    mentions: "7 fields",
  },
  {
    what: "minute 61",
    body: { ...VALID, schedule: "61 * * * *" },
    field: "schedule",
    mentions: "61",
  },
  {
    what: "an unknown time zone",
    body: { ...VALID, timezone: "Mars/Olympus" },
    field: "timezone",
    mentions: "Mars/Olympus",
  },
  {
    what: "a schedule that never fires",
    body: { ...VALID, schedule: "0 0 30 2 *" },
    field: "schedule",
    mentions: "never fires",
  },
  {
    what: "an interval of 0 seconds",
    body: { ...VALID, schedule: "@every 0s" },
    field: "schedule",
    mentions: "at least 1 second",
  },
  {
    what: "timeoutMs 500",
    body: { ...VALID, timeoutMs: 500 },
    field: "timeoutMs",
    mentions: "1000",
  },
  {
    what: "timeoutMs 400000",
    body: { ...VALID, timeoutMs: 400000 },
    field: "timeoutMs",
    mentions: "300000",
  },
  {
    what: "an unknown field",
    body: { ...VALID, foo: 1 },
    field: "foo",
    mentions: 'Unknown field "foo"',
  },
  {
    what: "an unknown field inside expect",
    body: { ...VALID, expect: { status: 200, statusCode: 200 } },
    field: "expect",
    mentions: 'expect has an unknown field "statusCode"',
  },
  {
    what: "a name over 200 characters",
    body: { ...VALID, name: "n".repeat(201) },
    field: "name",
    mentions: "200",
  },
  {
    what: "a header set twice in different case",
    body: { ...VALID, headers: { "X-A": "1", "x-a": "2" } },
    field: "headers",
    mentions: "twice",
  },
  {
    what: "an empty expect",
    body: { ...VALID, expect: {} },
    field: "expect",
    mentions: "at least one",
  },
  {
    what: "a body over 64 KiB",
    body: { ...VALID, method: "POST", body: "b".repeat(64 * 1024 + 1) },
    field: "body",
    mentions: "65536",
  },
];

for (const c of INVALID) {
  Deno.test(`POST /api/jobs answers 400 naming ${c.field} for ${c.what}`, async () => {
    await using t = await TestSystem.start();
    const answer = await t.call("POST", "/api/jobs", { body: c.body });
    const error = expectError(answer, 400, "INVALID_REQUEST", c.field);
    assert.ok(
      error.message.includes(c.mentions),
      `message ${JSON.stringify(error.message)} should mention ${JSON.stringify(c.mentions)}`,
    );
    const list = await t.call<JobView[]>("GET", "/api/jobs");
    assert.deepEqual(list.body.data, [], "nothing is stored for a refused job");
  });
}

storeTest("POST /api/jobs answers 400 for a body that is not JSON", async (store) => {
  await using t = await TestSystem.start({ store });
  const error = expectError(
    await t.call("POST", "/api/jobs", { body: "{name: Ping" }),
    400,
    "INVALID_REQUEST",
  );
  assert.match(error.message, /JSON/);
});

storeTest("POST /api/jobs answers 400 for a JSON array body", async (store) => {
  await using t = await TestSystem.start({ store });
  const error = expectError(
    await t.call("POST", "/api/jobs", { body: [VALID] }),
    400,
    "INVALID_REQUEST",
  );
  assert.match(error.message, /object/);
});

storeTest("POST /api/jobs answers 413 for a body over 256 KiB", async (store) => {
  await using t = await TestSystem.start({ store });
  const body = JSON.stringify({ ...VALID, name: "x".repeat(256 * 1024) });
  expectError(await t.call("POST", "/api/jobs", { body }), 413, "PAYLOAD_TOO_LARGE");
});

storeTest(
  "POST /api/jobs answers 413 when Content-Length announces over 256 KiB",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const answer = await t.call("POST", "/api/jobs", {
      body: JSON.stringify(VALID),
      headers: { "Content-Length": String(256 * 1024 + 1) },
    });
    expectError(answer, 413, "PAYLOAD_TOO_LARGE");
  },
);

storeTest(
  "POST /api/jobs accepts private addresses when HIBIKI_ALLOW_PRIVATE_NETWORKS=1",
  async (store) => {
    await using t = await TestSystem.start({ store, env: { HIBIKI_ALLOW_PRIVATE_NETWORKS: "1" } });
    for (const url of ["http://127.0.0.1/", "http://169.254.169.254/", "http://localhost/"]) {
      const job = await t.createJob({ url });
      assert.equal(job.url, url);
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Listing

storeTest("GET /api/jobs pages through every job once with a cursor", async (store) => {
  await using t = await TestSystem.start({ store });
  const created = new Set<string>();
  for (let i = 0; i < 7; i++) created.add((await t.createJob({ name: `Job ${i}` })).id);

  const sizes: number[] = [];
  const seen: string[] = [];
  let cursor: string | null | undefined = undefined;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const page = await t.call<JobView[]>("GET", `/api/jobs?limit=3${query}`);
    expectStatus(page, 200);
    assert.equal(page.body.success, true);
    sizes.push(page.body.data.length);
    seen.push(...page.body.data.map((job) => job.id));
    cursor = page.body.cursor;
    assert.ok(sizes.length <= 3, "paging should end after three pages");
  } while (cursor);

  assert.deepEqual(sizes, [3, 3, 1]);
  assert.equal(cursor, null);
  assert.equal(new Set(seen).size, seen.length, "no job is listed twice");
  assert.deepEqual(new Set(seen), created);
});

for (const limit of ["0", "500", "abc", "2.5"]) {
  Deno.test(`GET /api/jobs answers 400 naming limit for limit=${limit}`, async () => {
    await using t = await TestSystem.start();
    expectError(await t.call("GET", `/api/jobs?limit=${limit}`), 400, "INVALID_REQUEST", "limit");
  });
}

storeTest(
  "GET /api/jobs pages exactly through jobs that have run and jobs that have not",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const jobs = [];
    for (let i = 0; i < 7; i++) jobs.push(await t.createJob({ name: `Job ${i}` }));
    // Runs give a job records of its own to read with it (alert state, tally): every other one.
    const ran = jobs.filter((_, i) => i % 2 === 0);
    for (const job of ran) expectStatus(await t.call("POST", `/api/jobs/${job.id}/run`), 202);
    await t.settle();

    const pages: JobView[][] = [];
    let cursor: string | null | undefined = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await t.call<JobView[]>("GET", `/api/jobs?limit=2${query}`);
      expectStatus(page, 200);
      pages.push(page.body.data);
      cursor = page.body.cursor;
      assert.ok(pages.length <= 4, "paging should end after four pages");
    } while (cursor);

    assert.deepEqual(pages.map((p) => p.length), [2, 2, 2, 1]);
    const seen = pages.flat();
    assert.deepEqual(seen.map((j) => j.id).sort(), jobs.map((j) => j.id).sort());
    const counts = Object.fromEntries(seen.map((j) => [j.id, j.count]));
    assert.deepEqual(counts, Object.fromEntries(jobs.map((j, i) => [j.id, i % 2 === 0 ? 1 : 0])));
    for (const job of seen) {
      assert.equal(job.lastRunAt === null, !ran.some((r) => r.id === job.id), job.name);
    }
  },
);

kvOnlyTest(
  "GET /api/jobs shows no job another's counters, left by a run that finished after its deletion",
  async () => {
    await using t = await TestSystem.start();
    const job = await t.createJob();
    // What a run recorded after its job's deletion leaves: a tally without a job, whose id
    // extends this job's.
    const tally = packTally({ count: 7, lastRunAt: T0, ring: new Uint8Array(0) });
    await t.kv.set(kvKeys.jobTally("default", `${job.id}x`), tally);
    const other = await t.createJob({ name: "Other" });
    const answer = await t.call<JobView[]>("GET", "/api/jobs");
    const counts = Object.fromEntries(answer.body.data.map((j) => [j.id, j.count]));
    assert.deepEqual(counts, { [job.id]: 0, [other.id]: 0 });
  },
);

storeTest(
  "GET /api/jobs answers 400 naming cursor for a cursor with foreign characters",
  async (store) => {
    await using t = await TestSystem.start({ store });
    expectError(
      await t.call("GET", "/api/jobs?cursor=%21%21%21"),
      400,
      "INVALID_REQUEST",
      "cursor",
    );
  },
);

storeTest(
  "GET /api/jobs answers 400 naming cursor for a well-formed but made-up cursor",
  async (store) => {
    await using t = await TestSystem.start({ store });
    await t.createJob();
    const answer = await t.call("GET", "/api/jobs?cursor=garbage");
    expectError(answer, 400, "INVALID_REQUEST", "cursor");
  },
);

// ---------------------------------------------------------------------------------------------
// Changing and deleting

storeTest(
  "PATCH /api/jobs/:id changes the given fields, updatedAt and nextRunAt",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob();
    t.clock.advance(60_000);
    const answer = await t.call<JobView>("PATCH", `/api/jobs/${job.id}`, {
      body: { name: "Renamed", schedule: "30 10 * * *", timezone: "Asia/Tokyo" },
    });
    expectStatus(answer, 200);
    const changed = answer.body.data;
    assert.deepEqual(changed, {
      ...job,
      name: "Renamed",
      schedule: "30 10 * * *",
      timezone: "Asia/Tokyo",
      updatedAt: new Date(T0 + 60_000).toISOString(),
      // 12:01Z is 21:01 in Tokyo: the next 10:30 there is 01:30Z the next day.
      nextRunAt: "2026-03-03T01:30:00.000Z",
    });
    assert.deepEqual((await t.call<JobView>("GET", `/api/jobs/${job.id}`)).body.data, changed);
  },
);

storeTest(
  "PATCH /api/jobs/:id answers 400 for an invalid schedule and leaves the job unchanged",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob();
    t.clock.advance(60_000);
    const answer = await t.call("PATCH", `/api/jobs/${job.id}`, {
      body: { name: "Renamed", schedule: "61 * * * *" },
    });
    expectError(answer, 400, "INVALID_REQUEST", "schedule");
    const read = await t.call<JobView>("GET", `/api/jobs/${job.id}`);
    assert.deepEqual(read.body.data, job);
  },
);

storeTest("PATCH /api/jobs/:id answers 400 naming url for a private address", async (store) => {
  await using t = await TestSystem.start({ store });
  const job = await t.createJob();
  const answer = await t.call("PATCH", `/api/jobs/${job.id}`, {
    body: { url: "http://169.254.169.254/latest/meta-data/" },
  });
  expectError(answer, 400, "INVALID_REQUEST", "url");
  assert.equal((await t.call<JobView>("GET", `/api/jobs/${job.id}`)).body.data.url, job.url);
});

storeTest(
  "PATCH /api/jobs/:id answers 400 naming url for a line feed and keeps the stored url",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob();
    const answer = await t.call("PATCH", `/api/jobs/${job.id}`, {
      body: { url: "https://example.com/\nInjected: 1" },
    });
    const error = expectError(answer, 400, "INVALID_REQUEST", "url");
    assert.match(error.message, /U\+000A/);
    const after = await t.call<JobView>("GET", `/api/jobs/${job.id}`);
    assert.equal(after.body.data.url, job.url);
  },
);

storeTest(
  "PATCH /api/jobs/:id answers 400 naming body when GET would be sent with a body",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob({ method: "POST", body: "payload" });
    const answer = await t.call("PATCH", `/api/jobs/${job.id}`, { body: { method: "GET" } });
    expectError(answer, 400, "INVALID_REQUEST", "body");
  },
);

storeTest(
  "PATCH /api/jobs/:id answers 400 naming the field for an unknown or fixed field",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob();
    for (const field of ["foo", "id", "userId", "count"]) {
      const answer = await t.call("PATCH", `/api/jobs/${job.id}`, { body: { [field]: "x" } });
      expectError(answer, 400, "INVALID_REQUEST", field);
    }
  },
);

storeTest(
  "PATCH /api/jobs/:id with enabled false clears nextRunAt, and true restores it",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob();
    const off = await t.call<JobView>("PATCH", `/api/jobs/${job.id}`, { body: { enabled: false } });
    expectStatus(off, 200);
    assert.equal(off.body.data.enabled, false);
    assert.equal(off.body.data.nextRunAt, null);
    const on = await t.call<JobView>("PATCH", `/api/jobs/${job.id}`, { body: { enabled: true } });
    assert.equal(on.body.data.nextRunAt, job.nextRunAt);
  },
);

storeTest("PATCH /api/jobs/:id answers 404 for an unknown id", async (store) => {
  await using t = await TestSystem.start({ store });
  const answer = await t.call("PATCH", `/api/jobs/${crypto.randomUUID()}`, { body: { name: "X" } });
  expectError(answer, 404, "NOT_FOUND");
});

storeTest("DELETE /api/jobs/:id answers 200, then the job is not found", async (store) => {
  await using t = await TestSystem.start({ store });
  const job = await t.createJob();
  const answer = await t.call<{ message: string }>("DELETE", `/api/jobs/${job.id}`);
  expectStatus(answer, 200);
  assert.equal(answer.body.success, true);
  expectError(await t.call("GET", `/api/jobs/${job.id}`), 404, "NOT_FOUND");
  expectError(await t.call("DELETE", `/api/jobs/${job.id}`), 404, "NOT_FOUND");
  assert.deepEqual((await t.call<JobView[]>("GET", "/api/jobs")).body.data, []);
});

kvOnlyTest("DELETE /api/jobs/:id leaves runs that purgeDeletedJobs() then removes", async () => {
  await using t = await TestSystem.start();
  const job = await t.createJob();
  expectStatus(await t.call("POST", `/api/jobs/${job.id}/run`), 202);
  await t.settle();
  const store = buildStore(t.kv, t.clock);
  const before = await store.listRuns("default", job.id, { limit: 10 });
  assert.equal(before.values.length, 1);

  expectStatus(await t.call("DELETE", `/api/jobs/${job.id}`), 200);
  expectError(await t.call("GET", `/api/jobs/${job.id}/runs`), 404, "NOT_FOUND");
  assert.equal(await store.purgeDeletedJobs(), 1);
  const after = await store.listRuns("default", job.id, { limit: 10 });
  assert.deepEqual(after.values, []);
});

// ---------------------------------------------------------------------------------------------
// Fire-time previews

storeTest(
  "GET /api/jobs/:id/next lists fire times in UTC and in the job's time zone",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob({ schedule: "0 9 * * *", timezone: "Asia/Tokyo" });
    const answer = await t.call<{ at: string; local: string }[]>(
      "GET",
      `/api/jobs/${job.id}/next?count=5`,
    );
    expectStatus(answer, 200);
    // T0 is 21:00 in Tokyo: the first fire is 09:00 there the next morning.
    assert.deepEqual(
      answer.body.data,
      [3, 4, 5, 6, 7].map((day) => ({
        at: `2026-03-0${day}T00:00:00.000Z`,
        local: `2026-03-0${day}T09:00:00+09:00`,
      })),
    );
  },
);

for (const count of ["0", "101", "abc", "1.5", ""]) {
  Deno.test(`GET /api/jobs/:id/next answers 400 naming count for count=${count}`, async () => {
    await using t = await TestSystem.start();
    const job = await t.createJob();
    const answer = await t.call("GET", `/api/jobs/${job.id}/next?count=${count}`);
    expectError(answer, 400, "INVALID_REQUEST", "count");
  });
}

storeTest("GET /api/jobs/:id/next answers 404 for an unknown id", async (store) => {
  await using t = await TestSystem.start({ store });
  expectError(await t.call("GET", `/api/jobs/${crypto.randomUUID()}/next`), 404, "NOT_FOUND");
});

storeTest(
  "a job due within the lead after its creation runs when the clock reaches its second, not before",
  async (store) => {
    // Fires start up to a second ahead and wait for their time: by the injected clock, so a
    // test that has not moved it sees no run, however long it takes in real time.
    await using t = await TestSystem.start({ store, now: T0 - 270 });
    const job = await t.createJob({ schedule: "0 0 12 * * *" }); // T0
    await t.settle();
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual((await t.call<Run[]>("GET", `/api/jobs/${job.id}/runs`)).body.data, []);
    t.clock.set(T0);
    await t.settle();
    const runs = (await t.call<Run[]>("GET", `/api/jobs/${job.id}/runs`)).body.data;
    assert.deepEqual(runs.map((r) => [r.trigger, r.scheduledAt, r.startedAt]), [
      ["AUTO", new Date(T0).toISOString(), new Date(T0).toISOString()],
    ]);
  },
);

// ---------------------------------------------------------------------------------------------
// Manual runs

storeTest(
  "POST /api/jobs/:id/run answers 202 and records a MANUAL run that counts",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob({ url: "https://example.com/hook" });
    const answer = await t.call<{ runId: string; scheduledAt: string }>(
      "POST",
      `/api/jobs/${job.id}/run`,
    );
    expectStatus(answer, 202);
    const { runId, scheduledAt } = answer.body.data;
    assert.equal(typeof runId, "string");
    assert.equal(scheduledAt, new Date(T0).toISOString());
    await t.settle();

    const run = await t.call<Run>("GET", `/api/jobs/${job.id}/runs/${runId}`);
    expectStatus(run, 200);
    assert.equal(run.body.data.id, runId);
    assert.equal(run.body.data.jobId, job.id);
    assert.equal(run.body.data.trigger, "MANUAL");
    assert.equal(run.body.data.status, "success");
    assert.equal(run.body.data.code, 200);
    assert.deepEqual(t.probed.map((r) => [r.method, r.url]), [["GET", "https://example.com/hook"]]);

    const runs = await t.call<Run[]>("GET", `/api/jobs/${job.id}/runs`);
    expectStatus(runs, 200);
    assert.deepEqual(runs.body.data.map((r) => r.id), [runId]);
    assert.equal(runs.body.cursor, null);

    const after = await t.call<JobView>("GET", `/api/jobs/${job.id}`);
    assert.equal(after.body.data.count, 1);
    assert.equal(after.body.data.lastRunAt, new Date(T0).toISOString());
  },
);

storeTest("GET /api/jobs/:id/runs pages newest first through every run once", async (store) => {
  await using t = await TestSystem.start({ store });
  const job = await t.createJob();
  const created: string[] = [];
  for (let i = 0; i < 5; i++) {
    const answer = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
    created.push(answer.body.data.runId);
    await t.settle();
    t.clock.advance(1000);
  }
  const seen: string[] = [];
  let cursor: string | null | undefined = undefined;
  for (let page = 0; page < 5 && cursor !== null; page++) {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const answer = await t.call<Run[]>("GET", `/api/jobs/${job.id}/runs?limit=2${query}`);
    expectStatus(answer, 200);
    seen.push(...answer.body.data.map((r) => r.id));
    cursor = answer.body.cursor;
  }
  assert.equal(cursor, null);
  assert.deepEqual(seen, created.reverse());
});

storeTest("GET /api/jobs/:id/runs/:runId answers 404 once the job is deleted", async (store) => {
  await using t = await TestSystem.start({ store });
  const job = await t.createJob();
  const run = await t.call<{ runId: string }>("POST", `/api/jobs/${job.id}/run`);
  await t.settle();
  const path = `/api/jobs/${job.id}/runs/${run.body.data.runId}`;
  expectStatus(await t.call("GET", path), 200);
  expectStatus(await t.call("DELETE", `/api/jobs/${job.id}`), 200);
  // The runs listing already answers 404 here; one run of the same job must agree.
  expectError(await t.call("GET", `/api/jobs/${job.id}/runs`), 404, "NOT_FOUND");
  expectError(await t.call("GET", path), 404, "NOT_FOUND");
});

storeTest("POST /api/jobs/:id/run answers 404 for an unknown id", async (store) => {
  await using t = await TestSystem.start({ store });
  expectError(await t.call("POST", `/api/jobs/${crypto.randomUUID()}/run`), 404, "NOT_FOUND");
});

storeTest(
  "GET /api/jobs/:id/runs/:runId answers 404 for an unknown or malformed run id",
  async (store) => {
    await using t = await TestSystem.start({ store });
    const job = await t.createJob();
    for (const runId of ["1772452800000-manual-00000000", "not-a-run-id", "%20"]) {
      expectError(await t.call("GET", `/api/jobs/${job.id}/runs/${runId}`), 404, "NOT_FOUND");
    }
  },
);

// ---------------------------------------------------------------------------------------------
// Outside /api

storeTest("GET /healthz answers 200 with every check ok once the system runs", async (store) => {
  await using t = await TestSystem.start({ store });
  t.system.setQueueListening(true);
  await t.system.lanes.fires.drain();
  const response = await t.system.app.request("/healthz");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), {
    status: "ok",
    checks: { store: "ok", queue: "ok", dispatcher: "ok" },
  });
});

storeTest("GET /healthz answers 503 naming the failing checks", async (store) => {
  await using t = await TestSystem.start({ store });
  const response = await t.system.app.request("/healthz");
  assert.equal(response.status, 503);
  const body = await response.json();
  assert.equal(body.status, "error");
  assert.equal(body.checks.store, "ok");
  assert.match(body.checks.queue, /^error: /);
  assert.match(body.checks.dispatcher, /^error: /);
});

storeTest("GET /metrics answers Prometheus text with hibiki_runs_total", async (store) => {
  await using t = await TestSystem.start({ store });
  const response = await t.system.app.request("/metrics");
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  const text = await response.text();
  assert.match(text, /^# TYPE hibiki_runs_total counter$/m);
  assert.match(text, /^hibiki_runs_total\{outcome="success"\} 0$/m);
});

storeTest("an unknown route answers 404 in the error envelope", async (store) => {
  await using t = await TestSystem.start({ store });
  expectError(await t.call("GET", "/nope", { key: null }), 404, "NOT_FOUND");
  expectError(await t.call("GET", "/api/nope"), 404, "NOT_FOUND");
  expectError(await t.call("PUT", "/api/jobs"), 404, "NOT_FOUND");
});

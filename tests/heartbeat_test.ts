/**
 * Heartbeat jobs over HTTP, in-process: the job API for `type: "heartbeat"`, the ping
 * endpoints (`/ping/:token`, `/start`, `/fail`, `/<exit code>`), and the late check the
 * scheduler fires at each expected time plus the grace. Time is the manual clock; the fires
 * are claimed by the cron tick and run by draining the fire lane.
 */
import assert from "node:assert/strict";
import type { JobView, Run } from "../lib/store/types.ts";
import { callApp, expectError, expectStatus, ROOT_KEY, T0, TestSystem } from "./helpers.ts";
import { createSystem } from "../system.ts";
import { parseConfig } from "../lib/config.ts";
import { ManualClock } from "../lib/clock.ts";
import { buildStore } from "./build.ts";
import { createKvStores, kvStores } from "../lib/store/kv/mod.ts";
import { PingReceiver } from "../lib/heartbeat/ping_receiver.ts";
import { incidentsOf, stateOf } from "./alerts_support.ts";
import { AlertEngine, DECIDE_HOLD_MS } from "../lib/alerts/engine.ts";
import { noMaintenance } from "../lib/alerts/no_maintenance.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
/** 09:00 UTC the day after T0: the first time a "0 9 * * *" job created at T0 expects a ping. */
const T1 = Date.UTC(2026, 2, 3, 9, 0, 0);

async function heartbeat(t: TestSystem, fields: Record<string, unknown> = {}): Promise<JobView> {
  const answer = await t.call<JobView>("POST", "/api/jobs", {
    body: {
      type: "heartbeat",
      name: "Nightly backup",
      schedule: "0 9 * * *",
      graceSeconds: 300,
      ...fields,
    },
  });
  expectStatus(answer, 201);
  return answer.body.data;
}

interface PingAnswer {
  status: number;
  text: string;
  headers: Headers;
}

/** Sends a ping to `path` (a job's pingUrl plus any suffix), from `source` when given. */
async function ping(
  t: TestSystem,
  path: string,
  init: RequestInit = {},
  source?: string,
): Promise<PingAnswer> {
  const env = source
    ? { remoteAddr: { transport: "tcp", hostname: source, port: 40_000 } }
    : undefined;
  const response = await t.system.app.request(path, init, env);
  return { status: response.status, text: await response.text(), headers: response.headers };
}

async function runsOf(t: TestSystem, jobId: string): Promise<Run[]> {
  const answer = await t.call<Run[]>("GET", `/api/jobs/${jobId}/runs?limit=200`);
  expectStatus(answer, 200);
  return answer.body.data;
}

/** Moves the clock to `ms`, claims the fires due by then and runs them. */
async function at(t: TestSystem, ms: number): Promise<void> {
  t.clock.set(ms);
  await t.system.cronTick();
  await t.settle();
}

function lateRuns(runs: Run[]): Run[] {
  return runs.filter((r) => r.error?.category === "late");
}

// ---------------------------------------------------------------------------------------------
// The job API

Deno.test("POST /api/jobs creates a heartbeat with an unguessable ping URL and an hour's grace by default", async () => {
  await using t = await TestSystem.start();
  const answer = await t.call<JobView>("POST", "/api/jobs", {
    body: { type: "heartbeat", name: "Backup", schedule: "0 9 * * *" },
  });
  expectStatus(answer, 201);
  const job = answer.body.data;
  assert.equal(job.type, "heartbeat");
  assert.equal(job.graceSeconds, 3600);
  assert.match(job.pingUrl!, /^http:\/\/localhost\/ping\/[A-Za-z0-9_-]{32}$/);
  assert.equal(job.url, "");
  assert.equal(job.nextRunAt, new Date(T1).toISOString(), "the next time a ping is expected");
  // The sealed token and its hash stay inside.
  assert.ok(!("heartbeat" in job));
  assert.doesNotMatch(JSON.stringify(answer.body), /sealedToken|tokenHash|v1\./);
  const read = await t.call<JobView>("GET", `/api/jobs/${job.id}`);
  assert.deepEqual(read.body.data, job);
  const list = await t.call<JobView[]>("GET", "/api/jobs");
  assert.deepEqual(list.body.data, [job]);
  const other = await heartbeat(t);
  assert.notEqual(other.pingUrl, job.pingUrl);
});

Deno.test("a heartbeat's token is stored sealed and indexed by its hash, never as itself", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const token = job.pingUrl!.split("/").pop()!;
  for await (const entry of t.kv.list({ prefix: [] })) {
    const text = JSON.stringify(entry.key) +
      JSON.stringify(entry.value, (_, v) => typeof v === "bigint" ? String(v) : v);
    assert.ok(!text.includes(token), `the token is readable in ${JSON.stringify(entry.key)}`);
  }
  const stored = await buildStore(t.kv).getJob("default", job.id);
  assert.match(stored!.job.heartbeat!.sealedToken, /^v1\./);
});

Deno.test("a heartbeat's ping URL starts with HIBIKI_PUBLIC_URL when it is set", async () => {
  await using t = await TestSystem.start({
    env: { HIBIKI_PUBLIC_URL: "https://hibiki.example.com/" },
  });
  const job = await heartbeat(t);
  assert.match(job.pingUrl!, /^https:\/\/hibiki\.example\.com\/ping\/[A-Za-z0-9_-]{32}$/);
});

Deno.test("POST /api/jobs answers 400 naming the field a heartbeat has no use for", async () => {
  await using t = await TestSystem.start();
  const base = { type: "heartbeat", name: "Backup", schedule: "0 9 * * *" };
  for (
    const [extra, field] of [
      [{ url: "https://example.com/" }, "url"],
      [{ method: "POST" }, "method"],
      [{ headers: { "X-A": "1" } }, "headers"],
      [{ timeoutMs: 5000 }, "timeoutMs"],
      [{ workers: [{ workerId: "aws-tyo1a" }] }, "workers"],
      [{ local: false }, "local"],
      [{ graceSeconds: 0 }, "graceSeconds"],
      [{ graceSeconds: 30 * 86_400 + 1 }, "graceSeconds"],
      [{ graceSeconds: 1.5 }, "graceSeconds"],
      [{ graceSeconds: "300" }, "graceSeconds"],
      [{ schedule: "61 * * * *" }, "schedule"],
    ] as const
  ) {
    const answer = await t.call("POST", "/api/jobs", { body: { ...base, ...extra } });
    expectError(answer, 400, "INVALID_REQUEST", field);
  }
  // Empty values pass, so one client shape serves every type.
  const lenient = { ...base, headers: null, body: null, expect: null, workers: [], local: true };
  expectStatus(await t.call("POST", "/api/jobs", { body: lenient }), 201);
  const http = { name: "API", url: "https://example.com/", schedule: "* * * * *" };
  const graced = await t.call("POST", "/api/jobs", { body: { ...http, graceSeconds: 60 } });
  assert.match(expectError(graced, 400, "INVALID_REQUEST", "graceSeconds").message, /heartbeat/);
});

Deno.test("PATCH changes a heartbeat's grace and schedule, refuses request fields, keeps its URL", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const changed = await t.call<JobView>("PATCH", `/api/jobs/${job.id}`, {
    body: { graceSeconds: 900, schedule: "30 8 * * *", name: "Backup (eu)" },
  });
  expectStatus(changed, 200);
  assert.equal(changed.body.data.graceSeconds, 900);
  assert.equal(changed.body.data.pingUrl, job.pingUrl);
  assert.equal(changed.body.data.nextRunAt, "2026-03-03T08:30:00.000Z");
  const refused = await t.call("PATCH", `/api/jobs/${job.id}`, {
    body: { url: "https://example.com/" },
  });
  expectError(refused, 400, "INVALID_REQUEST", "url");
  const http = await t.createJob();
  const graced = await t.call("PATCH", `/api/jobs/${http.id}`, { body: { graceSeconds: 60 } });
  expectError(graced, 400, "INVALID_REQUEST", "graceSeconds");
  // A heartbeat runs when pinged: "run now" has nothing to run.
  expectError(await t.call("POST", `/api/jobs/${job.id}/run`), 400, "INVALID_REQUEST");
});

Deno.test("DELETE removes a heartbeat: its ping URL answers 404 at once", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  assert.equal((await ping(t, job.pingUrl!)).status, 200);
  expectStatus(await t.call("DELETE", `/api/jobs/${job.id}`), 200);
  const gone = await ping(t, job.pingUrl!);
  assert.deepEqual([gone.status, gone.text], [404, "Not found"]);
  expectError(await t.call("GET", `/api/jobs/${job.id}/runs`), 404, "NOT_FOUND");
});

Deno.test("another owner's heartbeat answers 404, and is left out of their list", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const { key } = await t.createKey(["read:jobs", "write:jobs", "read:logs"], "alice");
  for (
    const [method, path] of [
      ["GET", `/api/jobs/${job.id}`],
      ["GET", `/api/jobs/${job.id}/runs`],
      ["PATCH", `/api/jobs/${job.id}`],
      ["DELETE", `/api/jobs/${job.id}`],
    ]
  ) {
    const answer = await t.call(method, path, { key, body: method === "PATCH" ? {} : undefined });
    expectError(answer, 404, "NOT_FOUND");
  }
  assert.deepEqual((await t.call<JobView[]>("GET", "/api/jobs", { key })).body.data, []);
  const own = await t.call<JobView>("POST", "/api/jobs", {
    key,
    body: { type: "heartbeat", name: "Alice's", schedule: "@daily" },
  });
  expectStatus(own, 201);
  // Each ping lands on its own job only.
  await ping(t, own.body.data.pingUrl!);
  assert.equal((await runsOf(t, job.id)).length, 0);
  const alices = await t.call<Run[]>("GET", `/api/jobs/${own.body.data.id}/runs`, { key });
  assert.equal(alices.body.data.length, 1);
  assert.equal(alices.body.data[0].userId, "alice");
});

// ---------------------------------------------------------------------------------------------
// Pings

Deno.test("pings of each kind record a run: success, fail, exit 0 and exit 3", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const url = job.pingUrl!;
  const answers: PingAnswer[] = [];
  for (
    const [path, method] of [
      [url, "GET"],
      [`${url}/fail`, "POST"],
      [`${url}/0`, "HEAD"],
      [`${url}/3`, "GET"],
    ]
  ) {
    t.clock.advance(1); // runs list in time order
    answers.push(await ping(t, path, { method }));
  }
  assert.deepEqual(answers.map((a) => [a.status, a.text]), [
    [200, "OK"],
    [200, "OK"],
    [200, ""],
    [200, "OK"],
  ]);
  assert.match(answers[0].headers.get("content-type")!, /^text\/plain/);
  const runs = (await runsOf(t, job.id)).reverse();
  assert.deepEqual(
    runs.map((r) => [r.status, r.ping?.kind, r.ping?.exitCode, r.ping?.method, r.where]),
    [
      ["success", "success", null, "GET", "local"],
      ["failure", "fail", null, "POST", "local"],
      ["success", "exit", 0, "HEAD", "local"],
      ["failure", "exit", 3, "GET", "local"],
    ],
  );
  assert.deepEqual(runs.map((r) => r.error?.message ?? null), [
    null,
    "The job reported a failure",
    null,
    "The job exited with code 3",
  ]);
  const bad = await ping(t, `${url}/256`);
  assert.deepEqual([bad.status, bad.text], [400, "Exit code must be 0 to 255"]);
  assert.equal((await ping(t, `${url}/log`)).status, 404);
  assert.equal((await ping(t, url, { method: "PUT" })).status, 405);
  assert.equal((await runsOf(t, job.id)).length, 4);
  const view = (await t.call<JobView>("GET", `/api/jobs/${job.id}`)).body.data;
  assert.equal(view.count, 4);
});

Deno.test("a start then a success records the time between them as the run's duration", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  assert.equal((await ping(t, `${job.pingUrl}/start`)).text, "OK");
  assert.equal((await runsOf(t, job.id)).length, 0, "a start is no run");
  t.clock.advance(42_000);
  await ping(t, job.pingUrl!);
  t.clock.advance(1000);
  await ping(t, job.pingUrl!);
  const [second, first] = await runsOf(t, job.id);
  assert.equal(first.durationMs, 42_000);
  assert.equal(first.startedAt, new Date(T0).toISOString());
  assert.equal(first.finishedAt, new Date(T0 + 42_000).toISOString());
  assert.equal(second.durationMs, null, "the start was used up by the first success");
  // An exit code ends a started run too.
  await ping(t, `${job.pingUrl}/start`);
  t.clock.advance(5000);
  await ping(t, `${job.pingUrl}/1`);
  const [exited] = await runsOf(t, job.id);
  assert.deepEqual([exited.status, exited.durationMs], ["failure", 5000]);
});

Deno.test("a ping keeps its body's first 10 KiB, its source address and user agent", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const body = "log line\n".repeat(2500); // 22,500 bytes
  const answer = await ping(t, job.pingUrl!, {
    method: "POST",
    body,
    headers: { "user-agent": "curl/8.5.0", "x-forwarded-for": "198.51.100.7" },
  }, "203.0.113.5");
  assert.equal(answer.status, 200);
  const [run] = await runsOf(t, job.id);
  assert.equal(run.ping!.body, body.slice(0, 10_240));
  assert.equal(run.ping!.bodyTruncated, true);
  assert.equal(run.ping!.source, "203.0.113.5");
  assert.equal(run.ping!.forwardedFor, "198.51.100.7");
  assert.equal(run.ping!.userAgent, "curl/8.5.0");
  t.clock.advance(1);
  await ping(t, job.pingUrl!, { method: "POST", body: "done" });
  const [short] = await runsOf(t, job.id);
  assert.deepEqual([short.ping!.body, short.ping!.bodyTruncated], ["done", false]);
});

Deno.test("an unknown or malformed token answers a plain 404 and records nothing", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const token = job.pingUrl!.split("/").pop()!;
  const flipped = token.slice(0, -1) + (token.endsWith("A") ? "B" : "A");
  for (const path of [`/ping/${flipped}`, "/ping/short", `/ping/${flipped}/fail`, "/ping/"]) {
    const answer = await ping(t, path);
    assert.deepEqual([answer.status, answer.text], [404, "Not found"], path);
    assert.match(answer.headers.get("content-type")!, /^text\/plain/);
  }
  assert.equal((await runsOf(t, job.id)).length, 0);
});

Deno.test("pings over a token's limit answer 429 with Retry-After; other tokens are not held up", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const other = await heartbeat(t);
  for (let i = 0; i < 60; i++) assert.equal((await ping(t, job.pingUrl!)).status, 200);
  const limited = await ping(t, job.pingUrl!);
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "1");
  assert.equal((await ping(t, other.pingUrl!)).status, 200);
  t.clock.advance(1000);
  assert.equal((await ping(t, job.pingUrl!)).status, 200);
  assert.equal((await ping(t, job.pingUrl!)).status, 429);
  assert.equal((await runsOf(t, job.id)).length, 61);
});

Deno.test("two pings in the same millisecond are two runs", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  await Promise.all([ping(t, job.pingUrl!), ping(t, `${job.pingUrl}/fail`)]);
  const runs = await runsOf(t, job.id);
  assert.equal(runs.length, 2);
  assert.deepEqual(runs.map((r) => r.scheduledAt), Array(2).fill(new Date(T0).toISOString()));
});

Deno.test("a paused heartbeat's ping is answered and kept as ignored, changing nothing", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  expectStatus(await t.call("PATCH", `/api/jobs/${job.id}`, { body: { enabled: false } }), 200);
  assert.equal((await ping(t, `${job.pingUrl}/start`)).status, 200);
  assert.equal((await ping(t, `${job.pingUrl}/fail`)).status, 200);
  const [run] = await runsOf(t, job.id);
  assert.equal(run.ping!.ignored, true);
  assert.equal(run.durationMs, null, "a paused job marks no start");
  const view = (await t.call<JobView>("GET", `/api/jobs/${job.id}`)).body.data;
  assert.deepEqual([view.count, view.lastRunAt, view.nextRunAt], [0, null, null]);
});

Deno.test("a heartbeat pinged past its run retention is pruned back to it", async () => {
  await using t = await TestSystem.start({ env: { HIBIKI_RUN_RETENTION_COUNT: "10" } });
  const job = await heartbeat(t);
  for (let i = 0; i < 70; i++) {
    t.clock.advance(1000);
    assert.equal((await ping(t, job.pingUrl!)).status, 200);
  }
  // Pruning follows the write that passes the retention (plus slack), off the ping's path.
  const deadline = performance.now() + 2000;
  let kept = (await runsOf(t, job.id)).length;
  while (kept > 20 && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    kept = (await runsOf(t, job.id)).length;
  }
  assert.ok(kept <= 20, `${kept} runs kept`);
  const newest = (await runsOf(t, job.id))[0];
  assert.equal(newest.scheduledAt, new Date(T0 + 70_000).toISOString());
});

Deno.test("a ping after the job was paused elsewhere is ignored, though the last one was not", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  await ping(t, job.pingUrl!);
  // Paused by another process: this one learns of it from its guarded write.
  await buildStore(t.kv).updateJob("default", job.id, (current) => ({
    job: { ...current, enabled: false },
    firstFireAt: null,
  }));
  t.clock.advance(1);
  await ping(t, job.pingUrl!);
  const [second, first] = await runsOf(t, job.id);
  assert.deepEqual([first.ping!.ignored, second.ping!.ignored], [false, true]);
});

Deno.test("a start sent to another process gives the next ping here its duration", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  await ping(t, job.pingUrl!);
  const stores = createKvStores(t.kv, { clock: t.clock });
  const elsewhere = new PingReceiver({
    store: stores.records,
    heartbeats: stores.heartbeats,
    clock: t.clock,
  });
  const token = job.pingUrl!.split("/").pop()!;
  const request = new Request(`${job.pingUrl}/start`);
  assert.deepEqual(
    await elsewhere.receive({ token, kind: "start", request, source: null }),
    { kind: "ok" },
  );
  t.clock.advance(7000);
  await ping(t, job.pingUrl!);
  const [ended] = await runsOf(t, job.id);
  assert.equal(ended.durationMs, 7000);
});

// ---------------------------------------------------------------------------------------------
// Late detection

Deno.test("the late check records a failing run at exactly T + grace, not a moment before", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const deadline = T1 + 5 * MINUTE;
  // Held fires start a second ahead to read their job: a second and a millisecond before.
  await at(t, deadline - 1001);
  assert.deepEqual(await runsOf(t, job.id), []);
  await at(t, deadline);
  const runs = await runsOf(t, job.id);
  assert.equal(runs.length, 1);
  const [late] = runs;
  assert.equal(late.status, "failure");
  assert.equal(late.scheduledAt, new Date(deadline).toISOString());
  assert.equal(late.id, `${deadline}-local`);
  assert.deepEqual(late.error, {
    category: "late",
    message:
      "No ping by 2026-03-03T09:05:00+00:00: expected at 2026-03-03T09:00:00+00:00, grace 300s",
  });
  const view = (await t.call<JobView>("GET", `/api/jobs/${job.id}`)).body.data;
  assert.equal(view.count, 1, "a late run counts like any failed run");
});

Deno.test("a ping a millisecond before the deadline prevents the late run", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const deadline = T1 + 5 * MINUTE;
  t.clock.set(deadline - 1);
  await ping(t, job.pingUrl!);
  await at(t, deadline);
  const runs = await runsOf(t, job.id);
  assert.deepEqual(runs.map((r) => [r.status, r.ping?.kind]), [["success", "success"]]);
});

Deno.test("a ping before the expected time does not answer it; a late ping after the late run is a success", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const deadline = T1 + 5 * MINUTE;
  t.clock.set(T1 - 1);
  await ping(t, job.pingUrl!); // counts for yesterday's 09:00, not today's
  await at(t, deadline);
  t.clock.set(deadline + 2 * MINUTE);
  await ping(t, job.pingUrl!);
  const runs = await runsOf(t, job.id);
  assert.deepEqual(runs.map((r) => [r.status, r.ping ? "ping" : r.error?.category]), [
    ["success", "ping"],
    ["failure", "late"],
    ["success", "ping"],
  ]);
});

Deno.test("a late ping covers no later day: the next day wants its own ping", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const day = 24 * 60 * MINUTE;
  await at(t, T1 + 5 * MINUTE);
  t.clock.set(T1 + 7 * MINUTE);
  await ping(t, job.pingUrl!);
  await at(t, T1 + day + 5 * MINUTE);
  const late = lateRuns(await runsOf(t, job.id));
  assert.deepEqual(late.map((r) => r.scheduledAt), [
    new Date(T1 + day + 5 * MINUTE).toISOString(),
    new Date(T1 + 5 * MINUTE).toISOString(),
  ]);
});

Deno.test("a 09:00 New York heartbeat is checked at 09:05 local time on the spring-forward day", async () => {
  // 8 March 2026: New York moves from EST (UTC−5) to EDT (UTC−4) at 02:00.
  const midnight = Date.UTC(2026, 2, 8, 0, 0, 0);
  await using t = await TestSystem.start({ now: midnight });
  const job = await heartbeat(t, { timezone: "America/New_York" });
  const expected = Date.UTC(2026, 2, 8, 13, 0, 0); // 09:00 EDT, 23 hours after Saturday's
  assert.equal(job.nextRunAt, new Date(expected).toISOString());
  t.clock.set(expected - 1); // 08:59:59.999 EDT: before the expected time
  await ping(t, job.pingUrl!);
  await at(t, expected + 5 * MINUTE - 1001);
  assert.deepEqual(lateRuns(await runsOf(t, job.id)), []);
  await at(t, expected + 5 * MINUTE);
  const [late] = lateRuns(await runsOf(t, job.id));
  assert.equal(
    late.error!.message,
    "No ping by 2026-03-08T09:05:00-04:00: expected at 2026-03-08T09:00:00-04:00, grace 300s",
  );
  // Monday: a ping at 09:01 EDT answers 09:00 EDT.
  t.clock.set(expected + 24 * 60 * MINUTE + MINUTE);
  await ping(t, job.pingUrl!);
  await at(t, expected + 24 * 60 * MINUTE + 5 * MINUTE);
  assert.equal(lateRuns(await runsOf(t, job.id)).length, 1);
});

Deno.test("an @every heartbeat counts any ping in the period before its time", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t, { schedule: "@every 1h", graceSeconds: 60 });
  const hour = 60 * MINUTE;
  const first = Date.parse(job.nextRunAt!);
  // Its window opened before the job existed: no ping is owed for it.
  await at(t, first + MINUTE);
  assert.deepEqual(await runsOf(t, job.id), []);
  const second = first + hour;
  t.clock.set(second - 59 * MINUTE);
  await ping(t, job.pingUrl!);
  await at(t, second + MINUTE);
  assert.deepEqual(lateRuns(await runsOf(t, job.id)), []);
  await at(t, second + hour + MINUTE);
  const late = lateRuns(await runsOf(t, job.id));
  assert.deepEqual(late.map((r) => r.scheduledAt), [
    new Date(second + hour + MINUTE).toISOString(),
  ]);
});

Deno.test("a resumed heartbeat owes no ping for the times it was paused", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  await t.call("PATCH", `/api/jobs/${job.id}`, { body: { enabled: false } });
  t.clock.set(T1 + MINUTE);
  await t.call("PATCH", `/api/jobs/${job.id}`, { body: { enabled: true } });
  await at(t, T1 + 5 * MINUTE);
  assert.deepEqual(await runsOf(t, job.id), []);
  await at(t, T1 + 24 * 60 * MINUTE + 5 * MINUTE);
  assert.equal(lateRuns(await runsOf(t, job.id)).length, 1);
});

// ---------------------------------------------------------------------------------------------
// Alerting

Deno.test("a late heartbeat opens an incident that a late ping resolves; a failing ping opens one too", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  assert.equal(job.alerts.failureThreshold, 1, "a daily job's default");
  const deadline = T1 + 5 * MINUTE;
  await at(t, deadline);
  const down = await stateOf(t, job.id);
  assert.equal(down.state, "down");
  const [opened] = await incidentsOf(t, "?state=open");
  assert.equal(down.incidentId, opened.id);
  assert.equal(opened.startedAt, new Date(deadline).toISOString());
  assert.equal(
    opened.cause,
    "No ping by 2026-03-03T09:05:00+00:00: expected at 2026-03-03T09:00:00+00:00, grace 300s",
  );
  assert.deepEqual(opened.runIds, [`${deadline}-local`]);

  const pingedAt = deadline + 2 * MINUTE;
  t.clock.set(pingedAt);
  assert.equal((await ping(t, job.pingUrl!)).text, "OK");
  // The decision follows the answer.
  await t.settle();
  const up = await stateOf(t, job.id);
  assert.equal(up.state, "up");
  assert.equal(up.incidentId, null);
  const [resolved] = await incidentsOf(t, "?state=resolved");
  assert.equal(resolved.id, opened.id);
  assert.equal(resolved.endedAt, new Date(pingedAt).toISOString());
  assert.equal(resolved.durationMs, 2 * MINUTE);

  // The next day the job reports a failure itself: down again, at once.
  const failedAt = T1 + 24 * 60 * MINUTE + MINUTE;
  t.clock.set(failedAt);
  await ping(t, `${job.pingUrl}/fail`);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "down");
  const [again] = await incidentsOf(t, "?state=open");
  assert.equal(again.cause, "The job reported a failure");
  assert.equal(again.startedAt, new Date(failedAt).toISOString());
  t.clock.set(failedAt + MINUTE);
  await ping(t, `${job.pingUrl}/0`);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "up");
  assert.deepEqual(await incidentsOf(t, "?state=open"), []);
});

/**
 * A receiver in a process of its own (over the test system's KV) that dies where a ping's
 * decision is made after its answer: `afterRecord` never returns for a decision its commit
 * did not carry. `decidedAfter` resolves when it got there.
 */
function dyingReceiver(t: TestSystem) {
  const stores = createKvStores(t.kv, { clock: t.clock });
  const engine = new AlertEngine({
    alerts: stores.alerts,
    clock: t.clock,
    calendar: noMaintenance,
  });
  const decidedAfter = Promise.withResolvers<void>();
  const receiver = new PingReceiver({
    store: stores.records,
    heartbeats: stores.heartbeats,
    clock: t.clock,
    alerts: Object.assign(Object.create(engine), {
      afterRecord: (...args: Parameters<AlertEngine["afterRecord"]>) => {
        if (args[4]?.applied) return engine.afterRecord(...args);
        decidedAfter.resolve();
        return new Promise<void>(() => {});
      },
    }),
  });
  return { receiver, decidedAfter: decidedAfter.promise };
}

Deno.test("a ping's decision is written with it: the state has moved when the OK comes", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  await at(t, T1 + 5 * MINUTE);
  assert.equal((await stateOf(t, job.id)).state, "down");
  assert.equal((await incidentsOf(t, "?state=open")).length, 1);
  const { receiver } = dyingReceiver(t);
  t.clock.set(T1 + 7 * MINUTE);
  const token = job.pingUrl!.split("/").pop()!;
  const request = new Request(job.pingUrl!);
  assert.deepEqual(await receiver.receive({ token, kind: "success", request, source: null }), {
    kind: "ok",
  });
  // Nothing was left to decide after the answer: the ping's commit resolved the incident.
  assert.equal((await stateOf(t, job.id)).state, "up");
  assert.deepEqual(await incidentsOf(t, "?state=open"), []);
});

Deno.test("a ping on a state changed elsewhere is decided after its OK, by the alert lane if the process dies first", async () => {
  await using t = await TestSystem.start();
  const job = await heartbeat(t);
  const { receiver, decidedAfter } = dyingReceiver(t);
  const token = job.pingUrl!.split("/").pop()!;
  const ping = () =>
    receiver.receive({ token, kind: "success", request: new Request(job.pingUrl!), source: null });
  await at(t, T1 + 5 * MINUTE);
  t.clock.set(T1 + 7 * MINUTE);
  assert.deepEqual(await ping(), { kind: "ok" });
  assert.equal((await stateOf(t, job.id)).state, "up");
  // The next day's late check, in the other process, moves the state this receiver knows.
  await at(t, T1 + DAY + 5 * MINUTE);
  assert.equal((await stateOf(t, job.id)).state, "down");
  t.clock.set(T1 + DAY + 7 * MINUTE);
  assert.deepEqual(await ping(), { kind: "ok" });
  await decidedAfter;
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "down", "held by the dying process");
  t.clock.advance(DECIDE_HOLD_MS + 1);
  await t.settle();
  assert.equal((await stateOf(t, job.id)).state, "up");
  assert.deepEqual(await incidentsOf(t, "?state=open"), []);
});

// ---------------------------------------------------------------------------------------------
// The token stays secret

Deno.test("a ping that cannot be stored answers 503 and logs no token", async () => {
  const kv = await Deno.openKv(":memory:");
  const config = parseConfig({ HIBIKI_KV_PATH: ":memory:", HIBIKI_API_KEY: ROOT_KEY });
  const system = createSystem(kvStores(kv), config, {
    clock: new ManualClock(T0),
    queueWakeups: false,
  });
  const created = await callApp<JobView>(system.app, "POST", "/api/jobs", {
    body: { type: "heartbeat", name: "Backup", schedule: "0 9 * * *" },
  });
  const url = created.body.data.pingUrl!;
  const token = url.split("/").pop()!;
  kv.close();
  const logged: string[] = [];
  const original = { error: console.error, warn: console.warn, log: console.log };
  const keep = (...args: unknown[]) => logged.push(args.map(String).join(" "));
  Object.assign(console, { error: keep, warn: keep, log: keep });
  let answer: Response;
  try {
    answer = await system.app.request(url);
  } finally {
    Object.assign(console, original);
  }
  assert.equal(answer.status, 503);
  assert.doesNotMatch(await answer.text(), new RegExp(token));
  assert.ok(logged.length > 0, "the failure is logged");
  for (const line of logged) assert.ok(!line.includes(token), `token in log: ${line}`);
});

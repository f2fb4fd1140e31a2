/**
 * `batch-save-results` stores a result only when it comes from a registered, active worker,
 * for an enabled monitor assigned to that worker, with a plausible `checked_at`; `inserted`
 * counts what is stored. Worker runs update everything a local run does (the latest results,
 * the alert state and with it the dashboard's state index).
 */
import assert from "node:assert/strict";
import { kvKeys } from "../lib/store/kv/keys.ts";
import type { JobView } from "../lib/store/types.ts";
import { buildStore } from "./build.ts";
import { T0, TestSystem } from "./helpers.ts";
import { callEdge, checkResult } from "./edge_support.ts";

const WORKER_KEY = "edge-trust-worker-key-0123456789";
const DAY = 86_400_000;

function edge(t: TestSystem, name: string, body: unknown) {
  return callEdge(t, name, body, WORKER_KEY);
}

/** Workers aws (assigned), gcp (registered, not assigned), azure (assigned, then inactive). */
async function setUp(): Promise<{ t: TestSystem; monitor: JobView }> {
  const t = await TestSystem.start({ env: { PINGMON_WORKER_API_KEY: WORKER_KEY } });
  for (const id of ["aws-tyo1a", "gcp-tyo1a", "azure-tyo1"]) {
    assert.equal((await t.call("POST", "/api/workers", { body: { id } })).status, 201);
  }
  const monitor = await t.createJob({
    name: "Worker only",
    schedule: "@every 5m",
    local: false,
    workers: [{ workerId: "aws-tyo1a" }, { workerId: "azure-tyo1" }],
  });
  return { t, monitor };
}

const result = checkResult;

async function save(t: TestSystem, ...results: unknown[]) {
  const answer = await edge(t, "batch-save-results", { check_results: results });
  await t.settle();
  return answer;
}

async function runs(t: TestSystem, jobId: string) {
  const answer = await t.call<{ id: string; where: string; status: string }[]>(
    "GET",
    `/api/jobs/${jobId}/runs`,
  );
  return answer.body.data;
}

async function pendingChunks(t: TestSystem): Promise<number> {
  let n = 0;
  for await (const _ of t.kv.list({ prefix: kvKeys.resultsDue() })) n++;
  return n;
}

async function inState(t: TestSystem, state: "up" | "down"): Promise<string[]> {
  const page = await buildStore(t.kv, t.clock).searchJobs("default", { state, limit: 50 });
  return page.values.map((s) => s.job.name);
}

Deno.test("batch-save-results answers 404 WORKER_NOT_FOUND for an unknown worker and stores nothing", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  assert.deepEqual(await save(t, result(monitor.id, { worker_id: "mars-1" })), {
    status: 404,
    body: { success: false, error: { code: "WORKER_NOT_FOUND", message: "Worker not found" } },
  });
  assert.deepEqual(await runs(t, monitor.id), []);
  assert.equal(await pendingChunks(t), 0);
  // Not even a "last seen" record for a name nobody registered.
  assert.equal((await t.kv.get(kvKeys.workerSeen("mars-1"))).value, null);
});

Deno.test("batch-save-results answers 403 WORKER_INACTIVE for an inactive worker and stores nothing", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  await t.call("PATCH", "/api/workers/azure-tyo1", { body: { is_active: false } });
  assert.deepEqual(await save(t, result(monitor.id, { worker_id: "azure-tyo1" })), {
    status: 403,
    body: { success: false, error: { code: "WORKER_INACTIVE", message: "Worker is not active" } },
  });
  assert.deepEqual(await runs(t, monitor.id), []);
});

Deno.test("a batch mixing workers keeps the items of active workers and drops the rest", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  await t.call("PATCH", "/api/workers/azure-tyo1", { body: { is_active: false } });
  assert.deepEqual(
    await save(
      t,
      result(monitor.id),
      result(monitor.id, { worker_id: "mars-1" }),
      result(monitor.id, { worker_id: "azure-tyo1" }),
    ),
    { status: 200, body: { success: true, inserted: 1 } },
  );
  assert.deepEqual((await runs(t, monitor.id)).map((r) => r.where), ["aws-tyo1a"]);
});

Deno.test("results for monitors the worker does not have are dropped and not counted", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const localOnly = await t.createJob({ name: "Local only", schedule: "@every 5m" });
  const disabled = await t.createJob({
    name: "Disabled",
    schedule: "@every 5m",
    workers: [{ workerId: "aws-tyo1a" }],
  });
  await t.call("PATCH", `/api/jobs/${disabled.id}`, { body: { enabled: false } });
  // gcp-tyo1a is registered and active, but the monitor is not assigned to it.
  assert.deepEqual(await save(t, result(monitor.id, { worker_id: "gcp-tyo1a" })), {
    status: 200,
    body: { success: true, inserted: 0 },
  });
  assert.deepEqual(await save(t, result(localOnly.id), result(disabled.id)), {
    status: 200,
    body: { success: true, inserted: 0 },
  });
  for (const job of [monitor, localOnly, disabled]) assert.deepEqual(await runs(t, job.id), []);
  assert.equal((await t.call<JobView>("GET", `/api/jobs/${localOnly.id}`)).body.data.count, 0);
});

Deno.test("the seed's own curl example (a monitor nobody has) inserts nothing", async () => {
  const { t } = await setUp();
  await using _ = t;
  const seedExample = {
    monitor_id: "550e8400-e29b-41d4-a716-446655440000",
    checked_at: "2025-10-26T10:00:00.000Z",
    status_code: 200,
    response_time_ms: 85,
    success: true,
    error_message: null,
    response_body_sample: '{"status":"ok"}',
    worker_id: "aws-tyo1a",
  };
  assert.deepEqual(await save(t, seedExample), {
    status: 200,
    body: { success: true, inserted: 0 },
  });
  // The same with a current checked_at: still no such monitor for the worker.
  assert.deepEqual(
    await save(t, { ...seedExample, checked_at: new Date(T0).toISOString() }),
    { status: 200, body: { success: true, inserted: 0 } },
  );
  assert.equal(await pendingChunks(t), 0);
});

Deno.test("checked_at must be within the clock skew ahead and the run retention behind", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const at = (ms: number) => result(monitor.id, { checked_at: new Date(ms).toISOString() });
  const answer = await save(
    t,
    result(monitor.id, { checked_at: "9999-12-31T23:59:59.000Z" }),
    at(T0 + 6 * 60_000), // beyond the 5 min skew
    at(T0 - 31 * DAY), // older than the 30-day retention
    at(T0 + 4 * 60_000),
    at(T0 - 29 * DAY),
  );
  assert.deepEqual(answer, { status: 200, body: { success: true, inserted: 2 } });
  assert.deepEqual((await runs(t, monitor.id)).map((r) => r.id).sort(), [
    `${T0 - 29 * DAY}-aws-tyo1a`,
    `${T0 + 4 * 60_000}-aws-tyo1a`,
  ]);
});

Deno.test("worker results move a worker-only job in the dashboard's state filter and results", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const alerts = { alerts: { failureThreshold: 1 } };
  assert.equal((await t.call("PATCH", `/api/jobs/${monitor.id}`, { body: alerts })).status, 200);
  const failing = { success: false, status_code: 503, error_message: "Expected 200, got 503" };
  // Both places fail the interval: decided when the last one reports.
  await save(
    t,
    result(monitor.id, failing),
    result(monitor.id, { ...failing, worker_id: "azure-tyo1" }),
  );
  assert.deepEqual(await inState(t, "down"), ["Worker only"]);
  assert.deepEqual(await inState(t, "up"), []);
  // The next interval passes in both places, sent out of order in one batch.
  t.clock.set(T0 + 6 * 60_000);
  await save(
    t,
    result(monitor.id, { checked_at: new Date(T0 + 5 * 60_000 + 2000).toISOString() }),
    result(monitor.id, {
      worker_id: "azure-tyo1",
      checked_at: new Date(T0 + 5 * 60_000 + 1000).toISOString(),
    }),
  );
  assert.deepEqual(await inState(t, "up"), ["Worker only"]);
  assert.deepEqual(await inState(t, "down"), []);
  const [summary] = await buildStore(t.kv, t.clock).jobSummaries("default", [monitor.id]);
  assert.deepEqual(summary.recent.map((r) => [r.at - T0, r.status]), [
    [0, "failure"],
    [0, "failure"],
    [301_000, "success"],
    [302_000, "success"],
  ]);
});

Deno.test("a batch sent again is stored once", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const batch = [result(monitor.id), result(monitor.id, { worker_id: "azure-tyo1" })];
  assert.deepEqual((await save(t, ...batch)).body, { success: true, inserted: 2 });
  assert.deepEqual((await save(t, ...batch)).body, { success: true, inserted: 2 });
  assert.equal((await runs(t, monitor.id)).length, 2);
  assert.equal((await t.call<JobView>("GET", `/api/jobs/${monitor.id}`)).body.data.count, 2);
});

Deno.test("a result repeated in a batch, or a batch sent twice at once, is counted once", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const repeated = result(monitor.id);
  assert.deepEqual((await save(t, repeated, repeated)).body, { success: true, inserted: 1 });
  // A worker that timed out sent again: both batches wait to be stored at the same time.
  const batch = Array.from(
    { length: 20 },
    (_, i) => result(monitor.id, { checked_at: new Date(T0 - (i + 1) * 1000).toISOString() }),
  );
  for (const id of [crypto.randomUUID(), crypto.randomUUID()]) {
    await t.kv.set([...kvKeys.resultsDue(), T0, id, 0], { results: batch });
  }
  await t.settle();
  assert.equal((await runs(t, monitor.id)).length, 21);
  assert.equal((await t.call<JobView>("GET", `/api/jobs/${monitor.id}`)).body.data.count, 21);
});

Deno.test("results of a job disabled after they were accepted are not stored", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  // A chunk as accepted before the job was disabled, waiting for the ingester.
  await t.kv.set([...kvKeys.resultsDue(), T0, crypto.randomUUID(), 0], {
    results: [result(monitor.id)],
  });
  await t.call("PATCH", `/api/jobs/${monitor.id}`, { body: { enabled: false } });
  await t.settle();
  assert.deepEqual(await runs(t, monitor.id), []);
  assert.equal(await pendingChunks(t), 0);
});

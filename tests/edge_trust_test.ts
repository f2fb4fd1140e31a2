/**
 * `batch-save-results` stores a result only when it comes from a registered, active worker,
 * for an enabled monitor assigned to that worker, with a plausible `checked_at`; `inserted`
 * counts what is stored. Worker runs update everything a local run does (the state index).
 */
import assert from "node:assert/strict";
import { kvKeys } from "../lib/store/kv_keys.ts";
import type { JobView } from "../lib/store/types.ts";
import { T0, TestSystem } from "./helpers.ts";

const WORKER_KEY = "edge-trust-worker-key-0123456789";
const DAY = 86_400_000;

async function edge(t: TestSystem, name: string, body: unknown) {
  const response = await t.system.app.request(`/functions/v1/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Pingmon-API-Key": WORKER_KEY },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
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

function result(monitorId: string, fields: Record<string, unknown> = {}) {
  return {
    monitor_id: monitorId,
    checked_at: new Date(T0).toISOString(),
    status_code: 200,
    response_time_ms: 85,
    success: true,
    error_message: null,
    response_body_sample: '{"status":"ok"}',
    worker_id: "aws-tyo1a",
    ...fields,
  };
}

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

Deno.test("a batch sent again is stored once", async () => {
  const { t, monitor } = await setUp();
  await using _ = t;
  const batch = [result(monitor.id), result(monitor.id, { worker_id: "azure-tyo1" })];
  assert.deepEqual((await save(t, ...batch)).body, { success: true, inserted: 2 });
  assert.deepEqual((await save(t, ...batch)).body, { success: true, inserted: 2 });
  assert.equal((await runs(t, monitor.id)).length, 2);
  assert.equal((await t.call<JobView>("GET", `/api/jobs/${monitor.id}`)).body.data.count, 2);
});

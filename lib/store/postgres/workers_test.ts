/** Worker results on Postgres land in seed 002's own `check_results`, with the results lane. */
import assert from "node:assert/strict";
import { freshDatabase } from "../../../tests/postgres_database.ts";
import type { CheckResult } from "../types.ts";
import { createPostgresStores } from "./mod.ts";

const T0 = Date.UTC(2026, 2, 2, 12, 0, 0);

function result(at: number, success: boolean): CheckResult {
  return {
    monitor_id: "6f1c2a9e-3b7d-4c1e-9a55-2d8f0e4b7c10",
    checked_at: new Date(at).toISOString(),
    status_code: success ? 200 : null,
    response_time_ms: success ? 42 : null,
    success,
    error_message: success ? null : "connect ECONNREFUSED",
    response_body_sample: success ? "ok" : null,
    worker_id: "aws-tyo1a",
  };
}

Deno.test("worker results are rows of seed 002's check_results as well as lane items", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  const results = [result(T0, true), result(T0 + 60_000, false)];
  await stores.workers.queueResults(results, T0);
  const rows = await db.sql`select monitor_id::text, checked_at, status_code, response_time_ms,
      success, error_message, response_body_sample, worker_id
    from public.check_results order by checked_at`;
  assert.deepEqual(
    [...rows].map((r) => ({ ...r, checked_at: (r.checked_at as Date).toISOString() })),
    results,
  );
  const due = await stores.lanes.listDue<{ results: CheckResult[] }>("results", T0, 10);
  assert.deepEqual(due.flatMap((i) => i.value.results), results);
});

Deno.test("worker results seed 002's table refuses are not queued either", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  const bad = { ...result(T0, true), monitor_id: "not a uuid" };
  await assert.rejects(() => stores.workers.queueResults([result(T0, true), bad], T0));
  assert.equal((await db.sql`select id from public.check_results`).length, 0);
  assert.deepEqual(await stores.lanes.listDue("results", T0, 10), []);
});

Deno.test("U+0000, which seed 002's text columns cannot hold, is dropped there only", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  const raw = { ...result(T0, true), response_body_sample: "PNG\u0000\u0001" };
  await stores.workers.queueResults([raw], T0);
  const [row] = await db.sql`select response_body_sample from public.check_results`;
  assert.equal(row.response_body_sample, "PNG\u0001");
  const [due] = await stores.lanes.listDue<{ results: CheckResult[] }>("results", T0, 10);
  assert.deepEqual(due.value.results, [raw]);
});

Deno.test("a fractional response time is rounded in seed 002's integer column only", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  const precise = { ...result(T0, true), response_time_ms: 42.6 };
  await stores.workers.queueResults([precise], T0);
  const [row] = await db.sql`select response_time_ms from public.check_results`;
  assert.equal(row.response_time_ms, 43);
  const [due] = await stores.lanes.listDue<{ results: CheckResult[] }>("results", T0, 10);
  assert.deepEqual(due.value.results, [precise]);
});

Deno.test("a monitor written by hand, of no Hibiki job, is not served even with an owner", async () => {
  await using db = await freshDatabase();
  const stores = createPostgresStores(db.sql);
  await db.sql`insert into public.workers (id, name) values ('aws-tyo1a', 'AWS Tokyo 1a')`;
  // Its results would become runs of a job that does not exist: kept, never shown, never alerting.
  await db.sql`insert into public.monitors (id, name, url, expected_status_code, hibiki_user_id)
    values ('550e8400-e29b-41d4-a716-446655440000', 'API Health Check',
      'https://api.example.com/health', 200, 'default')`;
  await db.sql`insert into public.monitor_worker_schedule
      (monitor_id, worker_id, check_interval_seconds)
    values ('550e8400-e29b-41d4-a716-446655440000', 'aws-tyo1a', 300)`;
  assert.deepEqual(await stores.workers.listMonitors("aws-tyo1a"), []);
  assert.deepEqual(
    await stores.workers.monitorOwners("aws-tyo1a", ["550e8400-e29b-41d4-a716-446655440000"]),
    new Map(),
  );
});

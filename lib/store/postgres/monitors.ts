/**
 * Jobs as Pingmon monitors (seed 002), in seed 002's own tables: a job assigned to probe
 * workers is a row of `monitors` (its id, `is_active` = enabled) with one
 * `monitor_worker_schedule` row per worker, written in the same transaction as the job. So the
 * seed's get-monitors query, run on the database, answers what `get-monitors-to-check` does.
 */
import { parseSchedule } from "../../schedule/schedule.ts";
import type { Job, Monitor } from "../types.ts";
import { seedText, type Tx } from "./util.ts";

/** Keeps a job's monitor rows in step with it (call inside the job's own transaction). */
export async function writeMonitors(tx: Tx, before: Job | null, after: Job | null) {
  const id = (after ?? before)!.id;
  const workers = after?.workers ?? [];
  if (workers.length === 0) {
    if ((before?.workers ?? []).length > 0) {
      await tx`delete from public.monitors where id = ${id}::uuid`;
    }
    return;
  }
  const job = after!;
  const status = job.expect?.status;
  await tx`insert into public.monitors ${
    tx({
      id,
      name: seedText(job.name),
      url: seedText(job.url),
      method: job.method,
      headers: tx.json(seedHeaders(job.headers)),
      body: seedText(job.body),
      timeout_seconds: Math.ceil(job.timeoutMs / 1000),
      expected_status_code: typeof status === "number" ? status : status?.[0] ?? null,
      expected_body_contains: seedText(job.expect?.bodyContains ?? null),
      is_active: job.enabled,
      hibiki_user_id: job.userId,
    })
  }
    on conflict (id) do update set name = excluded.name, url = excluded.url,
      method = excluded.method, headers = excluded.headers, body = excluded.body,
      timeout_seconds = excluded.timeout_seconds,
      expected_status_code = excluded.expected_status_code,
      expected_body_contains = excluded.expected_body_contains,
      is_active = excluded.is_active, hibiki_user_id = excluded.hibiki_user_id,
      updated_at = now()`;
  const interval = intervalSeconds(job);
  const rows = workers.map((w) => ({
    monitor_id: id,
    worker_id: w.workerId,
    check_minute: w.checkMinute,
    check_second: w.checkSecond,
    check_interval_seconds: interval,
  }));
  await tx`delete from public.monitor_worker_schedule
    where monitor_id = ${id}::uuid
      and not (worker_id = any(${workers.map((w) => w.workerId)}::text[]))`;
  await tx`insert into public.monitor_worker_schedule ${tx(rows)}
    on conflict (monitor_id, worker_id) do update set check_minute = excluded.check_minute,
      check_second = excluded.check_second,
      check_interval_seconds = excluded.check_interval_seconds`;
}

/** Interval of a worker-checked job, read by the one schedule parser; 0 for cron schedules. */
function intervalSeconds(job: Job): number {
  const schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
  return schedule.kind === "interval" ? schedule.everyMs / 1000 : 0;
}

/** A row of seed 002's get-monitors query as the edge API answers it. */
export function monitorOf(row: Record<string, unknown>): Monitor {
  return {
    monitor_id: row.monitor_id as string,
    name: row.name as string,
    url: row.url as string,
    method: row.method as string,
    headers: (row.headers as Record<string, string> | null) ?? {},
    body: row.body as string | null,
    timeout_seconds: row.timeout_seconds as number,
    expected_status_code: row.expected_status_code as number | null,
    expected_body_contains: row.expected_body_contains as string | null,
    check_minute: row.check_minute as number,
    check_second: row.check_second as number,
    check_interval_seconds: row.check_interval_seconds as number,
  };
}

/** Headers for seed 002's jsonb column, which refuses U+0000 as its text columns do. */
function seedHeaders(headers: Record<string, string> | null): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [seedText(name), seedText(value)]),
  );
}

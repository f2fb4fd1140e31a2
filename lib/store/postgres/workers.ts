/**
 * Probe workers in seed 002's `workers` table, and the monitors each checks read with the
 * seed's own get-monitors query (`monitors` joined with `monitor_worker_schedule`, written
 * with their jobs: monitors.ts). Accepted results land in `check_results` and, in the same
 * transaction, in the results lane to be turned into runs.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import { type CheckResult, type ResultChunk, type Worker, WORKER_ID } from "../types.ts";
import type { MonitorEntry, WorkerStore } from "../workers.ts";
import type { Sql } from "./connect.ts";
import { monitorOf } from "./monitors.ts";
import { asJson, itemKey, seedText } from "./util.ts";

/** Results per lane item: a chunk the results lane takes at once. */
const CHUNK = 500;
/** A monitor id as `monitors.id` (uuid) holds it; results carry them lower-cased. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class PgWorkerStore implements WorkerStore {
  constructor(private readonly sql: Sql) {}

  async create(worker: Worker): Promise<void> {
    const inserted = await this.sql`insert into public.workers
        (id, name, is_active, last_seen_at, created_at)
      values (${worker.id}, ${worker.name}, ${worker.is_active}, ${worker.last_seen_at},
        ${worker.created_at})
      on conflict do nothing`;
    if (inserted.count === 0) {
      throw new ConflictError(`Cannot create worker: "${worker.id}" already exists`);
    }
  }

  async get(workerId: string): Promise<Worker | null> {
    if (!WORKER_ID.test(workerId)) return null;
    const [row] = await this.sql`select * from public.workers where id = ${workerId}`;
    return row ? workerOf(row) : null;
  }

  async list(): Promise<Worker[]> {
    return (await this.sql`select * from public.workers order by id`).map(workerOf);
  }

  async update(workerId: string, change: (worker: Worker) => Worker): Promise<Worker> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select * from public.workers where id = ${workerId} for update`;
      if (!row) throw new NotFoundError(`Worker "${workerId}" not found`);
      const next = change(workerOf(row));
      await tx`update public.workers set name = ${next.name}, is_active = ${next.is_active}
        where id = ${workerId}`;
      return next;
    });
  }

  async touch(workerId: string, now: number): Promise<void> {
    await this.sql`update public.workers
      set last_seen_at = greatest(last_seen_at, ${new Date(now).toISOString()}::timestamptz)
      where id = ${workerId}`;
  }

  async listMonitors(workerId: string): Promise<MonitorEntry[]> {
    // Seed 002's query, with the owning Hibiki user beside it. Only a Hibiki job's monitor is
    // served: a row written by hand, owner or not, would turn its results into runs of no job.
    const rows = await this.sql`select m.id::text as monitor_id, m.name, m.url, m.method,
        m.headers, m.body, m.timeout_seconds, m.expected_status_code, m.expected_body_contains,
        mws.check_minute, mws.check_second, mws.check_interval_seconds, m.hibiki_user_id
      from public.monitors m
      inner join public.monitor_worker_schedule mws on m.id = mws.monitor_id
      where mws.worker_id = ${workerId} and m.is_active = true
        and exists (select 1 from public.hibiki_jobs j
          where j.user_id = m.hibiki_user_id and j.id = m.id::text)
      order by m.id`;
    return rows.map((r) => ({ userId: r.hibiki_user_id as string, monitor: monitorOf(r) }));
  }

  async monitorOwners(
    workerId: string,
    monitorIds: readonly string[],
  ): Promise<Map<string, string>> {
    // The batch's own monitors by key, decided as listMonitors decides: ~5 ms for 1000 of a
    // worker's 10,000, where reading (and decoding) the whole list took ~50 ms a batch.
    const ids = [...new Set(monitorIds.filter((id) => UUID.test(id)))];
    if (ids.length === 0 || !WORKER_ID.test(workerId)) return new Map();
    const rows = await this.sql`select m.id::text as monitor_id, m.hibiki_user_id
      from public.monitor_worker_schedule mws
      join public.monitors m on m.id = mws.monitor_id
      where mws.monitor_id = any(${ids}::uuid[]) and mws.worker_id = ${workerId}
        and m.is_active = true
        and exists (select 1 from public.hibiki_jobs j
          where j.user_id = m.hibiki_user_id and j.id = m.id::text)`;
    return new Map(rows.map((r) => [r.monitor_id as string, r.hibiki_user_id as string]));
  }

  async queueResults(results: CheckResult[], at: number): Promise<void> {
    if (results.length === 0) return;
    const batchId = crypto.randomUUID();
    const rows = results.map((r) => ({
      ...r,
      // The seed's integer columns refuse 42.5, which the API takes (any non-negative number).
      status_code: r.status_code === null ? null : Math.round(r.status_code),
      response_time_ms: r.response_time_ms === null ? null : Math.round(r.response_time_ms),
      error_message: seedText(r.error_message),
      response_body_sample: seedText(r.response_body_sample),
    }));
    const ids: string[] = [];
    const chunks: string[] = [];
    for (let i = 0; i * CHUNK < results.length; i++) {
      const chunk: ResultChunk = { results: results.slice(i * CHUNK, (i + 1) * CHUNK) };
      ids.push(itemKey([batchId, i]));
      chunks.push(JSON.stringify(chunk));
    }
    // One statement, so one round trip and atomic without a transaction: a batch is rows of
    // seed 002's table and the lane's chunks, or neither. The rows come as one json
    // parameter (~20% faster than 8 parameters a row); the chunks as json text, which keeps a
    // "\u0000" that json_to_recordset would refuse.
    await this.sql`with seed as (
        insert into public.check_results (monitor_id, checked_at, status_code,
          response_time_ms, success, error_message, response_body_sample, worker_id)
        select * from json_to_recordset(${asJson(this.sql, rows)}) as r(monitor_id uuid,
          checked_at timestamptz, status_code integer, response_time_ms integer,
          success boolean, error_message text, response_body_sample text, worker_id text)
      )
      insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
      select 'results', 0, ${at}, c.item_id, c.value, nextval('public.hibiki_version')
      from unnest(${ids}::text[], ${chunks}::text[]::json[]) as c(item_id, value)`;
  }
}

function workerOf(row: Record<string, unknown>): Worker {
  const iso = (value: unknown) => value === null ? null : new Date(value as Date).toISOString();
  return {
    id: row.id as string,
    name: row.name as string,
    is_active: row.is_active as boolean,
    last_seen_at: iso(row.last_seen_at),
    created_at: iso(row.created_at)!,
  };
}

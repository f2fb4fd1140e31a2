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
import { asJson, itemKey, nextVersion, seedText } from "./util.ts";

/** Results per lane item: a chunk the results lane takes at once. */
const CHUNK = 500;

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

  async monitorOwners(workerId: string): Promise<Map<string, string>> {
    const entries = await this.listMonitors(workerId);
    return new Map(entries.map((e) => [e.monitor.monitor_id, e.userId]));
  }

  async queueResults(results: CheckResult[], at: number): Promise<void> {
    if (results.length === 0) return;
    const batchId = crypto.randomUUID();
    await this.sql.begin(async (tx) => {
      await tx`insert into public.check_results ${
        tx(results.map((r) => ({
          monitor_id: r.monitor_id,
          checked_at: r.checked_at,
          status_code: r.status_code,
          response_time_ms: r.response_time_ms,
          success: r.success,
          error_message: seedText(r.error_message),
          response_body_sample: seedText(r.response_body_sample),
          worker_id: r.worker_id,
        })))
      }`;
      const version = await nextVersion(tx);
      for (let i = 0; i * CHUNK < results.length; i++) {
        const chunk: ResultChunk = { results: results.slice(i * CHUNK, (i + 1) * CHUNK) };
        await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
          values ('results', 0, ${at}, ${itemKey([batchId, i])}, ${asJson(tx, chunk)},
            ${version})`;
      }
    });
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

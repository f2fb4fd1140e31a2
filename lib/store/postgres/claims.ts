/**
 * The scheduler's claims in Postgres (`ClaimStore`): a job's due entry is its row of
 * `hibiki_due`; a claim moves it forward `where version = <as read>` and writes the held
 * leases of its fires (each leased until its own time) and the missed records, in one
 * transaction. Every lease of a claim carries the claim's version as `Lease.ahead`, so
 * starting a fire is one compare-and-set. Wake-ups go out as `NOTIFY hibiki_wake`, sent by
 * Postgres only if the claim commits.
 */
import type { ClaimStore, DueJob, FireClaim } from "../claims.ts";
import type { Lease } from "../lanes.ts";
import type { Sql } from "./connect.ts";
import { asJson, itemKey, leaseRef, nextVersion } from "./util.ts";

/** The channel claims notify with the delays of their wake-ups (ms, comma-separated). */
export const WAKE_CHANNEL = "hibiki_wake";

class Lost extends Error {}

export class PgClaimStore implements ClaimStore {
  constructor(private readonly sql: Sql) {}

  async listDue(before: number, limit: number): Promise<DueJob[]> {
    if (limit <= 0) return [];
    const rows = await this.sql`select * from public.hibiki_due where at < ${before}
      order by at, user_id, job_id limit ${limit}`;
    return rows.map(dueJob);
  }

  async getDue(userId: string, jobId: string): Promise<DueJob | null> {
    const [row] = await this.sql`select * from public.hibiki_due
      where user_id = ${userId} and job_id = ${jobId}`;
    return row ? dueJob(row) : null;
  }

  async claim(
    claims: readonly FireClaim[],
    wakeAfterMs: readonly number[],
  ): Promise<Lease[][] | null> {
    try {
      return await this.sql.begin(async (tx) => {
        const version = await nextVersion(tx);
        // All the entries as read, locked at once; one another process holds is lost to it.
        const read = await tx`select d.user_id from public.hibiki_due d
          join jsonb_to_recordset(${tx.json(claims.map((c) => c.due) as never)})
            as x("userId" text, "jobId" text, version text)
            on d.user_id = x."userId" and d.job_id = x."jobId" and d.version = x.version::bigint
          for update of d skip locked`;
        if (read.length !== claims.length) throw new Lost();
        for (const { due, fires, fire, missed, nextAt } of claims) {
          const { userId, jobId } = due;
          const moved = nextAt === null
            ? await tx`delete from public.hibiki_due where user_id = ${userId}
                and job_id = ${jobId} and version = ${Number(due.version)}`
            : await tx`update public.hibiki_due set at = ${nextAt}, version = ${version}
                where user_id = ${userId} and job_id = ${jobId}
                  and version = ${Number(due.version)}`;
          if (moved.count === 0) throw new Lost();
          const item = itemKey([userId, jobId, "local"]);
          for (const at of fires) {
            await tx`insert into public.hibiki_lane_items
                (lane, until, at, item_id, value, version)
              values ('fire', ${at}, ${at}, ${item}, ${asJson(tx, fire)}, ${version})
              on conflict (lane, until, at, item_id) do update set value = excluded.value,
                version = excluded.version`;
          }
          if (missed.length > 0) {
            const rows = missed.map((run) => ({
              user_id: userId,
              job_id: jobId,
              scheduled_at: Date.parse(run.scheduledAt),
              suffix: run.where,
              status: run.status,
              run: asJson(tx, run),
            }));
            const inserted = await tx`insert into public.hibiki_runs ${tx(rows)}
              on conflict do nothing`;
            await tx`update public.hibiki_jobs set runs_stored = runs_stored + ${inserted.count}
              where user_id = ${userId} and id = ${jobId}`;
          }
        }
        if (wakeAfterMs.length > 0) {
          await tx`select pg_notify(${WAKE_CHANNEL}, ${wakeAfterMs.join(",")})`;
        }
        return claims.map(({ due, fires }) =>
          fires.map((at) => ({
            ref: leaseRef("fire", at, at, [due.userId, due.jobId, "local"]),
            until: at,
            ahead: String(version),
          }))
        );
      });
    } catch (error) {
      if (error instanceof Lost) return null;
      throw error;
    }
  }
}

function dueJob(row: Record<string, unknown>): DueJob {
  const due: DueJob = {
    userId: row.user_id as string,
    jobId: row.job_id as string,
    at: row.at as number,
    schedule: row.schedule as string,
    timezone: row.timezone as string,
    timeoutMs: row.timeout_ms as number,
    version: String(row.version),
  };
  const shiftMs = row.shift_ms as number;
  if (shiftMs > 0) due.shiftMs = shiftMs;
  return due;
}

/**
 * The scheduler's claims in Postgres (`ClaimStore`): a job's due entry is its row of
 * `hibiki_due`. A batch of claims locks the rows still as read (`for update skip locked`),
 * moves them forward and writes the held leases of their fires (each leased until its own
 * time) and the missed records, in one transaction. Rows another process is claiming at that
 * moment are left to it, so two processes ticking together split a burst's jobs between them.
 * Every lease of a claim carries the claim's version as `Lease.ahead`, so starting a fire is
 * one compare-and-set. Wake-ups go out as `NOTIFY hibiki_wake`, sent by Postgres only if the
 * claims commit.
 */
import type { ClaimStore, DueJob, FireClaim } from "../claims.ts";
import type { Lease } from "../lanes.ts";
import type { Sql } from "./connect.ts";
import { asJson, itemKey, leaseRef, nextVersion } from "./util.ts";

/** The channel claims notify with the delays of their wake-ups (ms, comma-separated). */
export const WAKE_CHANNEL = "hibiki_wake";

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
  ): Promise<(Lease[] | null)[]> {
    if (claims.length === 0) return [];
    const keys = claims.map(({ due }, n) => ({
      n,
      user_id: due.userId,
      job_id: due.jobId,
      version: Number(due.version),
    }));
    return await this.sql.begin(async (tx) => {
      // The entries still as read, locked at once. One another process is claiming right now
      // is skipped, not waited for: it is that process's, and this one moves on. (Two ticks
      // list the same entries; waiting would line them up behind each other on every batch.)
      const locked = await tx`select x.n from public.hibiki_due d
        join jsonb_to_recordset(${tx.json(keys as never)})
          as x(n int, user_id text, job_id text, version bigint)
          on d.user_id = x.user_id and d.job_id = x.job_id and d.version = x.version
        for update of d skip locked`;
      const won = new Set(locked.map((row) => row.n as number));
      if (won.size === 0) return claims.map(() => null);
      const mine = claims.filter((_, n) => won.has(n));
      const version = await nextVersion(tx);
      // One statement per kind of write, whatever the batch's size: a claim's round trips
      // are what other processes' claims and starts wait behind.
      const moved = mine.filter((c) => c.nextAt !== null).map(({ due, nextAt }) => ({
        user_id: due.userId,
        job_id: due.jobId,
        at: nextAt,
      }));
      if (moved.length > 0) {
        await tx`update public.hibiki_due d set at = x.at, version = ${version}
          from jsonb_to_recordset(${tx.json(moved as never)})
            as x(user_id text, job_id text, at bigint)
          where d.user_id = x.user_id and d.job_id = x.job_id`;
      }
      const ended = mine.filter((c) => c.nextAt === null).map(({ due }) => ({
        user_id: due.userId,
        job_id: due.jobId,
      }));
      if (ended.length > 0) {
        await tx`delete from public.hibiki_due d
          using jsonb_to_recordset(${tx.json(ended as never)}) as x(user_id text, job_id text)
          where d.user_id = x.user_id and d.job_id = x.job_id`;
      }
      const fires = mine.flatMap(({ due, fires, fire }) =>
        fires.map((at) => ({ at, item_id: itemKey([due.userId, due.jobId, "local"]), value: fire }))
      );
      if (fires.length > 0) {
        // As json, not jsonb: a fire's value is kept as the json it was written as.
        await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
          select 'fire', x.at, x.at, x.item_id, x.value, ${version}
          from json_to_recordset(${asJson(tx, fires)}) as x(at bigint, item_id text, value json)
          on conflict (lane, until, at, item_id) do update set value = excluded.value,
            version = excluded.version`;
      }
      for (const { due: { userId, jobId }, missed } of mine) {
        if (missed.length === 0) continue;
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
      if (wakeAfterMs.length > 0) {
        await tx`select pg_notify(${WAKE_CHANNEL}, ${wakeAfterMs.join(",")})`;
      }
      return claims.map(({ due, fires }, n) =>
        won.has(n)
          ? fires.map((at) => ({
            ref: leaseRef("fire", at, at, [due.userId, due.jobId, "local"]),
            until: at,
            ahead: String(version),
          }))
          : null
      );
    });
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

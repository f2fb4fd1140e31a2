/**
 * Heartbeat pings in Postgres (`HeartbeatStore`): the token index (`hibiki_ping_tokens`, a
 * SHA-256 → its job, kept in step with the job by `writePingIndex` in the job's own
 * transaction), the `/start` mark (`hibiki_ping_starts`, one row per job), and the late check's
 * question, answered from the job's runs by one range query of the window.
 *
 * Both rows carry a version from the one sequence, new on every write. `pingFacts` hands out
 * the versions it read (a row's absence too) as guards; `recordRun` checks them with
 * `checkGuards`, so a ping written on facts remembered from earlier is refused once its job was
 * paused, deleted or given a start since, as the KV store refuses it.
 */
import type { HeartbeatStore, PingFacts, PingTarget } from "../heartbeats.ts";
import type { Job } from "../types.ts";
import type { Sql } from "./connect.ts";
import type { Tx } from "./util.ts";

/** One row as `pingFacts` read it: its version, null when there was none. */
type PingGuard =
  | { kind: "pg-ping-token"; tokenHash: string; version: number | null }
  | { kind: "pg-ping-start"; userId: string; jobId: string; version: number | null };

export class PgHeartbeatStore implements HeartbeatStore {
  constructor(private readonly sql: Sql) {}

  async findByTokenHash(tokenHash: string): Promise<PingTarget | null> {
    const [row] = await this.sql`select user_id, job_id, enabled from public.hibiki_ping_tokens
      where token_hash = ${tokenHash}`;
    return row ? target(row) : null;
  }

  async pingFacts(
    tokenHash: string,
    { userId, jobId }: { userId: string; jobId: string },
  ): Promise<PingFacts> {
    const [row] = await this.sql`select t.user_id, t.job_id, t.enabled, t.version as t_version,
        s.at, s.version as s_version
      from (select 1) one
      left join public.hibiki_ping_tokens t on t.token_hash = ${tokenHash}
      left join public.hibiki_ping_starts s on s.user_id = ${userId} and s.job_id = ${jobId}`;
    const found = row.user_id === null ? null : target(row);
    const current = found?.userId === userId && found.jobId === jobId ? found : null;
    // A start past START_TTL_MS stays until replaced, cleared or its job deleted (one row per
    // job at most): the ping receiver ignores it.
    const startedAt = row.at as number | null;
    const guards: PingGuard[] = [
      { kind: "pg-ping-token", tokenHash, version: row.t_version as number | null },
      { kind: "pg-ping-start", userId, jobId, version: row.s_version as number | null },
    ];
    return { target: current, startedAt, guards };
  }

  async markStart(userId: string, jobId: string, at: number): Promise<void> {
    await this.sql`insert into public.hibiki_ping_starts (user_id, job_id, at, version)
      values (${userId}, ${jobId}, ${at}, nextval('public.hibiki_version'))
      on conflict (user_id, job_id) do update set at = excluded.at, version = excluded.version`;
  }

  async clearStart(userId: string, jobId: string, at: number): Promise<void> {
    // A start that came meanwhile is a new run of the job: only the one made at `at` goes.
    await this.sql`delete from public.hibiki_ping_starts
      where user_id = ${userId} and job_id = ${jobId} and at = ${at}`;
  }

  async successPingBetween(
    userId: string,
    jobId: string,
    { from, to }: { from: number; to: number },
  ): Promise<boolean> {
    if (to < from) return false;
    const [row] = await this.sql`select 1 from public.hibiki_runs
      where user_id = ${userId} and job_id = ${jobId}
        and scheduled_at between ${from} and ${to}
        and status = 'success' and run->'ping' is not null
      limit 1`;
    return row !== undefined;
  }
}

/**
 * Keeps a heartbeat job's token index in step with it, in the job's own transaction. The
 * token row is written on every change of the job (a new version), as the KV store sets its
 * entry, so a ping guarded by an older read reads the job again.
 */
export async function writePingIndex(tx: Tx, before: Job | null, after: Job | null): Promise<void> {
  const old = before?.heartbeat?.tokenHash;
  const now = after?.heartbeat?.tokenHash;
  if (old && old !== now) {
    await tx`delete from public.hibiki_ping_tokens where token_hash = ${old}`;
  }
  if (before?.heartbeat && !after) {
    await tx`delete from public.hibiki_ping_starts
      where user_id = ${before.userId} and job_id = ${before.id}`;
  }
  if (after && now) {
    await tx`insert into public.hibiki_ping_tokens (token_hash, user_id, job_id, enabled, version)
      values (${now}, ${after.userId}, ${after.id}, ${after.enabled},
        nextval('public.hibiki_version'))
      on conflict (token_hash) do update set user_id = excluded.user_id,
        job_id = excluded.job_id, enabled = excluded.enabled, version = excluded.version`;
  }
}

/**
 * Whether every guard (`RunCompletion.guards`, from `pingFacts`) still holds, in the run's
 * transaction. The rows are read `for share`: a change of them waits for the run's commit, so
 * the run and the facts it went by commit as one. Called after the run's update of its job row,
 * which an update of the job locks first too: the two never wait on each other in a circle.
 */
export async function checkGuards(tx: Tx, guards: readonly unknown[]): Promise<boolean> {
  for (const guard of guards as PingGuard[]) {
    const rows = guard.kind === "pg-ping-token"
      ? await tx`select version from public.hibiki_ping_tokens
          where token_hash = ${guard.tokenHash} for share`
      : guard.kind === "pg-ping-start"
      ? await tx`select version from public.hibiki_ping_starts
          where user_id = ${guard.userId} and job_id = ${guard.jobId} for share`
      : null;
    if (rows === null) throw new TypeError("Cannot check a guard another store handed out");
    const version = (rows[0]?.version as number | undefined) ?? null;
    if (version !== guard.version) return false;
  }
  return true;
}

function target(row: Record<string, unknown>): PingTarget {
  return {
    userId: row.user_id as string,
    jobId: row.job_id as string,
    enabled: row.enabled as boolean,
  };
}

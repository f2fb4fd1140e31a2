/**
 * Records in Postgres (`Store`): jobs with their counters, scheduler due entry, search words
 * and monitor rows; runs, written by `recordRun` in one transaction with everything that goes
 * with them; API keys. A change of a job locks its row (`for update`), so concurrent changes
 * apply one after another instead of retrying.
 */
import { type Clock, systemClock } from "../../clock.ts";
import { ConflictError, NotFoundError } from "../../errors.ts";
import { nameWords } from "../job_words.ts";
import type {
  JobChange,
  JobForRun,
  JobStateCounts,
  JobSummary,
  ListOptions,
  Retention,
  RunCompletion,
  RunFacts,
  Store,
  StoredJob,
} from "../store.ts";
import type { ApiKey, Job, JobQuery, Page, Run, WebhookRecord } from "../types.ts";
import { parseRunId } from "../run_id.ts";
import { fireShiftMs } from "../claims.ts";
import { ALERT_STATES, type AlertState } from "../../alerts/types.ts";
import { decodeRecent, RECENT_ENTRY_BYTES, RECENT_MAX, recentEntry } from "../recent_results.ts";
import type { Sql } from "./connect.ts";
import type { VersionedAlertState } from "../alert_items.ts";
import { addDecide, purgeJobAlerts, writeDecisionWithRun } from "./alerts.ts";
import { checkGuards, writePingIndex } from "./heartbeats.ts";
import { writeMonitors } from "./monitors.ts";
import { writeOutbox } from "./outbox.ts";
import { writeRuns } from "./run_batch.ts";
import { refuseGuards } from "../run_guards.ts";
import { asJson, isUniqueViolation, nextVersion, page, releaseLease, type Tx } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

export interface PgStoreOptions {
  /** Judges the age of runs to prune. */
  clock?: Clock;
  /** Runs kept per job (the configuration's `runRetention`). */
  retention?: Retention;
}

/** The channel a deleted job notifies on (payload `purge`): lib/store/postgres/wakeups.ts. */
export const CHORE_CHANNEL = "hibiki_chore";

const DEFAULT_RETENTION: Retention = { count: 1000, maxAgeMs: 30 * 86_400_000 };
/** Pruning happens in steps, once this many runs over the limit have piled up. */
const PRUNE_SLACK = 50;
const PRUNE_BATCH = 500;
const PURGE_BATCH = 1000;
/** Sorts after every string that starts with the same prefix (the words are in "C" order). */
const HIGHEST = "\u{10FFFF}";
/** The bytes of the latest results kept: the ring's capacity. */
const RECENT_BYTES = RECENT_MAX * RECENT_ENTRY_BYTES;

type Row = Record<string, unknown>;

/** Rolls back a run whose guards no longer hold. */
class Refused extends Error {}

export class PgStore implements Store {
  private readonly clock: Clock;
  private readonly retention: Retention;

  constructor(private readonly sql: Sql, options: PgStoreOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.retention = options.retention ?? DEFAULT_RETENTION;
  }

  async createJob(job: Job, firstFireAt: number | null): Promise<void> {
    try {
      await this.sql.begin(async (tx) => {
        await tx`insert into public.hibiki_jobs (user_id, id, job, enabled, words)
          values (${job.userId}, ${job.id}, ${asJson(tx, job)}, ${job.enabled},
            ${nameWords(job.name)})`;
        await writeWords(tx, null, job);
        if (firstFireAt !== null) await writeDue(tx, job, firstFireAt);
        await writeMonitors(tx, null, job);
        await writePingIndex(tx, null, job);
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictError(`Cannot create job: id "${job.id}" already exists`);
      }
      throw error;
    }
  }

  async getJob(userId: string, jobId: string): Promise<StoredJob | null> {
    const [row] = await this.sql`select job, count, last_run_at from public.hibiki_jobs
      where user_id = ${userId} and id = ${jobId}`;
    return row ? storedJob(row) : null;
  }

  async getJobForRun(userId: string, jobId: string): Promise<JobForRun | null> {
    const [row] = await this.sql`select j.job, j.count, j.last_run_at, j.runs_stored,
        w.webhook, w.failing_since, a.state as alert_state, a.version as alert_version
      from public.hibiki_jobs j
      left join public.hibiki_webhooks w on w.user_id = j.user_id and w.job_id = j.id
      left join public.hibiki_alert_states a on a.user_id = j.user_id and a.job_id = j.id
      where j.user_id = ${userId} and j.id = ${jobId}`;
    if (!row) return null;
    return {
      ...storedJob(row),
      runsStored: row.runs_stored as number,
      webhook: (row.webhook as WebhookRecord | null) ?? null,
      webhookFailingSince: (row.failing_since as number | null) ?? null,
      alertState: {
        state: (row.alert_state as VersionedAlertState["state"]) ?? null,
        version: row.alert_version === null ? null : String(row.alert_version),
      },
    };
  }

  async listJobs(userId: string, options: ListOptions): Promise<Page<StoredJob>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, job, count, last_run_at from public.hibiki_jobs
      where user_id = ${userId} ${after === undefined ? this.sql`` : this.sql`and id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, storedJob, (r) => [r.id as string]);
  }

  async updateJob(
    userId: string,
    jobId: string,
    change: (job: Job, duePointer: number | null) => JobChange,
  ): Promise<Job> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select j.job, d.at from public.hibiki_jobs j
        left join public.hibiki_due d on d.user_id = j.user_id and d.job_id = j.id
        where j.user_id = ${userId} and j.id = ${jobId} for update of j`;
      if (!row) throw new NotFoundError(`Cannot update job: job "${jobId}" not found`);
      const before = row.job as Job;
      const next = change(before, (row.at as number | null) ?? null);
      const after = next.job;
      // A decision locks the job's row too (`PgAlertStore.decide`): pausing waits for it.
      await tx`update public.hibiki_jobs set job = ${asJson(tx, after)},
          enabled = ${after.enabled}, words = ${nameWords(after.name)}
        where user_id = ${userId} and id = ${jobId}`;
      await writeWords(tx, before, after);
      await writeMonitors(tx, before, after);
      await writePingIndex(tx, before, after);
      const withdraw = next.withdrawFires ?? [];
      if (withdraw.length > 0) {
        const item = JSON.stringify([userId, jobId, "local"]);
        // Held ahead (leased until its own time) or handed back waiting.
        await tx`delete from public.hibiki_lane_items
          where lane = 'fire' and item_id = ${item} and at = any(${withdraw}::bigint[])
            and (until = 0 or until = at)`;
      }
      if (next.firstFireAt === null) {
        await tx`delete from public.hibiki_due where user_id = ${userId} and job_id = ${jobId}`;
      } else if (next.firstFireAt !== undefined) {
        await writeDue(tx, after, next.firstFireAt);
      }
      return after;
    });
  }

  async deleteJob(userId: string, jobId: string): Promise<void> {
    await this.sql.begin(async (tx) => {
      const [row] = await tx`delete from public.hibiki_jobs
        where user_id = ${userId} and id = ${jobId} returning job`;
      if (!row) throw new NotFoundError(`Cannot delete job: job "${jobId}" not found`);
      await tx`delete from public.hibiki_due where user_id = ${userId} and job_id = ${jobId}`;
      await writeWords(tx, row.job as Job, null);
      await tx`delete from public.hibiki_job_stats where user_id = ${userId} and job_id = ${jobId}`;
      await tx`delete from public.hibiki_alert_states
        where user_id = ${userId} and job_id = ${jobId}`;
      await writeMonitors(tx, row.job as Job, null);
      await writePingIndex(tx, row.job as Job, null);
      // Its runs and deliveries go later, in batches (`purgeDeletedJobs`).
      await tx`insert into public.hibiki_purges (user_id, job_id) values (${userId}, ${jobId})
        on conflict do nothing`;
      // Sent only if this commits, as the KV store's queued purge is.
      await tx`select pg_notify(${CHORE_CHANNEL}, 'purge')`;
    });
  }

  async purgeDeletedJobs(): Promise<number> {
    let removed = 0;
    const tombstones = await this.sql`select user_id, job_id from public.hibiki_purges`;
    for (const { user_id: userId, job_id: jobId } of tombstones) {
      const u = userId as string;
      const j = jobId as string;
      const batches = [
        () =>
          this.sql`delete from public.hibiki_runs where (user_id, job_id, scheduled_at, suffix) in (
            select user_id, job_id, scheduled_at, suffix from public.hibiki_runs
            where user_id = ${u} and job_id = ${j} limit ${PURGE_BATCH})`,
        () =>
          this.sql`delete from public.hibiki_deliveries where id in (
            select id from public.hibiki_deliveries
            where user_id = ${u} and job_id = ${j} limit ${PURGE_BATCH})`,
      ];
      for (const batch of batches) {
        for (;;) {
          const deleted = await batch();
          removed += deleted.count;
          if (deleted.count < PURGE_BATCH) break;
        }
      }
      removed += await purgeJobAlerts(this.sql, u, j);
      await this.sql`delete from public.hibiki_purges
        where user_id = ${userId as string} and job_id = ${jobId as string}`;
    }
    return removed;
  }

  async searchJobs(userId: string, query: JobQuery): Promise<Page<StoredJob>> {
    const words = nameWords(query.q ?? "");
    if (words.length === 0 && !query.state) return await this.listJobs(userId, query);
    const sql = this.sql;
    const after = decodeCursor(query.cursor, 1)?.[0] as string | undefined;
    const [lead, ...rest] = [...words].sort((a, b) => b.length - a.length);
    const conditions = [
      after === undefined ? sql`` : sql`and j.id > ${after}`,
      // The longest word through the word index; the others checked on the candidates.
      lead === undefined ? sql`` : sql`and j.id in (select job_id from public.hibiki_job_words
        where user_id = ${userId} and word >= ${lead} and word < ${lead + HIGHEST})`,
      ...rest.map((w) =>
        sql`and exists (select 1 from unnest(j.words) w where starts_with(w, ${w}))`
      ),
      query.state
        ? sql`and (case when j.enabled then j.alert_state else 'paused' end) = ${query.state}`
        : sql``,
    ];
    const rows = await sql`select j.id, j.job, j.count, j.last_run_at from public.hibiki_jobs j
      where j.user_id = ${userId} ${conditions.reduce((a, b) => sql`${a} ${b}`)}
      order by j.id limit ${query.limit + 1}`;
    return page(rows, query.limit, storedJob, (r) => [r.id as string]);
  }

  async countJobStates(userId: string): Promise<JobStateCounts> {
    // One index range of the owner's jobs (hibiki_jobs_shown): a few ms at 10,000 jobs.
    const rows = await this.sql`select case when enabled then alert_state else 'paused' end
        as shown, count(*)::int as n
      from public.hibiki_jobs where user_id = ${userId} group by 1`;
    const counts = Object.fromEntries(ALERT_STATES.map((s) => [s, 0])) as JobStateCounts;
    for (const row of rows) {
      if (row.shown in counts) counts[row.shown as AlertState] = row.n as number;
    }
    return counts;
  }

  async jobSummaries(userId: string, jobIds: readonly string[]): Promise<JobSummary[]> {
    if (jobIds.length === 0) return [];
    const rows = await this.sql`select k.n, j.recent, a.state->>'state' as alert_state
      from unnest(${jobIds as string[]}::text[]) with ordinality as k(job_id, n)
      left join public.hibiki_jobs j on j.user_id = ${userId} and j.id = k.job_id
      left join public.hibiki_alert_states a on a.user_id = ${userId} and a.job_id = k.job_id
      order by k.n`;
    return rows.map((r) => ({
      recent: decodeRecent(r.recent as Uint8Array | null),
      alertState: (r.alert_state as AlertState | null) ?? null,
    }));
  }

  async recordRun(c: RunCompletion): Promise<boolean> {
    const { userId, jobId } = c.run;
    const written = await this.sql.begin(async (tx) => {
      // Inside: a ping's facts must still hold at its commit (see `checkGuards`).
      // Another copy of this run writing at once waits here for it, then finds it.
      const inserted = await tx`insert into public.hibiki_runs
          (user_id, job_id, scheduled_at, suffix, status, run)
        values (${userId}, ${jobId}, ${c.scheduledAt}, ${c.suffix}, ${c.run.status},
          ${asJson(tx, c.run)})
        on conflict do nothing`;
      if (c.lease) await releaseLease(tx, c.lease);
      if (inserted.count === 0) return false;
      const startedAt = c.run.startedAt ? Date.parse(c.run.startedAt) : c.scheduledAt;
      // The latest results: the run's bytes appended, the oldest beyond the ring's size cut.
      await tx`update public.hibiki_jobs set runs_stored = runs_stored + 1,
          count = count + ${c.counts ? 1 : 0},
          last_run_at = case when ${c.counts} then greatest(last_run_at, ${startedAt})
            else last_run_at end,
          recent = substring(coalesce(recent, ''::bytea) || ${recentEntry(c.run)}::bytea
            from greatest(1, octet_length(coalesce(recent, ''::bytea)) + ${
        RECENT_ENTRY_BYTES - RECENT_BYTES + 1
      }))
        where user_id = ${userId} and id = ${jobId}`;
      // The facts a ping went by changed: nothing of it is written, the caller reads again.
      if (c.guards && !(await checkGuards(tx, c.guards))) throw new Refused();
      if (c.outbox) await writeOutbox(tx, c.outbox);
      const decided = c.decided ? await writeDecisionWithRun(tx, c.decided.decision) : null;
      // The state is decided from it, at once by this process or by the alert lane.
      if (decided === null && c.decide) await addDecide(tx, c.decide);
      return { decided };
    }).catch((error) => {
      if (error instanceof Refused) return null;
      throw error;
    });
    if (!written) return false;
    if (c.decided && written.decided !== null) {
      c.decided.applied = true;
      c.decided.version = written.decided;
    }
    this.maybePrune(c);
    return true;
  }

  async recordRuns(completions: readonly RunCompletion[]): Promise<boolean[]> {
    refuseGuards(completions);
    if (completions.length === 0) return [];
    const { written, decided } = await this.sql.begin((tx) => writeRuns(tx, completions));
    // Only now that the decisions carried are committed.
    completions.forEach((c, i) => {
      const version = decided[i];
      if (c.decided && version !== null) {
        c.decided.applied = true;
        c.decided.version = version;
      }
    });
    // A job's runs were counted together: pruned once, if any of them asks for it.
    const prune = new Map<string, RunCompletion>();
    completions.forEach((c, i) => {
      if (written[i] && needsPrune(c, this.retention)) {
        prune.set(`${c.run.userId} ${c.run.jobId}`, c);
      }
    });
    for (const c of prune.values()) this.prune(c);
    return written;
  }

  private maybePrune(c: RunCompletion): void {
    if (needsPrune(c, this.retention)) this.prune(c);
  }

  private prune(c: RunCompletion): void {
    this.pruneRuns(c.run.userId, c.run.jobId).catch((error) =>
      console.error(`Cannot prune runs of job "${c.run.jobId}": ${(error as Error).message}`)
    );
  }

  /**
   * Deletes the oldest runs beyond the retention count or age, a batch per transaction so no
   * lock is held long; returns how many.
   */
  async pruneRuns(userId: string, jobId: string): Promise<number> {
    const cutoff = this.clock.now() - this.retention.maxAgeMs;
    let removed = 0;
    for (;;) {
      const deleted = await this.sql.begin(async (tx) => {
        const [job] = await tx`select runs_stored from public.hibiki_jobs
          where user_id = ${userId} and id = ${jobId} for update`;
        if (!job) return 0;
        const over = Math.max(0, (job.runs_stored as number) - this.retention.count);
        const rows = await tx`delete from public.hibiki_runs
          where (user_id, job_id, scheduled_at, suffix) in (
            select user_id, job_id, scheduled_at, suffix from (
              select user_id, job_id, scheduled_at, suffix,
                row_number() over (order by scheduled_at, suffix) as n
              from public.hibiki_runs where user_id = ${userId} and job_id = ${jobId}
              order by scheduled_at, suffix limit ${PRUNE_BATCH}
            ) oldest where n <= ${over} or scheduled_at < ${cutoff})`;
        if (rows.count > 0) {
          await tx`update public.hibiki_jobs set runs_stored = runs_stored - ${rows.count}
            where user_id = ${userId} and id = ${jobId}`;
        }
        return rows.count;
      });
      removed += deleted;
      if (deleted < PRUNE_BATCH) return removed;
    }
  }

  async runFacts(jobs: readonly (readonly [string, string])[]): Promise<RunFacts[]> {
    if (jobs.length === 0) return [];
    const rows = await this.sql`select k.n, j.runs_stored, j.last_run_at,
        (w.job_id is not null) as has_webhook
      from unnest(${jobs.map((j) => j[0])}::text[], ${jobs.map((j) => j[1])}::text[])
        with ordinality as k(user_id, job_id, n)
      left join public.hibiki_jobs j on j.user_id = k.user_id and j.id = k.job_id
      left join public.hibiki_webhooks w on w.user_id = k.user_id and w.job_id = k.job_id
      order by k.n`;
    return rows.map((r) => ({
      runsStored: (r.runs_stored as number | null) ?? 0,
      lastRunAt: (r.last_run_at as number | null) ?? 0,
      hasWebhook: r.has_webhook as boolean,
    }));
  }

  async listRuns(userId: string, jobId: string, options: ListOptions): Promise<Page<Run>> {
    const after = decodeCursor(options.cursor, 2) as [number, string] | null;
    const rows = await this.sql`select scheduled_at, suffix, run from public.hibiki_runs
      where user_id = ${userId} and job_id = ${jobId}
        ${after ? this.sql`and (scheduled_at, suffix) < (${after[0]}, ${after[1]})` : this.sql``}
      order by scheduled_at desc, suffix desc limit ${options.limit + 1}`;
    return page(
      rows,
      options.limit,
      (r) => r.run as Run,
      (r) => [r.scheduled_at as number, r.suffix as string],
    );
  }

  async getRun(userId: string, jobId: string, runId: string): Promise<Run | null> {
    const parsed = parseRunId(runId);
    if (!parsed) return null;
    const [row] = await this.sql`select run from public.hibiki_runs
      where user_id = ${userId} and job_id = ${jobId} and scheduled_at = ${parsed.scheduledAt}
        and suffix = ${parsed.suffix}`;
    return (row?.run as Run | undefined) ?? null;
  }

  async createApiKey(key: ApiKey): Promise<void> {
    const inserted = await this.sql`insert into public.hibiki_api_keys (user_id, id, hash, key)
      values (${key.userId}, ${key.id}, ${key.hash}, ${asJson(this.sql, key)})
      on conflict do nothing`;
    if (inserted.count === 0) throw new ConflictError("Cannot create API key: key already exists");
  }

  async findApiKeyByHash(hash: string): Promise<ApiKey | null> {
    const [row] = await this.sql`select key from public.hibiki_api_keys where hash = ${hash}`;
    return (row?.key as ApiKey | undefined) ?? null;
  }

  async listApiKeys(userId: string, options: ListOptions): Promise<Page<ApiKey>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, key from public.hibiki_api_keys
      where user_id = ${userId} ${after === undefined ? this.sql`` : this.sql`and id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.key as ApiKey, (r) => [r.id as string]);
  }

  async deleteApiKey(userId: string, keyId: string): Promise<void> {
    const deleted = await this.sql`delete from public.hibiki_api_keys
      where user_id = ${userId} and id = ${keyId}`;
    if (deleted.count === 0) {
      throw new NotFoundError(`Cannot delete API key: key "${keyId}" not found`);
    }
  }

  async ping(): Promise<void> {
    await this.sql`select 1`;
  }
}

/** Whether the job's runs are to be pruned once this one is written. */
function needsPrune(c: RunCompletion, retention: Retention): boolean {
  const stored = c.runsStored + 1;
  return stored > retention.count + PRUNE_SLACK || stored % 100 === 0;
}

function storedJob(row: Row): StoredJob {
  const last = row.last_run_at as number;
  return { job: row.job as Job, count: row.count as number, lastRunAt: last > 0 ? last : null };
}

/** Writes a job's due entry at `at`, with a new version: claims read before it fail. */
async function writeDue(tx: Tx, job: Job, at: number): Promise<void> {
  const version = await nextVersion(tx);
  await tx`insert into public.hibiki_due
      (user_id, job_id, at, schedule, timezone, timeout_ms, shift_ms, version)
    values (${job.userId}, ${job.id}, ${at}, ${job.schedule}, ${job.timezone},
      ${job.timeoutMs}, ${fireShiftMs(job)}, ${version})
    on conflict (user_id, job_id) do update set at = excluded.at,
      schedule = excluded.schedule, timezone = excluded.timezone,
      timeout_ms = excluded.timeout_ms, shift_ms = excluded.shift_ms,
      version = excluded.version`;
}

/** Keeps the search index's words of a job in step with its name. */
async function writeWords(tx: Tx, before: Job | null, after: Job | null): Promise<void> {
  const owner = (after ?? before)!.userId;
  const id = (after ?? before)!.id;
  const kept = after ? nameWords(after.name) : [];
  const gone = (before ? nameWords(before.name) : []).filter((w) => !kept.includes(w));
  if (gone.length > 0) {
    await tx`delete from public.hibiki_job_words
      where user_id = ${owner} and job_id = ${id} and word = any(${gone}::text[])`;
  }
  if (kept.length > 0) {
    await tx`insert into public.hibiki_job_words (user_id, word, job_id)
      select ${owner}, w, ${id} from unnest(${kept}::text[]) w
      on conflict do nothing`;
  }
}

/**
 * Records in Deno KV: jobs (with their scheduler pointer and indexes), runs and API keys.
 * The scheduler's claims and the lanes' items are `claims.ts` and `lanes.ts`.
 */
import { type Clock, systemClock } from "../../clock.ts";
import { ConflictError, NotFoundError, ValidationError } from "../../errors.ts";
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
import { claimedFireKeys, dueEntry } from "./claims.ts";
import type { JobAlertState } from "../../alerts/types.ts";
import { initialState } from "../../alerts/state_machine.ts";
import { decodeRecent } from "../recent_results.ts";
import { purgeJobAlerts } from "./alerts.ts";
import { getMany } from "./get_many.ts";
import {
  countJobStates,
  KvJobSearch,
  moveJobState,
  shownState,
  upgradeJobStates,
  writeJobIndex,
} from "./job_index.ts";
import { type JobTally, unpackTally } from "./job_tally.ts";
import { JOB_PARTS, kvKeys, runsOnly } from "./keys.ts";
import { decodeCursor, encodeCursor } from "../cursor.ts";
import { type JobMemory, jobMemoryOf } from "./job_memory.ts";
import { writeMonitors } from "./monitors.ts";
import { writePingIndex } from "./heartbeats.ts";
import { runsKept, RunWriter } from "./run_writer.ts";
import { parseRunId } from "../run_id.ts";
import { refuseGuards } from "../run_guards.ts";

export type { JobForRun, StoredJob };

export interface KvStoreOptions {
  /** Judges the age of runs to prune. */
  clock?: Clock;
  /** Runs kept per job (the configuration's `runRetention`). */
  retention?: Retention;
}

/** The configuration's defaults: 1000 runs, 30 days. */
const DEFAULT_RETENTION: Retention = { count: 1000, maxAgeMs: 30 * 86_400_000 };

const MAX_ATTEMPTS = 20;

export class KvStore implements Store {
  private readonly runs: RunWriter;
  private readonly search: KvJobSearch;
  /** Jobs as last read or written here, so a run of an unchanged job reads nothing. */
  private readonly memory: JobMemory;

  constructor(readonly kv: Deno.Kv, options: KvStoreOptions = {}) {
    this.memory = jobMemoryOf(kv);
    this.runs = new RunWriter(
      kv,
      options.clock ?? systemClock,
      options.retention ?? DEFAULT_RETENTION,
    );
    this.search = new KvJobSearch(kv, this);
  }

  /** Writes a new job and, if it should fire, its entry in the scheduler index. */
  async createJob(job: Job, firstFireAt: number | null): Promise<void> {
    const op = this.kv.atomic()
      .check({ key: kvKeys.job(job.userId, job.id), versionstamp: null })
      .set(kvKeys.job(job.userId, job.id), job)
      .set(kvKeys.jobDue(job.userId, job.id), firstFireAt)
      .set(kvKeys.jobOwner(job.id), job.userId);
    if (firstFireAt !== null) {
      op.set(kvKeys.due(firstFireAt, job.userId, job.id), dueEntry(job));
    }
    writeMonitors(op, null, job);
    writeJobIndex(op, null, job);
    writePingIndex(op, null, job);
    moveJobState(op, job.userId, job.id, null, shownState(null, job.enabled));
    const result = await op.commit();
    if (!result.ok) throw new ConflictError(`Cannot create job: id "${job.id}" already exists`);
  }

  async getJob(userId: string, jobId: string): Promise<StoredJob | null> {
    const [job, tally] = await this.kv.getMany<[Job, Uint8Array]>([
      kvKeys.job(userId, jobId),
      kvKeys.jobTally(userId, jobId),
    ]);
    if (!job.value) return null;
    return storedJob(job.value, unpackTally(tally.value));
  }

  async getJobForRun(userId: string, jobId: string): Promise<JobForRun | null> {
    const known = await this.memory.recall(userId, jobId);
    if (known) return known;
    const since = this.memory.current;
    const forRun = await this.readJobForRun(userId, jobId);
    if (forRun) this.memory.remember(userId, jobId, forRun, since);
    return forRun;
  }

  remembersJob(userId: string, jobId: string): boolean {
    return this.memory.knows(userId, jobId);
  }

  keepMemory(): Promise<void> {
    return this.memory.keepWarm();
  }

  private async readJobForRun(userId: string, jobId: string): Promise<JobForRun | null> {
    const keys = [
      kvKeys.job(userId, jobId),
      kvKeys.runsAdjust(userId, jobId),
      kvKeys.webhook(userId, jobId),
      kvKeys.webhookFailing(userId, jobId),
      kvKeys.jobTally(userId, jobId),
      kvKeys.alertState(userId, jobId),
    ];
    const [job, adjust, webhook, failing, recent, alert] = await getMany(this.kv, keys);
    if (!job.value) return null;
    const tally = unpackTally(recent.value as Uint8Array | null);
    return {
      ...storedJob(job.value as Job, tally),
      runsStored: runsKept(tally.count, adjust.value as Deno.KvU64 | null),
      webhook: (webhook.value as WebhookRecord | null) ?? null,
      webhookFailingSince: failing.value ? Number((failing.value as Deno.KvU64).value) : null,
      recent: { ring: recent.value as Uint8Array | null, version: recent.versionstamp },
      alertState: {
        state: alert.value as JobAlertState | null,
        version: alert.versionstamp,
      },
    };
  }

  /**
   * A range read of the owner's jobs with their parts (`JOB_PARTS` keys at most each), up to one
   * job more than the page (a job without a next fire owns fewer keys, so where a read of so
   * many keys ends says nothing), then their tallies in one read. The cursor is the last job
   * shown.
   */
  async listJobs(userId: string, options: ListOptions): Promise<Page<StoredJob>> {
    const prefix = kvKeys.jobsOf(userId);
    const [after] = (decodeCursor(options.cursor, 1) ?? []) as string[];
    // Past every key of the last job shown: its id and parts sort before its id + "\0".
    const selector = after === undefined
      ? { prefix }
      : { prefix, start: [...prefix, `${after}\0`] };
    const iter = this.kv.list<unknown>(selector, {
      batchSize: Math.min(500, (options.limit + 1) * JOB_PARTS),
    });
    const jobs: Job[] = [];
    let more = false;
    for await (const entry of iter) {
      if (entry.key.length !== 3) continue;
      more = jobs.length === options.limit; // a job past the page: there is a next one
      if (more) break;
      jobs.push(entry.value as Job);
    }
    const tallies = await getMany(this.kv, jobs.map((job) => kvKeys.jobTally(userId, job.id)));
    return {
      values: jobs.map((job, i) => storedJob(job, unpackTally(tallies[i].value as Uint8Array))),
      cursor: more ? encodeCursor([jobs.at(-1)!.id]) : null,
    };
  }

  /**
   * Changes a job with compare-and-set: `change` receives the current job and returns the
   * new one plus its new first fire time (`undefined` keeps the scheduler pointer as it is).
   */
  async updateJob(
    userId: string,
    jobId: string,
    change: (job: Job, duePointer: number | null) => JobChange,
  ): Promise<Job> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [current, due, alert] = await this.kv.getMany<[Job, number | null, JobAlertState]>([
        kvKeys.job(userId, jobId),
        kvKeys.jobDue(userId, jobId),
        kvKeys.alertState(userId, jobId),
      ]);
      if (!current.value) throw new NotFoundError(`Cannot update job: job "${jobId}" not found`);
      const next = change(current.value, due.value);
      const op = this.kv.atomic()
        .check(current)
        .check(due)
        .set(kvKeys.job(userId, jobId), next.job);
      if (current.value.enabled !== next.job.enabled) {
        // Paused or resumed: the state shown moves, and the alert state is written again (the
        // same record, a new version) so a decision based on the job as it was fails its check
        // and is made again on the job as it is (see AlertDecision.enabled).
        const state = alert.value ??
          initialState(userId, jobId, Date.parse(current.value.createdAt));
        op.check(alert).set(kvKeys.alertState(userId, jobId), state);
        moveJobState(
          op,
          userId,
          jobId,
          shownState(alert.value?.state, current.value.enabled),
          shownState(alert.value?.state, next.job.enabled),
        );
      }
      writeMonitors(op, current.value, next.job);
      for (const at of next.withdrawFires ?? []) {
        for (const key of claimedFireKeys(at, userId, jobId)) op.delete(key);
      }
      writeJobIndex(op, current.value, next.job);
      writePingIndex(op, current.value, next.job);
      if (next.firstFireAt !== undefined) {
        if (due.value !== null) op.delete(kvKeys.due(due.value, userId, jobId));
        op.set(kvKeys.jobDue(userId, jobId), next.firstFireAt);
        if (next.firstFireAt !== null) {
          op.set(kvKeys.due(next.firstFireAt, userId, jobId), dueEntry(next.job));
        }
      }
      if (await this.memory.commitChange(op, userId, jobId)) return next.job;
    }
    throw new ConflictError(`Cannot update job "${jobId}": too many concurrent changes`);
  }

  /**
   * Deletes a job and its scheduler entry; its runs are removed by `purgeDeletedJobs`, run
   * from the queue message committed with the deletion (and at every start).
   */
  async deleteJob(userId: string, jobId: string): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const [current, due, alert] = await this.kv.getMany<[Job, number | null, JobAlertState]>([
        kvKeys.job(userId, jobId),
        kvKeys.jobDue(userId, jobId),
        kvKeys.alertState(userId, jobId),
      ]);
      if (!current.value) throw new NotFoundError(`Cannot delete job: job "${jobId}" not found`);
      const op = this.kv.atomic()
        .check(current)
        .check(due)
        .check(alert)
        .delete(kvKeys.jobTally(userId, jobId))
        .delete(kvKeys.job(userId, jobId))
        .delete(kvKeys.jobDue(userId, jobId))
        .delete(kvKeys.jobOwner(jobId))
        .delete(kvKeys.webhook(userId, jobId))
        .delete(kvKeys.webhookFailing(userId, jobId))
        .delete(kvKeys.jobStats(userId, jobId))
        .delete(kvKeys.alertState(userId, jobId))
        .set(kvKeys.purge(userId, jobId), true)
        // The chore of removing its runs is queued with the tombstone, so it is never lost.
        .enqueue({ type: "purge" });
      if (due.value !== null) op.delete(kvKeys.due(due.value, userId, jobId));
      writeMonitors(op, current.value, null);
      writeJobIndex(op, current.value, null);
      writePingIndex(op, current.value, null);
      moveJobState(op, userId, jobId, shownState(alert.value?.state, current.value.enabled), null);
      if (await this.memory.commitChange(op, userId, jobId)) return;
    }
    throw new ConflictError(`Cannot delete job "${jobId}": too many concurrent changes`);
  }

  /** Removes the runs and deliveries of deleted jobs; safe to run from several instances. */
  async purgeDeletedJobs(): Promise<number> {
    // The start-up chore: also where a store from before the state index is upgraded.
    await upgradeJobStates(this.kv);
    let removed = 0;
    for await (const tombstone of this.kv.list({ prefix: kvKeys.purges() })) {
      const [, userId, jobId] = tombstone.key as [string, string, string];
      removed += await this.deleteAll(runsOnly(userId, jobId), () => []);
      removed += await this.deleteAll(
        { prefix: kvKeys.deliveriesOf(userId, jobId) },
        (key) => [kvKeys.deliveryRef(key[4] as string)],
      );
      removed += await purgeJobAlerts(this.kv, userId, jobId);
      // A run recorded after the deletion may have written its results and state again.
      await this.kv.atomic().check(tombstone).delete(tombstone.key)
        .delete(kvKeys.runsAdjust(userId, jobId)).delete(kvKeys.jobTally(userId, jobId))
        .delete(kvKeys.alertState(userId, jobId)).commit();
    }
    return removed;
  }

  /** Deletes every key `selector` lists, with the keys `related` names for each, in batches. */
  private async deleteAll(
    selector: Deno.KvListSelector,
    related: (key: Deno.KvKey) => Deno.KvKey[],
  ): Promise<number> {
    let removed = 0;
    for (;;) {
      const keys: Deno.KvKey[] = [];
      let entries = 0;
      for await (const entry of this.kv.list(selector, { limit: 200 })) {
        keys.push(entry.key, ...related(entry.key));
        entries++;
      }
      if (entries === 0) return removed;
      const op = this.kv.atomic();
      for (const key of keys) op.delete(key);
      await op.commit();
      removed += entries;
    }
  }

  searchJobs(userId: string, query: JobQuery): Promise<Page<StoredJob>> {
    return this.search.page(userId, query);
  }

  countJobStates(userId: string): Promise<JobStateCounts> {
    return countJobStates(this.kv, userId);
  }

  async jobSummaries(userId: string, jobIds: readonly string[]): Promise<JobSummary[]> {
    const keys = jobIds.flatMap((
      id,
    ) => [kvKeys.jobTally(userId, id), kvKeys.alertState(userId, id)]);
    const entries = await getMany(this.kv, keys);
    return jobIds.map((_, i) => ({
      recent: decodeRecent(unpackTally(entries[2 * i].value as Uint8Array | null).ring),
      alertState: (entries[2 * i + 1].value as JobAlertState | null)?.state ?? null,
    }));
  }

  async recordRun(completion: RunCompletion): Promise<boolean> {
    return this.remembered(completion, await this.runs.record(completion));
  }

  /** Tells the memory of jobs about a run recorded (or found recorded already). */
  private remembered(completion: RunCompletion, written: boolean): boolean {
    this.memory.recorded(completion, written);
    return written;
  }

  /**
   * Run by run, a job's one after another (so they reach its latest results in the order
   * given) and jobs side by side: the writer folds runs that arrive together into shared
   * commits anyway.
   */
  async recordRuns(completions: readonly RunCompletion[]): Promise<boolean[]> {
    refuseGuards(completions);
    const written = completions.map(() => false);
    const byJob = Map.groupBy(completions.keys(), (i) => {
      const { userId, jobId } = completions[i].run;
      return JSON.stringify([userId, jobId]);
    });
    await Promise.all([...byJob.values()].map(async (ofJob) => {
      for (const i of ofJob) {
        written[i] = this.remembered(completions[i], await this.runs.record(completions[i]));
      }
    }));
    return written;
  }

  pruneRuns(userId: string, jobId: string): Promise<number> {
    this.memory.forget(userId, jobId);
    return this.runs.prune(userId, jobId);
  }

  async runFacts(jobs: readonly (readonly [string, string])[]): Promise<RunFacts[]> {
    const keys = jobs.flatMap(([userId, jobId]) => [
      kvKeys.runsAdjust(userId, jobId),
      kvKeys.webhook(userId, jobId),
      kvKeys.jobTally(userId, jobId),
    ]);
    const entries = await getMany(this.kv, keys);
    return jobs.map((_, i) => {
      const [adjust, webhook, recent] = entries.slice(i * 3, i * 3 + 3);
      const tally = unpackTally(recent.value as Uint8Array | null);
      return {
        runsStored: runsKept(tally.count, adjust.value as Deno.KvU64 | null),
        lastRunAt: tally.lastRunAt,
        hasWebhook: webhook.value !== null,
        recent: { ring: recent.value as Uint8Array | null, version: recent.versionstamp },
      };
    });
  }

  async listRuns(userId: string, jobId: string, options: ListOptions): Promise<Page<Run>> {
    const iter = this.kv.list<Run>(
      runsOnly(userId, jobId),
      { limit: options.limit, cursor: options.cursor, reverse: true },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    const cursor = values.length === options.limit ? iter.cursor : null;
    return { values, cursor: cursor || null };
  }

  async getRun(userId: string, jobId: string, runId: string): Promise<Run | null> {
    const parsed = parseRunId(runId);
    if (!parsed) return null;
    const key = kvKeys.run(userId, jobId, parsed.scheduledAt, parsed.suffix);
    return (await this.kv.get<Run>(key)).value;
  }

  async createApiKey(key: ApiKey): Promise<void> {
    const result = await this.kv.atomic()
      .check({ key: kvKeys.apiKeyByHash(key.hash), versionstamp: null })
      .set(kvKeys.apiKey(key.userId, key.id), key)
      .set(kvKeys.apiKeyByHash(key.hash), { userId: key.userId, keyId: key.id })
      .commit();
    if (!result.ok) throw new ConflictError("Cannot create API key: key already exists");
  }

  async findApiKeyByHash(hash: string): Promise<ApiKey | null> {
    const ref = await this.kv.get<{ userId: string; keyId: string }>(kvKeys.apiKeyByHash(hash));
    if (!ref.value) return null;
    return (await this.kv.get<ApiKey>(kvKeys.apiKey(ref.value.userId, ref.value.keyId))).value;
  }

  async listApiKeys(userId: string, options: ListOptions): Promise<Page<ApiKey>> {
    const iter = this.kv.list<ApiKey>(
      { prefix: kvKeys.apiKeysOf(userId) },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    const cursor = values.length === options.limit ? iter.cursor : null;
    return { values, cursor: cursor || null };
  }

  async deleteApiKey(userId: string, keyId: string): Promise<void> {
    const entry = await this.kv.get<ApiKey>(kvKeys.apiKey(userId, keyId));
    if (!entry.value) throw new NotFoundError(`Cannot delete API key: key "${keyId}" not found`);
    await this.kv.atomic()
      .check(entry)
      .delete(entry.key)
      .delete(kvKeys.apiKeyByHash(entry.value.hash))
      .commit();
  }

  async ping(): Promise<void> {
    await this.kv.get(kvKeys.ping());
  }
}

/** Reads a listing, turning a cursor Deno KV cannot decode into a client error. */
export async function collect<T>(iter: Deno.KvListIterator<T>): Promise<Deno.KvEntry<T>[]> {
  const out: Deno.KvEntry<T>[] = [];
  try {
    for await (const entry of iter) out.push(entry);
  } catch (error) {
    if (error instanceof TypeError && /cursor/i.test(error.message)) {
      throw new ValidationError("cursor is not a cursor this API returned", "cursor");
    }
    throw error;
  }
  return out;
}

function storedJob(job: Job, tally: JobTally): StoredJob {
  return { job, count: tally.count, lastRunAt: tally.lastRunAt > 0 ? tally.lastRunAt : null };
}

/**
 * The records store: jobs, runs and API keys. Deno KV implements it today (`KvStore`); a
 * Postgres/Supabase implementation can follow, while the scheduler's claims, pending fires
 * and leases stay in Deno KV. Two rules any implementation must keep:
 * - a job write and its scheduler index entry are one atomic write, or the scheduler must be
 *   able to rebuild the index from the jobs;
 * - writing a run is idempotent by its id (jobId, scheduledAt, where), so a fire retried after
 *   a crash is stored once.
 */
import type { ApiKey, Job, Page, Run } from "./types.ts";

/** A job with its raw counters, before fire times are computed for display. */
export interface StoredJob {
  job: Job;
  count: number;
  lastRunAt: number | null;
}

/** A job as the runner reads it: also how many runs are kept, to know when to prune. */
export interface JobForRun extends StoredJob {
  runsStored: number;
}

export interface ListOptions {
  cursor?: string;
  limit: number;
}

export interface Store {
  /** Writes a new job and, when `firstFireAt` is set, its scheduler index entry. */
  createJob(job: Job, firstFireAt: number | null): Promise<void>;
  getJob(userId: string, jobId: string): Promise<StoredJob | null>;
  getJobForRun(userId: string, jobId: string): Promise<JobForRun | null>;
  findJobOwner(jobId: string): Promise<string | null>;
  listJobs(userId: string, options: ListOptions): Promise<Page<StoredJob>>;
  /**
   * Compare-and-set change: `change` gets the current job and returns the new one with its
   * new first fire time (`undefined` leaves the scheduler entry as it is).
   */
  updateJob(
    userId: string,
    jobId: string,
    change: (job: Job) => { job: Job; firstFireAt: number | null | undefined },
  ): Promise<Job>;
  deleteJob(userId: string, jobId: string): Promise<void>;
  /** Removes the runs of deleted jobs; returns how many. */
  purgeDeletedJobs(): Promise<number>;
  listRuns(userId: string, jobId: string, options: ListOptions): Promise<Page<Run>>;
  getRun(userId: string, jobId: string, runId: string): Promise<Run | null>;
  createApiKey(key: ApiKey): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKey | null>;
  listApiKeys(userId: string, options: ListOptions): Promise<Page<ApiKey>>;
  deleteApiKey(userId: string, keyId: string): Promise<void>;
  /** Resolves when the store answers a read. */
  ping(): Promise<void>;
}

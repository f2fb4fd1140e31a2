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
import type { WebhookRecord } from "../webhooks/types.ts";

/** A job with its raw counters, before fire times are computed for display. */
export interface StoredJob {
  job: Job;
  count: number;
  lastRunAt: number | null;
}

/** A job as the runner reads it, with what a run needs in the same read. */
export interface JobForRun extends StoredJob {
  /** Runs kept, to know when to prune. */
  runsStored: number;
  /** The job's webhook record (seed 003), or null: its outbox is written with the run. */
  webhook: WebhookRecord | null;
  /** Since when the webhook's deliveries have all failed (epoch ms), null when they do not. */
  webhookFailingSince: number | null;
  /** When this was read (epoch ms); set by the runner, to judge how current it still is. */
  readAt?: number;
  /** The job's state in the dashboard index (its last run's outcome), null when none. */
  state: "up" | "down" | null;
}

/** A job's new state, from `Store.updateJob`'s change function. */
export interface JobChange {
  job: Job;
  /** The new first fire time; `undefined` leaves the scheduler entry as it is. */
  firstFireAt: number | null | undefined;
  /** Leases of fires claimed under the old schedule, to withdraw in the same write. */
  cancel?: Deno.KvKey[];
}

export interface ListOptions {
  cursor?: string;
  limit: number;
}

export interface Store {
  /** Writes a new job and, when `firstFireAt` is set, its scheduler index entry. */
  createJob(job: Job, firstFireAt: number | null): Promise<void>;
  getJob(userId: string, jobId: string): Promise<StoredJob | null>;
  /** One read for a run: the job, its counters and its webhook. */
  getJobForRun(userId: string, jobId: string): Promise<JobForRun | null>;
  listJobs(userId: string, options: ListOptions): Promise<Page<StoredJob>>;
  /**
   * Compare-and-set change: `change` gets the current job and its scheduler pointer (the
   * first fire time not yet claimed) and returns the new state.
   */
  updateJob(
    userId: string,
    jobId: string,
    change: (job: Job, duePointer: number | null) => JobChange,
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

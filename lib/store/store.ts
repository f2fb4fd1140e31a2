/**
 * The Store contract: every record Hibiki keeps, in domain types only. Deno KV implements it
 * (`lib/store/kv/`); a Postgres implementation can follow and must pass the same contract
 * suite (`contract_test_suite.ts`). The lanes' items and leases and the scheduler's claims have
 * their own contracts (`lanes.ts`, `claims.ts`), kept by the same store. Rules any
 * implementation must keep:
 * - a job write and its scheduler index entry are one atomic write, or the scheduler must be
 *   able to rebuild the index from the jobs;
 * - a run is written by `recordRun` alone, with everything that goes with it in one commit,
 *   and idempotently by its id (jobId, scheduledAt, where): a fire retried after a crash, or a
 *   worker's batch sent twice, is stored once.
 */
import type { LeaseRef } from "./lanes.ts";
import type { DecidedAhead, DecideRequest, VersionedAlertState } from "./alert_items.ts";
import type { AlertState } from "../alerts/types.ts";
import type { RecentResult } from "./recent_results.ts";
import type { ApiKey, Delivery, Job, JobQuery, Page, Run, WebhookRecord } from "./types.ts";

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
  /** The job's latest results as read with it, handed back with the run (`RunCompletion`). */
  recent?: RecentRing;
  /** The job's alert state as read with it, for the run's decision (see lib/alerts/engine.ts). */
  alertState?: VersionedAlertState;
}

/** A job's new state, from `Store.updateJob`'s change function. */
export interface JobChange {
  job: Job;
  /** The new first fire time; `undefined` leaves the scheduler entry as it is. */
  firstFireAt: number | null | undefined;
  /**
   * Times of the job's fires claimed ahead under the old schedule and not started (held, or
   * handed back waiting by a process that stopped), withdrawn in the same write.
   */
  withdrawFires?: readonly number[];
}

/** A run's webhook delivery, written with the run (the outbox). */
export interface OutboxDelivery {
  delivery: Delivery;
  /**
   * Leased to the writing process until then (epoch ms), which sends it at once; absent, the
   * delivery is queued for its `nextAttemptAt`.
   */
  heldUntil?: number;
}

/** A finished run and what goes with it, for `Store.recordRun`. */
export interface RunCompletion {
  run: Run;
  scheduledAt: number;
  /** What makes the run unique at its time: where it ran (`local`, a worker id, …). */
  suffix: string;
  /** The fire's lease, released with the run. */
  lease: LeaseRef | null;
  /** Runs kept for the job before this one, to decide when to prune. */
  runsStored: number;
  /** Whether the run counts as an execution (`count`, `lastRunAt`). */
  counts: boolean;
  /**
   * The job's latest results as read before the run (`JobForRun.recent`, `RunFacts.recent`):
   * a store that must read them to append the run (Deno KV) is spared the read. Whatever is
   * given, the run lands in the ring once, even when another writer changed it meanwhile.
   */
  recent?: RecentRing;
  /** Webhook deliveries about the run. */
  outbox?: OutboxDelivery[];
  /**
   * Nobody waits on the write (a fire's run without webhook deliveries: its check is done and
   * its lease runs long): a store may hold it up to 100 ms to share a commit with other runs. A
   * run with deliveries is not held: they are sent once it is written.
   */
  mayWait?: boolean;
  /** The "decide (job, interval)" item the run feeds (see lib/store/alerts.ts). */
  decide?: DecideRequest;
  /**
   * The run's decision made ahead: written in the run's commit instead of `decide` if the
   * job's alert state is still as read (the store then sets `applied`), `decide` otherwise.
   * A store may always write `decide`; it never writes both, nor a decision whose state
   * changed since read.
   */
  decided?: DecidedAhead;
  /**
   * Entries the run was decided on, as the store handed them out (opaque outside it, see
   * `HeartbeatStore.pingFacts`): when one changed since, nothing is written and `recordRun`
   * resolves false, so the caller reads again and decides again. A heartbeat ping is written
   * against what it remembers of its job and start mark, with no read of its own.
   */
  guards?: readonly unknown[];
}

/** Kept runs of a job: at most `count`, none older than `maxAgeMs`. */
export interface Retention {
  count: number;
  maxAgeMs: number;
}

/** What writing a batch of a job's runs needs to know, read for many jobs at once. */
export interface RunFacts {
  /** Runs kept. */
  runsStored: number;
  /** When the job's newest counted run started (epoch ms), 0 when none. */
  lastRunAt: number;
  hasWebhook: boolean;
  /** The job's latest results as read, for `RunCompletion.recent`. */
  recent?: RecentRing;
}

/**
 * A job's latest results as a store read them (`lib/store/recent_results.ts` packs them; Deno
 * KV keeps the job's run count in the same value): value and version are the store's own and
 * opaque elsewhere.
 */
export interface RecentRing {
  ring: Uint8Array | null;
  version: string | null;
}

/** What a dashboard row needs besides the job: kept by the store, one small read a job. */
export interface JobSummary {
  /** The job's latest results (at most 50), oldest first. */
  recent: RecentResult[];
  /** Its decided alert state; null before the first decision. */
  alertState: AlertState | null;
}

/** Jobs by the state the dashboard shows: the alert state, `paused` when disabled. */
export type JobStateCounts = Record<AlertState, number>;

export interface ListOptions {
  cursor?: string;
  limit: number;
}

/**
 * How often a started system asks the store to keep its memory of jobs trusted
 * (`Store.keepMemory`): well inside the minute Deno KV's job change log keeps its entries
 * (lib/store/kv/job_memory.ts).
 */
export const KEEP_MEMORY_MS = 20_000;

export interface Store {
  /** Writes a new job and, when `firstFireAt` is set, its scheduler index entry. */
  createJob(job: Job, firstFireAt: number | null): Promise<void>;
  getJob(userId: string, jobId: string): Promise<StoredJob | null>;
  /** One read for a run: the job, its counters and its webhook. */
  getJobForRun(userId: string, jobId: string): Promise<JobForRun | null>;
  /** Whether `getJobForRun` would answer from memory now, reading nothing (absent: never). */
  remembersJob?(userId: string, jobId: string): boolean;
  /**
   * Keeps what `remembersJob` answers for trusted while no run asks; system.ts calls it every
   * KEEP_MEMORY_MS (absent: nothing to keep).
   */
  keepMemory?(): Promise<void>;
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
  /**
   * The dashboard's search: jobs whose name has the query's words, in a state (the alert
   * state, indexed where alerting decides it; `paused` for a disabled job).
   */
  searchJobs(userId: string, query: JobQuery): Promise<Page<StoredJob>>;
  /** The owner's jobs counted by that state, without reading them. */
  countJobStates(userId: string): Promise<JobStateCounts>;
  /** Latest results and alert states of jobs, in the order asked (empty for unknown ones). */
  jobSummaries(userId: string, jobIds: readonly string[]): Promise<JobSummary[]>;
  /**
   * Writes a finished run with its counters, the job's latest results, its lease's release,
   * its outbox and its decide item, in one commit. Resolves true when written, false when the run existed
   * (its lease is released all the same).
   */
  recordRun(completion: RunCompletion): Promise<boolean>;
  /**
   * Writes many finished runs as `recordRun` writes each (a chunk of a worker's results): each
   * run with everything that goes with it in one commit, a job's runs added to its latest
   * results in the order given. Resolves, in order, whether each was written: false when it
   * existed or repeats one earlier in the list. Takes no `guards` (a ping is written alone):
   * a completion with them is a TypeError.
   */
  recordRuns(completions: readonly RunCompletion[]): Promise<boolean[]>;
  /** Deletes a job's oldest runs beyond the retention; returns how many. */
  pruneRuns(userId: string, jobId: string): Promise<number>;
  /** Counters of jobs given as `[userId, jobId]`, in that order. */
  runFacts(jobs: readonly (readonly [string, string])[]): Promise<RunFacts[]>;
  listRuns(userId: string, jobId: string, options: ListOptions): Promise<Page<Run>>;
  getRun(userId: string, jobId: string, runId: string): Promise<Run | null>;
  createApiKey(key: ApiKey): Promise<void>;
  findApiKeyByHash(hash: string): Promise<ApiKey | null>;
  listApiKeys(userId: string, options: ListOptions): Promise<Page<ApiKey>>;
  deleteApiKey(userId: string, keyId: string): Promise<void>;
  /** Resolves when the store answers a read. */
  ping(): Promise<void>;
}

/** The contract for the dashboard's per-job 24-hour statistics records. */
import type { JobStatsRecord } from "./types.ts";

export interface JobStatsStore {
  /** The records of a user's jobs, in the order asked; null for a job without one. */
  get(userId: string, jobIds: string[]): Promise<(JobStatsRecord | null)[]>;
  /**
   * Compare-and-set change of several jobs' records: `change` gets each job's current record
   * (and its index in `jobs`) and returns the new one; it may run more than once. Gives up
   * quietly after a few conflicts: statistics are a tally, not a record of runs.
   */
  merge(
    jobs: readonly { userId: string; jobId: string }[],
    change: (current: JobStatsRecord | null, index: number) => JobStatsRecord,
  ): Promise<void>;
}

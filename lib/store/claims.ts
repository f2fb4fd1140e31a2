/**
 * The contract for the scheduler's claims ahead (lib/scheduler/scheduler.ts). Every job that
 * fires here has one due entry: its next fire time not yet claimed, with what planning its
 * fires needs. A claim moves the entry forward and leases the fires before it, in one commit
 * that holds only if the entry is still as listed: however many processes tick, a fire time
 * is claimed once. In SQL: one row per job with a version, locked `WHERE version = $listed`
 * (`FOR UPDATE SKIP LOCKED`) and moved in the same transaction as the fire lane's rows.
 *
 * Processes that tick together list the same entries. Each claim of a batch stands on its
 * own, so of two processes committing the same batch each keeps what it got first (on
 * Postgres: the rows the other is not holding) and moves on to the next batch, rather than
 * the later one losing the whole batch and retrying it entry by entry behind the other.
 *
 * The entry is written with its job (`Store.createJob`, `updateJob`, `deleteJob`); this side
 * only reads and advances it.
 */
import type { Lease } from "./lanes.ts";
import type { FireValue, Job, Run } from "./types.ts";

export interface DueJob {
  userId: string;
  jobId: string;
  /** The job's first fire time not claimed yet (epoch ms). */
  at: number;
  schedule: string;
  timezone: string;
  /** Sizes the lease of each fire, so a crashed run is retried soon after its deadline. */
  timeoutMs: number;
  /** Fires come this long after each time the schedule names (a heartbeat job's grace). */
  shiftMs?: number;
  /** Opaque: a claim holds only while the entry is still as read. */
  version: string;
}

/** One job's claim: its fires up to a horizon and where its entry moves. */
export interface FireClaim {
  due: DueJob;
  /**
   * Fire times claimed. Each becomes an item `[userId, jobId, "local"]` of the `fire` lane
   * holding `fire`, leased to the claimer until its own time (held ahead: `Lease.ahead`).
   */
  fires: readonly number[];
  fire: FireValue;
  /** Records of fires that passed unclaimed, written with the claim (runs, not executions). */
  missed: readonly Run[];
  /** The next fire time left unclaimed; null when the schedule has no more. */
  nextAt: number | null;
}

export interface ClaimStore {
  /** Due entries before `before` (epoch ms), earliest first, at most `limit`. */
  listDue(before: number, limit: number): Promise<DueJob[]>;
  /** One job's due entry; null when it has none (disabled, no more fires, deleted). */
  getDue(userId: string, jobId: string): Promise<DueJob | null>;
  /**
   * Commits each claim only if its entry is still as read (and, on a store with row locks, no
   * other process is claiming it at this moment). Returns, in the order of `claims`, the held
   * leases of each claim's fires (in the order of `fires`), or null for a claim that lost:
   * nothing of it was written. Claims that hold share commits. `wakeAfterMs` are wake-ups for
   * the lanes' listeners (Deno KV's queue, Postgres's NOTIFY), sent after those delays if any
   * claim commits.
   */
  claim(
    claims: readonly FireClaim[],
    wakeAfterMs: readonly number[],
  ): Promise<(Lease[] | null)[]>;
}

/** How long after each time its schedule names a job fires (`DueJob.shiftMs`): a heartbeat's grace. */
export function fireShiftMs(job: Job): number {
  return job.heartbeat ? job.heartbeat.graceSeconds * 1000 : 0;
}

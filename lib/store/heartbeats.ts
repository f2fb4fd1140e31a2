/**
 * The contract for heartbeat jobs' pings (lib/heartbeat/): finding a job by its ping token's
 * hash, the `/start` mark, and the question a late check asks. The pings themselves are runs,
 * written by `Store.recordRun` like every run; the token index is written with its job by
 * `Store.createJob`, `updateJob` and `deleteJob`, in the same commit.
 */

/** How long a `/start` waits for the ping that ends it (Healthchecks' MAX_DELTA). */
export const START_TTL_MS = 72 * 3_600_000;

/** The job a ping token names. */
export interface PingTarget {
  userId: string;
  jobId: string;
  /** False while the job is paused: its pings are kept but change nothing. */
  enabled: boolean;
}

/** What recording a ping needs to know, read in one go once its job is known. */
export interface PingFacts {
  /** The job as its token index says now (null: deleted, or the token is no longer its). */
  target: PingTarget | null;
  /** When the pending `/start` came (epoch ms), null when none is pending. */
  startedAt: number | null;
  /**
   * The two entries as read, for `RunCompletion.guards`: a ping recorded with them is written
   * only if neither changed (the job paused, deleted or given a start) since.
   */
  guards: readonly unknown[];
}

export interface HeartbeatStore {
  /** The job whose ping token hashes to `tokenHash` (SHA-256, hex), in one read. */
  findByTokenHash(tokenHash: string): Promise<PingTarget | null>;
  /**
   * The token's job as it is now and its pending start, in one read, with guards that keep a
   * run written on them from going by facts that changed: a caller may keep these facts and
   * write ping after ping on them, reading again only when a write is refused.
   */
  pingFacts(tokenHash: string, job: { userId: string; jobId: string }): Promise<PingFacts>;
  /**
   * Marks a start at `at` (epoch ms), replacing any earlier one. One older than START_TTL_MS
   * ends no run (the ping receiver checks); a store may also drop it then (Deno KV expires it).
   */
  markStart(userId: string, jobId: string, at: number): Promise<void>;
  /** Removes the start mark if it is still the one made at `at` (a newer start stays). */
  clearStart(userId: string, jobId: string, at: number): Promise<void>;
  /**
   * Whether a ping run of the job reporting success is stored with its time in `[from, to]`
   * (epoch ms, both ends included).
   */
  successPingBetween(
    userId: string,
    jobId: string,
    window: { from: number; to: number },
  ): Promise<boolean>;
}

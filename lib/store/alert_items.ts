/**
 * What a run's write carries for alerting (see lib/store/alerts.ts): the decide item and the
 * alert state read with the job. Apart from alerts.ts so that store.ts can name them.
 */
import type { JobAlertState } from "../alerts/types.ts";

/** A job's alert state as read for a decision; `version` is opaque, null when none is stored. */
export interface VersionedAlertState {
  state: JobAlertState | null;
  version: string | null;
}

/**
 * A "decide (job, interval)" item: written with a run (`RunCompletion.decide`) or queued on
 * its own (after a maintenance window), and settled by the decision that uses it.
 */
export interface DecideRequest {
  userId: string;
  jobId: string;
  /** What it decides: the interval starting then, or (`afterWindow`) the end of a window. */
  at: number;
  /** When the lane takes it up: the deadline of a multi-location interval, or now. */
  dueAt: number;
  /**
   * Held by the writing process until then, which decides at once; should it die first, the
   * lane takes the item over when this passes. Absent: waiting for `dueAt`.
   */
  heldUntil?: number;
  value: DecideValue;
}

/** The lane item's value. */
export interface DecideValue {
  /** End of the interval (exclusive): its runs are read from `at` to here. */
  end: number;
  /** The run that decides a single-location interval: `[scheduledAt, where]`. */
  run?: [number, string];
  /** Re-check a job held in `maintenance` once the window covering it ends. */
  afterWindow?: true;
}

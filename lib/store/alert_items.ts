/**
 * What a run's write carries for alerting (see lib/store/alerts.ts): the decide item, the
 * alert state read with the job, and the decision made ahead. Apart from alerts.ts so that
 * store.ts can name them.
 */
import type { Incident, JobAlertState, Notification } from "../alerts/types.ts";
import type { LeaseRef } from "./lanes.ts";

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

export interface VersionedIncident {
  incident: Incident;
  version: string;
}

export interface VersionedNotification {
  notification: Notification;
  version: string;
}

/** What a notification's due entry carries: enough for the lane to group without a read. */
export interface NotificationRef {
  userId: string;
  channelId: string;
  kind: Notification["kind"];
  incidentIds: string[];
}

/** One decision, written if the job's state is still as read. */
export interface AlertDecision {
  current: VersionedAlertState;
  next: JobAlertState;
  /**
   * Whether the job was enabled as read with `current` (absent: enabled). The dashboard's
   * state index, written with the decision, shows a disabled job as `paused`; a job paused or
   * resumed since `current` was read changed the state's version (`Store.updateJob`), so the
   * decision fails its check and is made again from a fresh read.
   */
  enabled?: boolean;
  /** Decide items it settles: their keys (`decideKey`) or the lane's leases. */
  settle: LeaseRef[];
  /** The incident it opens, or the open one it resolves (`current` its read, for the check). */
  incident?: { next: Incident; current: VersionedIncident | null };
  /** New notifications, each queued for its `nextAttemptAt`. */
  notifications?: Notification[];
  /** Notifications cancelled (as read): their due entries go. */
  cancel?: { current: VersionedNotification; next: Notification }[];
  /** Items to queue for later (the end of a maintenance window). */
  queue?: DecideRequest[];
}

/**
 * A run's decision made before its write (`AlertEngine.decideAhead`), carried by the run's
 * commit (`RunCompletion.decided`) instead of a decide item: one commit a check, not two.
 */
export interface DecidedAhead {
  /** Settles nothing: no decide item was written for it. */
  decision: AlertDecision;
  /**
   * Set by the store once the run's commit carried the decision. Left false when the job's
   * state had changed since read (or the store does not carry decisions): the run was written
   * with its `decide` item instead, decided after as ever.
   */
  applied: boolean;
  /** Once applied: the state's version the commit gave it (`VersionedAlertState.version`). */
  version?: string;
}

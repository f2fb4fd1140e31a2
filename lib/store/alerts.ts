/**
 * The contract for alerting's records (issue 12): each job's alert state, incidents, and the
 * notification outbox with its due index.
 *
 * A decision is one compare-and-set on the job's state (`decide`): the new state, the incident
 * it opens or resolves, the notifications it queues and the decide items it settles, in one
 * commit, applied only if the state is still as read. Decide items are written with their run
 * (`RunCompletion.decide`, see lib/alerts/engine.ts); their keys are the store's and the alert
 * lane's, opaque elsewhere (`LeaseRef`).
 *
 * Notifications are written pending, each due at its `nextAttemptAt` in a due index the
 * notification lane drains (in Deno KV: `["notification_due", at, id]` → `NotificationRef`,
 * leased under `["notification_lease", until, at, id]`, the Dispatcher's layout).
 */
import type { Incident, IncidentState, Notification } from "../alerts/types.ts";
import type {
  AlertDecision,
  DecideRequest,
  VersionedAlertState,
  VersionedIncident,
  VersionedNotification,
} from "./alert_items.ts";
import type { LeaseRef } from "./lanes.ts";
import type { ListOptions } from "./store.ts";

export type {
  AlertDecision,
  DecidedAhead,
  DecideRequest,
  DecideValue,
  NotificationRef,
  VersionedAlertState,
  VersionedIncident,
  VersionedNotification,
} from "./alert_items.ts";
import type { Job, Page, Run } from "./types.ts";

export interface IncidentQuery extends ListOptions {
  state?: IncidentState;
  jobId?: string;
}

export interface AlertStore {
  getState(userId: string, jobId: string): Promise<VersionedAlertState>;
  /** Jobs with their alert states, read together, in the order asked. */
  decisionFacts(
    jobs: readonly (readonly [string, string])[],
  ): Promise<{ job: Job | null; state: VersionedAlertState }[]>;
  /** A job's runs scheduled in `[from, to)`, oldest first. */
  runsBetween(userId: string, jobId: string, from: number, to: number): Promise<Run[]>;
  /** Where a decide item lives when written with its run or queued (what `settle` names). */
  decideKey(request: DecideRequest): LeaseRef;
  /** Writes a decision if the state (and the incident, notifications read) are unchanged. */
  decide(decision: AlertDecision): Promise<boolean>;
  /** Drops a decide item's lease or key with nothing else to write (decided already). */
  settle(refs: LeaseRef[]): Promise<void>;

  getIncident(userId: string, incidentId: string): Promise<VersionedIncident | null>;
  /** Newest first; `state` and `jobId` filter. */
  listIncidents(userId: string, query: IncidentQuery): Promise<Page<Incident>>;
  /** A job's incidents whose span overlaps `[from, to)` (open ones reach to now), oldest first. */
  incidentsBetween(userId: string, jobId: string, from: number, to: number): Promise<Incident[]>;
  /**
   * Writes an incident's change (an acknowledgement, an operator's update) if unchanged since
   * read, with the notifications it cancels; false when something changed meanwhile.
   */
  saveIncident(
    current: VersionedIncident,
    next: Incident,
    cancel?: { current: VersionedNotification; next: Notification }[],
  ): Promise<boolean>;

  /** Notifications waiting in the due index with `nextAttemptAt` before `before`, soonest first. */
  dueNotifications(before: number, limit: number): Promise<{ at: number; id: string }[]>;
  /** Notifications by id, in the order asked (null where none). */
  getNotifications(ids: readonly string[]): Promise<(VersionedNotification | null)[]>;
  /**
   * Writes a notification's new state if unchanged since read, moving its due entry to
   * `next.nextAttemptAt` (none when null) and releasing `lease` (the lane's) with it.
   */
  saveNotification(
    current: VersionedNotification,
    next: Notification,
    options?: { lease?: LeaseRef },
  ): Promise<boolean>;
  /**
   * Writes several notifications' changes at once (at most 90), each if unchanged since read,
   * moving their due entries, and ends `leases` in the same commit: all or nothing. Answers
   * the version every written record now has, or null when one had changed.
   */
  saveNotifications(
    changes: readonly { current: VersionedNotification; next: Notification }[],
    options?: { leases?: readonly LeaseRef[] },
  ): Promise<string | null>;
  /** Incidents open now across every owner (for `/metrics`). */
  countOpenIncidents(): Promise<number>;
}

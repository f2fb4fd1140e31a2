/**
 * Alerting's records in Deno KV: alert states, incidents with their indexes, notifications
 * with their due index, and the decide items (the `alert` lane's items, see `decideKey`). Decisions that
 * land together share a commit, each with its own checks (group commit).
 */
import type { Incident, Notification } from "../../alerts/types.ts";
import type {
  AlertDecision,
  AlertStore,
  DecideRequest,
  IncidentQuery,
  NotificationRef,
  VersionedAlertState,
  VersionedIncident,
  VersionedNotification,
} from "../alerts.ts";
import type { LeaseRef } from "../lanes.ts";
import type { Job, Page, Run } from "../types.ts";
import { ValidationError } from "../../errors.ts";
import { getMany } from "./get_many.ts";
import { GroupCommitter } from "./group_commit.ts";
import { moveJobState, shownState } from "./job_index.ts";
import { kvKeys } from "./keys.ts";
import { type JobMemory, jobMemoryOf } from "./job_memory.ts";

/** Index entries a filtered incident list reads per page at most. */
const MAX_SCAN = 1000;
/** `[startedAt, endedAt | null]` of a job's incident, in epoch ms. */
type Span = [number, number | null];

export class KvAlertStore implements AlertStore {
  private readonly committer: GroupCommitter;
  /** Runs remember their job's alert state (job_memory.ts): a decision here forgets it. */
  private readonly memory: JobMemory;

  constructor(private readonly kv: Deno.Kv) {
    this.committer = new GroupCommitter(kv);
    this.memory = jobMemoryOf(kv);
  }

  async getState(userId: string, jobId: string): Promise<VersionedAlertState> {
    const entry = await this.kv.get<VersionedAlertState["state"]>(kvKeys.alertState(userId, jobId));
    return { state: entry.value, version: entry.versionstamp };
  }

  async decisionFacts(
    jobs: readonly (readonly [string, string])[],
  ): Promise<{ job: Job | null; state: VersionedAlertState }[]> {
    const keys = jobs.flatMap(([u, j]) => [kvKeys.job(u, j), kvKeys.alertState(u, j)]);
    const entries = await getMany(this.kv, keys);
    return jobs.map((_, i) => ({
      job: entries[2 * i].value as Job | null,
      state: versionedState(entries[2 * i + 1]),
    }));
  }

  async runsBetween(userId: string, jobId: string, from: number, to: number): Promise<Run[]> {
    const runs: Run[] = [];
    const prefix = kvKeys.runsOf(userId, jobId);
    for await (
      const entry of this.kv.list<Run>({ start: [...prefix, from], end: [...prefix, to] })
    ) {
      runs.push(entry.value);
    }
    return runs;
  }

  decideKey(request: DecideRequest): LeaseRef {
    return decideKey(request);
  }

  async decide(decision: AlertDecision): Promise<boolean> {
    const written = await this.committer.commit((op) => writeDecision(op, decision));
    if (written) this.memory.forget(decision.next.userId, decision.next.jobId);
    return written;
  }

  async settle(refs: LeaseRef[]): Promise<void> {
    if (refs.length === 0) return;
    const op = this.kv.atomic();
    for (const ref of refs) op.delete(ref as Deno.KvKey);
    await op.commit();
  }

  async getIncident(userId: string, incidentId: string): Promise<VersionedIncident | null> {
    const entry = await this.kv.get<Incident>(kvKeys.incident(userId, incidentId));
    return entry.value ? { incident: entry.value, version: entry.versionstamp } : null;
  }

  async listIncidents(userId: string, query: IncidentQuery): Promise<Page<Incident>> {
    if (!query.jobId && !query.state) {
      const page = await idPage(this.kv, kvKeys.incidentsOf(userId), query, () => true);
      return { values: page.values as Incident[], cursor: page.cursor };
    }
    const byJob = query.jobId !== undefined;
    const prefix = byJob
      ? kvKeys.incidentsOfJob(userId, query.jobId!)
      : kvKeys.incidentsInState(userId, query.state!);
    const wanted = (span: unknown) =>
      !byJob || !query.state || ((span as Span)[1] === null) === (query.state === "open");
    const page = await idPage(this.kv, prefix, query, wanted);
    const ids = page.keys.map((key) => key[key.length - 1] as string);
    const entries = await getMany(this.kv, ids.map((id) => kvKeys.incident(userId, id)));
    const values = entries.map((e) => e.value as Incident | null).filter((i) => i !== null);
    return { values, cursor: page.cursor };
  }

  async incidentsBetween(
    userId: string,
    jobId: string,
    from: number,
    to: number,
  ): Promise<Incident[]> {
    const ids: string[] = [];
    const iter = this.kv.list<Span>({ prefix: kvKeys.incidentsOfJob(userId, jobId) }, {
      reverse: true,
    });
    for await (const entry of iter) {
      const [start, end] = entry.value;
      // A job's incidents follow one another: once one ended before the range, so did the rest.
      if (end !== null && end <= from) break;
      if (start < to) ids.push(entry.key[3] as string);
    }
    const entries = await getMany(this.kv, ids.reverse().map((id) => kvKeys.incident(userId, id)));
    return entries.map((e) => e.value as Incident | null).filter((i) => i !== null);
  }

  async saveIncident(
    current: VersionedIncident,
    next: Incident,
    cancel: { current: VersionedNotification; next: Notification }[] = [],
  ): Promise<boolean> {
    const op = this.kv.atomic();
    writeIncident(op, current, next);
    for (const change of cancel) writeNotification(op, change.current, change.next);
    return (await op.commit()).ok;
  }

  async dueNotifications(before: number, limit: number): Promise<{ at: number; id: string }[]> {
    const prefix = kvKeys.notificationsDue();
    const out: { at: number; id: string }[] = [];
    for await (
      const entry of this.kv.list({ start: prefix, end: [...prefix, before] }, { limit })
    ) {
      out.push({ at: entry.key[1] as number, id: entry.key[2] as string });
    }
    return out;
  }

  async getNotifications(ids: readonly string[]): Promise<(VersionedNotification | null)[]> {
    const entries = await getMany(this.kv, ids.map((id) => kvKeys.notification(id)));
    return entries.map((e) =>
      e.value ? { notification: e.value as Notification, version: e.versionstamp! } : null
    );
  }

  saveNotification(
    current: VersionedNotification,
    next: Notification,
    options: { lease?: LeaseRef } = {},
  ): Promise<boolean> {
    return this.committer.commit((op) => {
      writeNotification(op, current, next);
      if (options.lease) op.delete(options.lease as Deno.KvKey);
    });
  }

  async saveNotifications(
    changes: readonly { current: VersionedNotification; next: Notification }[],
    options: { leases?: readonly LeaseRef[] } = {},
  ): Promise<string | null> {
    if (changes.length > MAX_NOTIFICATIONS_PER_WRITE) {
      throw new RangeError(
        `Cannot save ${changes.length} notifications at once: at most ${MAX_NOTIFICATIONS_PER_WRITE}`,
      );
    }
    const op = this.kv.atomic();
    for (const { current, next } of changes) writeNotification(op, current, next);
    for (const lease of options.leases ?? []) op.delete(lease as Deno.KvKey);
    const result = await op.commit();
    return result.ok ? result.versionstamp : null;
  }

  async countOpenIncidents(): Promise<number> {
    const entry = await this.kv.get<Deno.KvU64>(kvKeys.openIncidentCount());
    return entry.value ? Math.max(0, signed(entry.value.value)) : 0;
  }
}

/** One check each, inside Deno KV's 100 checks per atomic operation. */
export const MAX_NOTIFICATIONS_PER_WRITE = 90;
/** KvU64 `sum` adds this to take one away (it wraps at 2^64). */
const MINUS_ONE = 0xffffffffffffffffn;

/** A KvU64 counter that is summed with MINUS_ONE, read as a signed number. */
function signed(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

/** Where a decide item lives: leased to its writer (held), or waiting for its time. */
export function decideKey(request: DecideRequest): Deno.KvKey {
  const id: (string | number)[] = [request.userId, request.jobId, request.at];
  if (request.value.afterWindow) id.push("window");
  return request.heldUntil === undefined
    ? kvKeys.laneItem("alert", request.dueAt, id)
    : kvKeys.laneLease("alert", request.heldUntil, request.dueAt, id);
}

/**
 * Adds a decision to an atomic operation (its own, or the commit of the run it was made from,
 * `RunCompletion.decided`), checked against the state it was made on.
 */
export function writeDecision(op: Deno.AtomicOperation, decision: AlertDecision): void {
  const { current, next } = decision;
  const key = kvKeys.alertState(next.userId, next.jobId);
  const enabled = decision.enabled ?? true;
  op.check({ key, versionstamp: current.version }).set(key, next);
  // The dashboard's state index, moved with the state it shows (see job_index.ts).
  moveJobState(
    op,
    next.userId,
    next.jobId,
    shownState(current.state?.state, enabled),
    shownState(next.state, enabled),
  );
  for (const ref of decision.settle) op.delete(ref as Deno.KvKey);
  if (decision.incident) writeIncident(op, decision.incident.current, decision.incident.next);
  for (const notification of decision.notifications ?? []) addNotification(op, notification);
  for (const change of decision.cancel ?? []) writeNotification(op, change.current, change.next);
  for (const request of decision.queue ?? []) addDecide(op, request);
}

/** Adds a decide item to an atomic operation (a run's commit, or a decision's). */
export function addDecide(op: Deno.AtomicOperation, request: DecideRequest): void {
  op.set(decideKey(request), request.value);
}

/** An incident and its indexes; the check that it is as read (absent, when new). */
function writeIncident(
  op: Deno.AtomicOperation,
  current: VersionedIncident | null,
  next: Incident,
) {
  const { userId, jobId, id } = next;
  const key = kvKeys.incident(userId, id);
  op.check({ key, versionstamp: current?.version ?? null }).set(key, next);
  if (current && current.incident.state !== next.state) {
    op.delete(kvKeys.incidentInState(userId, current.incident.state, id));
  }
  op.set(kvKeys.incidentInState(userId, next.state, id), null);
  const wasOpen = current?.incident.state === "open";
  if (next.state === "open" && !wasOpen) op.sum(kvKeys.openIncidentCount(), 1n);
  if (next.state !== "open" && wasOpen) op.sum(kvKeys.openIncidentCount(), MINUS_ONE);
  const span: Span = [
    Date.parse(next.startedAt),
    next.endedAt === null ? null : Date.parse(next.endedAt),
  ];
  op.set(kvKeys.incidentOfJob(userId, jobId, id), span);
}

function addNotification(op: Deno.AtomicOperation, notification: Notification): void {
  op.check({ key: kvKeys.notification(notification.id), versionstamp: null })
    .set(kvKeys.notification(notification.id), notification);
  const { certificate } = notification;
  if (certificate) {
    op.set(
      kvKeys.certificateNotificationOfJob(notification.userId, certificate.jobId, notification.id),
      null,
    );
  }
  if (notification.nextAttemptAt !== null) {
    op.set(
      kvKeys.notificationDue(notification.nextAttemptAt, notification.id),
      refOf(notification),
    );
  }
}

/** A notification's change, moving its due entry (gone once leased: the delete is a no-op). */
function writeNotification(
  op: Deno.AtomicOperation,
  current: VersionedNotification,
  next: Notification,
): void {
  const key = kvKeys.notification(next.id);
  op.check({ key, versionstamp: current.version }).set(key, next);
  const previous = current.notification.nextAttemptAt;
  if (previous !== null && previous !== next.nextAttemptAt) {
    op.delete(kvKeys.notificationDue(previous, next.id));
  }
  if (next.nextAttemptAt !== null && next.nextAttemptAt !== previous) {
    op.set(kvKeys.notificationDue(next.nextAttemptAt, next.id), refOf(next));
  }
}

function refOf(notification: Notification): NotificationRef {
  const { userId, channelId, kind, incidentIds } = notification;
  return { userId, channelId, kind, incidentIds };
}

function versionedState(entry: Deno.KvEntryMaybe<unknown>): VersionedAlertState {
  return { state: entry.value as VersionedAlertState["state"], version: entry.versionstamp };
}

/**
 * A page of entries under `prefix`, newest first, keeping those `wanted` says; reads at most
 * MAX_SCAN entries, so a sparse match costs a few short pages.
 */
async function idPage(
  kv: Deno.Kv,
  prefix: Deno.KvKey,
  query: IncidentQuery,
  wanted: (value: unknown) => boolean,
): Promise<{ keys: Deno.KvKey[]; values: unknown[]; cursor: string | null }> {
  const iter = kv.list<unknown>({ prefix }, {
    cursor: query.cursor,
    limit: MAX_SCAN,
    reverse: true,
  });
  const keys: Deno.KvKey[] = [];
  const values: unknown[] = [];
  let read = 0;
  for (;;) {
    let next: IteratorResult<Deno.KvEntry<unknown>>;
    try {
      next = await iter.next();
    } catch (error) {
      if (error instanceof TypeError && /cursor/i.test(error.message)) {
        throw new ValidationError("cursor is not a cursor this API returned", "cursor");
      }
      throw error;
    }
    if (next.done) return { keys, values, cursor: read < MAX_SCAN ? null : iter.cursor || null };
    read++;
    if (wanted(next.value.value)) {
      keys.push(next.value.key);
      values.push(next.value.value);
    }
    if (keys.length === query.limit) return { keys, values, cursor: iter.cursor || null };
  }
}

/**
 * Removes a deleted job's incidents with their indexes and notifications, and its certificate
 * warnings (its alert state went with the job); returns how many incidents and warnings.
 */
export async function purgeJobAlerts(kv: Deno.Kv, userId: string, jobId: string): Promise<number> {
  let removed = await purgeCertificateNotifications(kv, userId, jobId);
  for (;;) {
    const ids: string[] = [];
    // Five incidents with up to 60 notifications each stay under 1000 mutations.
    for await (
      const entry of kv.list<Span>({ prefix: kvKeys.incidentsOfJob(userId, jobId) }, { limit: 5 })
    ) {
      ids.push(entry.key[3] as string);
    }
    if (ids.length === 0) return removed;
    const incidents = (await getMany(kv, ids.map((id) => kvKeys.incident(userId, id))))
      .map((entry) => entry.value as Incident | null);
    const notificationIds = incidents.flatMap((i) => i?.notificationIds ?? []);
    const notifications = await getMany(kv, notificationIds.map((id) => kvKeys.notification(id)));
    const op = kv.atomic();
    for (const [i, id] of ids.entries()) {
      if (incidents[i]?.state === "open") op.sum(kvKeys.openIncidentCount(), MINUS_ONE);
      op.delete(kvKeys.incident(userId, id)).delete(kvKeys.incidentOfJob(userId, jobId, id));
      for (const state of ["open", "resolved"]) {
        op.delete(kvKeys.incidentInState(userId, state, id));
      }
    }
    for (const entry of notifications) {
      const notification = entry.value as Notification | null;
      if (!notification) continue;
      op.delete(entry.key);
      if (notification.nextAttemptAt !== null) {
        op.delete(kvKeys.notificationDue(notification.nextAttemptAt, notification.id));
      }
    }
    await op.commit();
    removed += ids.length;
  }
}

/** Removes a deleted job's certificate warnings with their due entries; returns how many. */
async function purgeCertificateNotifications(
  kv: Deno.Kv,
  userId: string,
  jobId: string,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const keys: Deno.KvKey[] = [];
    const prefix = kvKeys.certificateNotificationsOfJob(userId, jobId);
    for await (const entry of kv.list({ prefix }, { limit: 100 })) keys.push(entry.key);
    if (keys.length === 0) return removed;
    const ids = keys.map((key) => key[key.length - 1] as string);
    const notifications = await getMany(kv, ids.map((id) => kvKeys.notification(id)));
    const op = kv.atomic();
    for (const [i, key] of keys.entries()) {
      op.delete(key).delete(kvKeys.notification(ids[i]));
      const at = (notifications[i].value as Notification | null)?.nextAttemptAt ?? null;
      if (at !== null) op.delete(kvKeys.notificationDue(at, ids[i]));
    }
    await op.commit();
    removed += keys.length;
  }
}

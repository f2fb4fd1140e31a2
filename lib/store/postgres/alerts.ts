/**
 * Alerting's records in Postgres (`AlertStore`): a job's alert state is a row of
 * `hibiki_alert_states`, incidents and notifications rows of their own, each with a `version`
 * from the one version sequence that its compare-and-set checks. Decide items are items of the
 * `alert` lane, and a notification's due entry a waiting item of the `notification` lane at its
 * `nextAttemptAt` (`[id]` → NotificationRef), both in `hibiki_lane_items` as the Dispatcher
 * reads them. A decision is one transaction, rolled back whole when any check fails.
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
import type { Sql } from "./connect.ts";
import type postgres from "postgres";
import {
  asJson,
  itemKey,
  leaseRef,
  leaseRows,
  nextVersion,
  page,
  releaseLease,
  releaseLeases,
  type Tx,
} from "./util.ts";
import { decodeCursor } from "../cursor.ts";

type Row = Record<string, unknown>;

/** The contract's limit on `saveNotifications` (what one Deno KV commit can check). */
const MAX_NOTIFICATIONS_PER_WRITE = 90;
/** Incidents a purge removes per transaction, with their notifications. */
const PURGE_BATCH = 100;

/** Thrown inside a transaction whose check failed, so that it rolls back. */
class Stale extends Error {}

export class PgAlertStore implements AlertStore {
  constructor(private readonly sql: Sql) {}

  async getState(userId: string, jobId: string): Promise<VersionedAlertState> {
    const [row] = await this.sql`select state, version from public.hibiki_alert_states
      where user_id = ${userId} and job_id = ${jobId}`;
    return versionedState(row);
  }

  async decisionFacts(
    jobs: readonly (readonly [string, string])[],
  ): Promise<{ job: Job | null; state: VersionedAlertState }[]> {
    if (jobs.length === 0) return [];
    const rows = await this.sql`select k.n, j.job, a.state, a.version
      from unnest(${jobs.map((j) => j[0])}::text[], ${jobs.map((j) => j[1])}::text[])
        with ordinality as k(user_id, job_id, n)
      left join public.hibiki_jobs j on j.user_id = k.user_id and j.id = k.job_id
      left join public.hibiki_alert_states a on a.user_id = k.user_id and a.job_id = k.job_id
      order by k.n`;
    return rows.map((r) => ({ job: (r.job as Job | null) ?? null, state: versionedState(r) }));
  }

  async runsBetween(userId: string, jobId: string, from: number, to: number): Promise<Run[]> {
    const rows = await this.sql`select run from public.hibiki_runs
      where user_id = ${userId} and job_id = ${jobId}
        and scheduled_at >= ${from} and scheduled_at < ${to}
      order by scheduled_at, suffix`;
    return rows.map((r) => r.run as Run);
  }

  decideKey(request: DecideRequest): LeaseRef {
    return decideKey(request);
  }

  async decide(decision: AlertDecision): Promise<boolean> {
    if (stateOnly(decision)) return await this.decideState(decision);
    return null !== await checked(this.sql, (tx, version) => writeDecision(tx, decision, version));
  }

  /**
   * A decision that writes the state alone (most do: a check that changes nothing but the
   * counters) as one statement, its other writes conditional on the state's check: one round
   * trip where a transaction took six. Every worker result is decided so, one job at a time.
   */
  private async decideState(decision: AlertDecision): Promise<boolean> {
    const { current, next } = decision;
    const { userId, jobId } = next;
    const sql = this.sql;
    const write = current.version === null
      ? sql`insert into public.hibiki_alert_states (user_id, job_id, state, version)
          select ${userId}, ${jobId}, ${asJson(sql, next)}, version from v
          on conflict do nothing returning 1`
      : sql`update public.hibiki_alert_states
          set state = ${asJson(sql, next)}, version = (select version from v)
          where user_id = ${userId} and job_id = ${jobId}
            and version = ${Number(current.version)}
          returning 1`;
    // The dashboard's state filter and counts read it beside `enabled` (hibiki_jobs_shown).
    const shown = current.state?.state !== next.state
      ? sql`, shown as (update public.hibiki_jobs set alert_state = ${next.state}
          where user_id = ${userId} and id = ${jobId} and exists (select 1 from written))`
      : sql``;
    const settled = decision.settle.length > 0
      ? sql`, settled as (delete from public.hibiki_lane_items
          where (lane, until, at, item_id) in (${leaseRows(sql, decision.settle)})
            and exists (select 1 from written))`
      : sql``;
    const [row] = await sql`with v as (select nextval('public.hibiki_version') as version),
      written as (${write}) ${shown} ${settled}
      select count(*)::int as n from written`;
    return row.n === 1;
  }

  async settle(refs: LeaseRef[]): Promise<void> {
    // One statement, atomic alone: a worker's second result of an interval decided already
    // costs one round trip, not a transaction's three.
    await releaseLeases(this.sql, refs);
  }

  async getIncident(userId: string, incidentId: string): Promise<VersionedIncident | null> {
    const [row] = await this.sql`select incident, version from public.hibiki_incidents
      where user_id = ${userId} and id = ${incidentId}`;
    return row ? versionedIncident(row) : null;
  }

  async listIncidents(userId: string, query: IncidentQuery): Promise<Page<Incident>> {
    const sql = this.sql;
    const before = decodeCursor(query.cursor, 1)?.[0] as string | undefined;
    const rows = await sql`select id, incident from public.hibiki_incidents
      where user_id = ${userId}
        ${query.state ? sql`and state = ${query.state}` : sql``}
        ${query.jobId !== undefined ? sql`and job_id = ${query.jobId}` : sql``}
        ${before === undefined ? sql`` : sql`and id < ${before}`}
      order by id desc limit ${query.limit + 1}`;
    return page(rows, query.limit, (r) => r.incident as Incident, (r) => [r.id as string]);
  }

  async incidentsBetween(
    userId: string,
    jobId: string,
    from: number,
    to: number,
  ): Promise<Incident[]> {
    // An open incident reaches to now: it ends after any `from`.
    const rows = await this.sql`select incident from public.hibiki_incidents
      where user_id = ${userId} and job_id = ${jobId}
        and coalesce(ended_at, 9223372036854775807) > ${from} and started_at < ${to}
      order by id`;
    return rows.map((r) => r.incident as Incident);
  }

  async saveIncident(
    current: VersionedIncident,
    next: Incident,
    cancel: { current: VersionedNotification; next: Notification }[] = [],
  ): Promise<boolean> {
    return null !== await checked(this.sql, async (tx, version) => {
      await writeIncident(tx, current, next, version);
      for (const change of cancel) {
        await writeNotification(tx, change.current, change.next, version);
      }
    });
  }

  async dueNotifications(before: number, limit: number): Promise<{ at: number; id: string }[]> {
    if (limit <= 0) return [];
    const sql = this.sql;
    // Infinity (everything waiting) has no bigint.
    const rows = await sql`select at, item_id from public.hibiki_lane_items
      where lane = 'notification' and until = 0
        ${Number.isFinite(before) ? sql`and at < ${before}` : sql``}
      order by at, item_id limit ${limit}`;
    return rows.map((r) => ({ at: r.at as number, id: JSON.parse(r.item_id as string)[0] }));
  }

  async getNotifications(ids: readonly string[]): Promise<(VersionedNotification | null)[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql`select id, notification, version
      from public.hibiki_notifications where id = any(${[...ids]}::text[])`;
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row
        ? { notification: row.notification as Notification, version: String(row.version) }
        : null;
    });
  }

  async saveNotification(
    current: VersionedNotification,
    next: Notification,
    options: { lease?: LeaseRef } = {},
  ): Promise<boolean> {
    return null !== await checked(this.sql, async (tx, version) => {
      await writeNotification(tx, current, next, version);
      if (options.lease) await releaseLease(tx, options.lease);
    });
  }

  saveNotifications(
    changes: readonly { current: VersionedNotification; next: Notification }[],
    options: { leases?: readonly LeaseRef[] } = {},
  ): Promise<string | null> {
    if (changes.length > MAX_NOTIFICATIONS_PER_WRITE) {
      throw new RangeError(
        `Cannot save ${changes.length} notifications at once: at most ${MAX_NOTIFICATIONS_PER_WRITE}`,
      );
    }
    return checked(this.sql, async (tx, version) => {
      for (const { current, next } of changes) {
        await writeNotification(tx, current, next, version);
      }
      for (const lease of options.leases ?? []) await releaseLease(tx, lease);
    });
  }

  async countOpenIncidents(): Promise<number> {
    const [row] = await this.sql`select count(*)::bigint as n from public.hibiki_incidents
      where state = 'open'`;
    return row.n as number;
  }
}

/**
 * Writes a decision in the transaction of the run it was made from (`RunCompletion.decided`),
 * under a savepoint: the state's new version, or null with nothing of it written when the
 * state (or an incident or notification it changes) is no longer as read.
 */
export async function writeDecisionWithRun(
  tx: postgres.TransactionSql,
  decision: AlertDecision,
): Promise<string | null> {
  try {
    return await tx.savepoint(async (sp) => {
      const version = await nextVersion(sp);
      await writeDecision(sp, decision, version);
      return String(version);
    });
  } catch (error) {
    if (error instanceof Stale) return null;
    throw error;
  }
}

/** A decision's writes, each checked against what it was made on (`Stale` when one fails). */
async function writeDecision(tx: Tx, decision: AlertDecision, version: number): Promise<void> {
  const { current, next } = decision;
  const { userId, jobId } = next;
  const written = current.version === null
    ? await tx`insert into public.hibiki_alert_states (user_id, job_id, state, version)
        values (${userId}, ${jobId}, ${asJson(tx, next)}, ${version})
        on conflict do nothing`
    : await tx`update public.hibiki_alert_states
        set state = ${asJson(tx, next)}, version = ${version}
        where user_id = ${userId} and job_id = ${jobId}
          and version = ${Number(current.version)}`;
  if (written.count !== 1) throw new Stale();
  // The dashboard's state filter and counts read it beside `enabled` (hibiki_jobs_shown).
  if (current.state?.state !== next.state) {
    await tx`update public.hibiki_jobs set alert_state = ${next.state}
      where user_id = ${userId} and id = ${jobId}`;
  }
  for (const ref of decision.settle) await releaseLease(tx, ref);
  if (decision.incident) {
    await writeIncident(tx, decision.incident.current, decision.incident.next, version);
  }
  for (const notification of decision.notifications ?? []) {
    await addNotification(tx, notification, version);
  }
  for (const change of decision.cancel ?? []) {
    await writeNotification(tx, change.current, change.next, version);
  }
  for (const request of decision.queue ?? []) await addDecide(tx, request, version);
}

/** Where a decide item lives: leased to its writer (held), or waiting (`until` 0) for its time. */
export function decideKey(request: DecideRequest): LeaseRef {
  return leaseRef("alert", request.heldUntil ?? 0, request.dueAt, decideId(request));
}

/** Writes a decide item (with a run, or queued by a decision), replacing one of the same key. */
export async function addDecide(tx: Tx, request: DecideRequest, version?: number): Promise<void> {
  await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    values ('alert', ${request.heldUntil ?? 0}, ${request.dueAt},
      ${itemKey(decideId(request))}, ${asJson(tx, request.value)},
      ${version ?? await nextVersion(tx)})
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

/**
 * Writes decide items as `addDecide` writes each, with one statement: of several with one key,
 * the last one listed stays (as when written one after another).
 */
export async function addDecides(tx: Tx, requests: readonly DecideRequest[]): Promise<void> {
  const byKey = new Map(requests.map((r) => [JSON.stringify(decideKey(r)), r]));
  const items = [...byKey.values()];
  if (items.length === 0) return;
  // An upsert may not touch one row twice: the keys are distinct by now.
  await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    select 'alert', until, at, item_id, value, nextval('public.hibiki_version')
    from unnest(${items.map((r) => r.heldUntil ?? 0)}::bigint[],
      ${items.map((r) => r.dueAt)}::bigint[], ${items.map((r) => itemKey(decideId(r)))}::text[],
      ${items.map((r) => JSON.stringify(r.value))}::text[]::json[]) as d(until, at, item_id, value)
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

/**
 * Removes a deleted job's alert state, incidents and their notifications, and its certificate
 * warnings (with their due entries), a batch of incidents per transaction; returns how many
 * incidents.
 */
export async function purgeJobAlerts(sql: Sql, userId: string, jobId: string): Promise<number> {
  await sql`delete from public.hibiki_alert_states
    where user_id = ${userId} and job_id = ${jobId}`;
  let removed = 0;
  for (;;) {
    const count = await sql.begin(async (tx) => {
      const incidents = await tx`delete from public.hibiki_incidents
        where (user_id, id) in (select user_id, id from public.hibiki_incidents
          where user_id = ${userId} and job_id = ${jobId} limit ${PURGE_BATCH})
        returning incident`;
      const ids = incidents.flatMap((r) => (r.incident as Incident).notificationIds);
      // A job's certificate warnings belong to no incident: they go with the first batch.
      const warnings = removed === 0
        ? await tx`select id from public.hibiki_notifications
            where user_id = ${userId} and job_id = ${jobId}`
        : [];
      ids.push(...warnings.map((r) => r.id as string));
      if (ids.length > 0) {
        // Only waiting entries go: a leased one is the lane's, whose save will find no record.
        const gone = await tx`delete from public.hibiki_notifications
          where id = any(${ids}::text[]) returning id, next_attempt_at`;
        const due = gone.filter((r) => r.next_attempt_at !== null);
        if (due.length > 0) {
          await tx`delete from public.hibiki_lane_items
            where lane = 'notification' and until = 0 and (at, item_id) in (
              select * from unnest(${due.map((r) => r.next_attempt_at as number)}::bigint[],
                ${due.map((r) => itemKey([r.id as string]))}::text[]))`;
        }
      }
      return incidents.length;
    });
    removed += count;
    if (count < PURGE_BATCH) return removed;
  }
}

/**
 * Runs `write` in one transaction with one new version for every row it writes: that version,
 * or null, with nothing written, when one of its checks failed (`Stale`).
 */
async function checked(
  sql: Sql,
  write: (tx: Tx, version: number) => Promise<void>,
): Promise<string | null> {
  try {
    return await sql.begin(async (tx) => {
      const version = await nextVersion(tx);
      await write(tx, version);
      return String(version);
    });
  } catch (error) {
    if (error instanceof Stale) return null;
    throw error;
  }
}

/** Whether a decision writes nothing but the state (and settles its items). */
export function stateOnly(decision: AlertDecision): boolean {
  return !decision.incident && !decision.notifications?.length && !decision.cancel?.length &&
    !decision.queue?.length;
}

function decideId(request: DecideRequest): (string | number)[] {
  const id: (string | number)[] = [request.userId, request.jobId, request.at];
  if (request.value.afterWindow) id.push("window");
  return id;
}

/** An incident's change if it is as read (absent, when new). */
async function writeIncident(
  tx: Tx,
  current: VersionedIncident | null,
  next: Incident,
  version: number,
): Promise<void> {
  const startedAt = Date.parse(next.startedAt);
  const endedAt = next.endedAt === null ? null : Date.parse(next.endedAt);
  const written = current === null
    ? await tx`insert into public.hibiki_incidents
        (user_id, id, job_id, state, started_at, ended_at, incident, version)
      values (${next.userId}, ${next.id}, ${next.jobId}, ${next.state}, ${startedAt},
        ${endedAt}, ${asJson(tx, next)}, ${version})
      on conflict do nothing`
    : await tx`update public.hibiki_incidents
      set state = ${next.state}, started_at = ${startedAt}, ended_at = ${endedAt},
        incident = ${asJson(tx, next)}, version = ${version}
      where user_id = ${next.userId} and id = ${next.id}
        and version = ${Number(current.version)}`;
  if (written.count !== 1) throw new Stale();
}

/** A new notification, queued at its `nextAttemptAt`; a check that none has its id. */
async function addNotification(tx: Tx, notification: Notification, version: number) {
  const inserted = await tx`insert into public.hibiki_notifications
      (id, user_id, notification, next_attempt_at, version, job_id)
    values (${notification.id}, ${notification.userId}, ${asJson(tx, notification)},
      ${notification.nextAttemptAt}, ${version}, ${notification.certificate?.jobId ?? null})
    on conflict do nothing`;
  if (inserted.count !== 1) throw new Stale();
  if (notification.nextAttemptAt !== null) {
    await queueNotification(tx, notification, notification.nextAttemptAt, version);
  }
}

/**
 * A notification's change if it is as read, moving its due entry (gone once leased: then the
 * delete finds nothing).
 */
async function writeNotification(
  tx: Tx,
  current: VersionedNotification,
  next: Notification,
  version: number,
): Promise<void> {
  const written = await tx`update public.hibiki_notifications
    set notification = ${asJson(tx, next)}, next_attempt_at = ${next.nextAttemptAt},
      version = ${version}
    where id = ${next.id} and version = ${Number(current.version)}`;
  if (written.count !== 1) throw new Stale();
  const previous = current.notification.nextAttemptAt;
  if (previous !== null && previous !== next.nextAttemptAt) {
    await tx`delete from public.hibiki_lane_items
      where lane = 'notification' and until = 0 and at = ${previous}
        and item_id = ${itemKey([next.id])}`;
  }
  if (next.nextAttemptAt !== null && next.nextAttemptAt !== previous) {
    await queueNotification(tx, next, next.nextAttemptAt, version);
  }
}

async function queueNotification(tx: Tx, notification: Notification, at: number, version: number) {
  await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    values ('notification', 0, ${at}, ${itemKey([notification.id])},
      ${asJson(tx, refOf(notification))}, ${version})
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

function refOf(notification: Notification): NotificationRef {
  const { userId, channelId, kind, incidentIds } = notification;
  return { userId, channelId, kind, incidentIds };
}

function versionedState(row: Row | undefined): VersionedAlertState {
  return {
    state: (row?.state as VersionedAlertState["state"] | undefined) ?? null,
    version: row?.version == null ? null : String(row.version),
  };
}

function versionedIncident(row: Row): VersionedIncident {
  return { incident: row.incident as Incident, version: String(row.version) };
}

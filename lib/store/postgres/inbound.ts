/**
 * Inbound hooks and their events in Postgres (`InboundStore`). A hook is one row of
 * `hibiki_inbound_hooks` with its two counters beside it; an event is a row of
 * `hibiki_inbound_events` holding its whole body, its `version` (from the one version
 * sequence) the opaque version of a compare-and-set; its queued action is a waiting item of
 * the inbound lane at `action.nextAttemptAt`, moved with every save.
 *
 * De-duplication compares bodies, as the KV store does: the first event under a provider
 * delivery id is remembered in `hibiki_inbound_seen` with its body's hash, another body under
 * that id apart, by id and hash, as the conflict event that holds it. The primary key decides
 * races: of two requests remembering the same key, the second waits for the first to commit
 * and then stores nothing. A remembered id counts until it expires (`seenTtlMs`).
 *
 * Retention: events and remembered ids expire; as events arrive, expired rows are deleted in
 * small batches (every arrival while a backlog is left, else about once a minute), rows
 * another process is deleting skipped, so no request waits long and every instance helps.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import {
  type InboundStore,
  type NewEvent,
  type Seen,
  trimEvent,
  type VersionedEvent,
} from "../inbound.ts";
import type { LeaseRef } from "../lanes.ts";
import type { ListOptions } from "../store.ts";
import type { HookRecord, InboundEvent, InboundRef, Page } from "../types.ts";
import type { Sql } from "./connect.ts";
import { asJson, itemKey, page, releaseLease, type Tx } from "./util.ts";
import { decodeCursor } from "../cursor.ts";

/** Rows deleted per statement: a hook's events after it, or expired rows. */
const PURGE_BATCH = 500;
/** How often expired rows are looked for when the last look left none behind (ms). */
const SWEEP_EVERY_MS = 60_000;

type Row = Record<string, unknown>;

/** Thrown inside a transaction to roll it back when a delivery id was remembered first. */
class Taken extends Error {}

export class PgInboundStore implements InboundStore {
  /** When expired rows are next looked for (epoch ms); 0: at the next arrival. */
  private sweepAt = 0;

  constructor(private readonly sql: Sql, private readonly now: () => number) {}

  async createHook(hook: HookRecord): Promise<void> {
    const inserted = await this.sql`insert into public.hibiki_inbound_hooks (id, user_id, hook)
      values (${hook.id}, ${hook.userId}, ${asJson(this.sql, hook)})
      on conflict do nothing`;
    if (inserted.count === 0) {
      throw new ConflictError(`Cannot create hook: id "${hook.id}" already exists`);
    }
  }

  async getHook(hookId: string): Promise<HookRecord | null> {
    const [row] = await this.sql`select hook from public.hibiki_inbound_hooks
      where id = ${hookId}`;
    return (row?.hook as HookRecord | undefined) ?? null;
  }

  /** The hook when `userId` owns it; others' hooks do not exist for them. */
  async getHookOf(userId: string, hookId: string): Promise<HookRecord> {
    const [row] = await this.sql`select hook from public.hibiki_inbound_hooks
      where id = ${hookId} and user_id = ${userId}`;
    if (!row) throw new NotFoundError(`Hook "${hookId}" not found`);
    return row.hook as HookRecord;
  }

  async listHooks(userId: string, options: ListOptions): Promise<Page<HookRecord>> {
    const after = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, hook from public.hibiki_inbound_hooks
      where user_id = ${userId} ${after === undefined ? this.sql`` : this.sql`and id > ${after}`}
      order by id limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.hook as HookRecord, (r) => [r.id as string]);
  }

  /** Changes under the row's lock: concurrent changes apply one after another. */
  async updateHook(
    userId: string,
    hookId: string,
    change: (hook: HookRecord) => HookRecord | Promise<HookRecord>,
  ): Promise<HookRecord> {
    return await this.sql.begin(async (tx) => {
      const [row] = await tx`select hook from public.hibiki_inbound_hooks
        where id = ${hookId} and user_id = ${userId} for update`;
      if (!row) throw new NotFoundError(`Hook "${hookId}" not found`);
      const next = await change(row.hook as HookRecord);
      await tx`update public.hibiki_inbound_hooks set hook = ${asJson(tx, next)}
        where id = ${hookId}`;
      return next;
    });
  }

  /** Deletes a hook (and its counters) at once, then its events and remembered ids. */
  async deleteHook(userId: string, hookId: string): Promise<void> {
    const deleted = await this.sql`delete from public.hibiki_inbound_hooks
      where id = ${hookId} and user_id = ${userId}`;
    if (deleted.count === 0) throw new NotFoundError(`Hook "${hookId}" not found`);
    // What is left cannot be reached any more; if this is cut short, retention expires it.
    // Queued actions find their event gone and drop themselves.
    for (const table of ["hibiki_inbound_events", "hibiki_inbound_seen"]) {
      for (;;) {
        const gone = await this.sql`delete from ${this.sql("public." + table)}
          where ctid = any(array(select ctid from ${this.sql("public." + table)}
            where hook_id = ${hookId} limit ${PURGE_BATCH}))`;
        if (gone.count < PURGE_BATCH) break;
      }
    }
  }

  /** Requests stored and refused per hook, in the order of `hookIds`. */
  async counts(hookIds: string[]): Promise<{ received: number; rejected: number }[]> {
    if (hookIds.length === 0) return [];
    const rows = await this.sql`select h.received, h.rejected
      from unnest(${hookIds}::text[]) with ordinality as k(id, n)
      left join public.hibiki_inbound_hooks h on h.id = k.id
      order by k.n`;
    return rows.map((r) => ({
      received: (r.received as number | null) ?? 0,
      rejected: (r.rejected as number | null) ?? 0,
    }));
  }

  async countRejected(hookId: string): Promise<void> {
    await this.sql`update public.hibiki_inbound_hooks set rejected = rejected + 1
      where id = ${hookId}`;
  }

  /** Whether a delivery id was stored before (and has not expired), with this body or another. */
  async seen(hookId: string, deliveryId: string, bodySha256: string): Promise<Seen> {
    const rows = await this.sql`select other_sha256, event_id, body_sha256
      from public.hibiki_inbound_seen
      where hook_id = ${hookId} and delivery_id = ${deliveryId}
        and other_sha256 in ('', ${bodySha256}) and expires_at > ${this.now()}`;
    const first = rows.find((r) => r.other_sha256 === "");
    const same = rows.find((r) => r.other_sha256 !== "");
    if (!first) return { kind: "new" };
    if (first.body_sha256 === bodySha256) {
      return { kind: "duplicate", eventId: first.event_id as string };
    }
    if (same) return { kind: "duplicate", eventId: same.event_id as string };
    return { kind: "conflict", firstEventId: first.event_id as string };
  }

  /**
   * Stores an event with its whole body, remembers its delivery id (with its body hash, or,
   * for a conflict, the hash alone), queues its action and counts it, in one transaction.
   * False when another request remembered the same delivery id (or the same other body)
   * first: nothing is stored, and the caller asks `seen` again.
   */
  async addEvent(input: NewEvent): Promise<boolean> {
    const { event, body, now } = input;
    await this.sweep(now);
    try {
      await this.sql.begin(async (tx) => {
        // First: the key that decides a race, so a loser writes nothing before it waits.
        if (!await remember(tx, input)) throw new Taken();
        const [inserted] = await tx`insert into public.hibiki_inbound_events
            (hook_id, id, event, body, expires_at, version)
          values (${event.hookId}, ${event.id}, ${asJson(tx, event)},
            ${event.bodyChunks === 0 ? null : body}, ${Date.parse(event.expiresAt)},
            nextval('public.hibiki_version'))
          on conflict do nothing
          returning version`;
        if (!inserted) throw new Taken();
        const version = inserted.version as number;
        if (input.dueAt !== null) await queueAction(tx, event, input.dueAt, version);
        // Last: the hook's row is every arrival's, so it is locked only until the commit.
        await tx`update public.hibiki_inbound_hooks set received = received + 1
          where id = ${event.hookId}`;
      });
      return true;
    } catch (error) {
      if (error instanceof Taken) return false;
      throw error;
    }
  }

  async getEvent(hookId: string, eventId: string): Promise<VersionedEvent | null> {
    const [row] = await this.sql`select event, version from public.hibiki_inbound_events
      where hook_id = ${hookId} and id = ${eventId}`;
    return row ? versioned(row) : null;
  }

  async getEventWithHook(
    hookId: string,
    eventId: string,
  ): Promise<{ event: VersionedEvent | null; hook: HookRecord | null }> {
    const [row] = await this.sql`select e.event, e.version, h.hook
      from (select 1) one
      left join public.hibiki_inbound_events e on e.hook_id = ${hookId} and e.id = ${eventId}
      left join public.hibiki_inbound_hooks h on h.id = ${hookId}`;
    return {
      event: row.event ? versioned(row) : null,
      hook: (row.hook as HookRecord | null) ?? null,
    };
  }

  /** Newest first: event ids sort by arrival. */
  async listEvents(hookId: string, options: ListOptions): Promise<Page<InboundEvent>> {
    const before = decodeCursor(options.cursor, 1)?.[0] as string | undefined;
    const rows = await this.sql`select id, event from public.hibiki_inbound_events
      where hook_id = ${hookId}
        ${before === undefined ? this.sql`` : this.sql`and id < ${before}`}
      order by id desc limit ${options.limit + 1}`;
    return page(rows, options.limit, (r) => r.event as InboundEvent, (r) => [r.id as string]);
  }

  async readBody(
    event: Pick<InboundEvent, "id" | "hookId" | "body" | "bodyChunks" | "bodySize">,
  ): Promise<Uint8Array> {
    // A small text body is kept only as the event's own `body`.
    if (event.bodyChunks === 0) return new TextEncoder().encode(event.body);
    const [row] = await this.sql`select body from public.hibiki_inbound_events
      where hook_id = ${event.hookId} and id = ${event.id}`;
    if (!row?.body) throw new Error(`Cannot read body of event "${event.id}": it expired`);
    return new Uint8Array(row.body as Uint8Array);
  }

  /**
   * Writes an event's new state if nobody changed it since it was read; moves its queued
   * action to the new time and releases the attempt's lease, all in one transaction.
   */
  async saveEvent(
    current: VersionedEvent,
    next: InboundEvent,
    options: { now: number; lease?: LeaseRef },
  ): Promise<boolean> {
    const stored = trimEvent(next);
    const { hookId, id } = current.event;
    return await this.sql.begin(async (tx) => {
      const [written] = await tx`update public.hibiki_inbound_events
        set event = ${asJson(tx, stored)}, expires_at = ${Date.parse(next.expiresAt)},
          version = nextval('public.hibiki_version')
        where hook_id = ${hookId} and id = ${id} and version = ${Number(current.version)}
        returning version`;
      if (!written) return false;
      const version = written.version as number;
      const previous = current.event.action.nextAttemptAt;
      const upcoming = next.action.nextAttemptAt;
      if (previous !== null && previous !== upcoming) {
        await tx`delete from public.hibiki_lane_items
          where lane = 'inbound' and until = 0 and at = ${previous}
            and item_id = ${itemKey([next.id])}`;
      }
      if (upcoming !== null && upcoming !== previous) {
        await queueAction(tx, next, upcoming, version);
      }
      if (options.lease) await releaseLease(tx, options.lease);
      return true;
    });
  }

  /**
   * Deletes a batch of expired events and remembered ids when it is time to look: at every
   * arrival while the last look left some behind, else once a minute.
   */
  private async sweep(now: number): Promise<void> {
    if (now < this.sweepAt) return;
    this.sweepAt = now + SWEEP_EVERY_MS;
    let full = false;
    for (const table of ["hibiki_inbound_events", "hibiki_inbound_seen"]) {
      const gone = await this.sql`delete from ${this.sql("public." + table)}
        where ctid = any(array(select ctid from ${this.sql("public." + table)}
          where expires_at <= ${now} limit ${PURGE_BATCH} for update skip locked))`;
      if (gone.count === PURGE_BATCH) full = true;
    }
    if (full) this.sweepAt = 0;
  }
}

/**
 * Remembers the event's delivery id: the first body under it, or another body apart. A row
 * left from an expired memory is taken over. False when another event holds the key.
 */
async function remember(tx: Tx, input: NewEvent): Promise<boolean> {
  const { event, bodySha256 } = input;
  if (event.deliveryId === null) return true;
  const other = event.conflictOf === null ? "" : bodySha256;
  const written = await tx`insert into public.hibiki_inbound_seen
      (hook_id, delivery_id, other_sha256, event_id, body_sha256, expires_at)
    values (${event.hookId}, ${event.deliveryId}, ${other}, ${event.id}, ${bodySha256},
      ${input.now + input.seenTtlMs})
    on conflict (hook_id, delivery_id, other_sha256) do update set
      event_id = excluded.event_id, body_sha256 = excluded.body_sha256,
      expires_at = excluded.expires_at
    where public.hibiki_inbound_seen.expires_at <= ${input.now}`;
  return written.count === 1;
}

/** Queues an event's action at `at` (a waiting item of the inbound lane). */
async function queueAction(tx: Tx, event: InboundEvent, at: number, version: number) {
  const ref: InboundRef = { hookId: event.hookId };
  await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    values ('inbound', 0, ${at}, ${itemKey([event.id])}, ${asJson(tx, ref)}, ${version})
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

function versioned(row: Row): VersionedEvent {
  return { event: row.event as InboundEvent, version: String(row.version) };
}

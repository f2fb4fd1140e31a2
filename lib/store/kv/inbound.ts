/**
 * Inbound hooks and their events in Deno KV. A hook is kept twice in one atomic operation:
 * by id (the public endpoint reads that) and under its owner (the API lists that). An event,
 * its de-duplication key, its queued action and the hook's counter are written in one
 * atomic operation, so a request is either wholly stored or not at all.
 *
 * De-duplication compares bodies, not only delivery ids: the first event under an id is
 * remembered with its body's hash, and another body under that id is remembered apart, by
 * id and hash, as the conflict event that holds it. A repeat of either is a duplicate.
 */
import { ConflictError, NotFoundError } from "../../errors.ts";
import {
  CHUNK_BYTES,
  type InboundStore,
  type NewEvent,
  type Seen,
  trimEvent,
  type VersionedEvent,
} from "../inbound.ts";
import type { LeaseRef } from "../lanes.ts";
import type { ListOptions } from "../store.ts";
import type { HookRecord, InboundEvent, InboundRef, Page } from "../types.ts";
import { GroupCommitter } from "./group_commit.ts";
import { kvKeys } from "./keys.ts";
import { collect } from "./kv_store.ts";
/**
 * Bodies up to this go into the event's own atomic operation. Deno KV refuses operations
 * over 800 KiB, so a larger body is written first, in chunks that expire on their own should
 * the event never be committed.
 */
const INLINE_BODY_BYTES = 8 * CHUNK_BYTES;
const CHUNKS_PER_OP = 10;
const PURGE_BATCH = 200;

/** The first event under a delivery id, and the hash of its body. */
interface SeenRecord {
  eventId: string;
  bodySha256: string;
}

export class KvInboundStore implements InboundStore {
  /** Events arriving together share a commit: one durable write per burst, not per request. */
  private readonly committer: GroupCommitter;

  constructor(private readonly kv: Deno.Kv) {
    this.committer = new GroupCommitter(kv, 45);
  }

  async createHook(hook: HookRecord): Promise<void> {
    const byId = kvKeys.inboundHook(hook.id);
    const byOwner = kvKeys.inboundHookOf(hook.userId, hook.id);
    const result = await this.kv.atomic()
      .check({ key: byId, versionstamp: null })
      .check({ key: byOwner, versionstamp: null })
      .set(byId, hook)
      .set(byOwner, hook)
      .commit();
    if (!result.ok) throw new ConflictError(`Cannot create hook: id "${hook.id}" already exists`);
  }

  async getHook(hookId: string): Promise<HookRecord | null> {
    return (await this.hookEntry(hookId)).value;
  }

  private async hookEntry(hookId: string): Promise<Deno.KvEntryMaybe<HookRecord>> {
    return await this.kv.get<HookRecord>(kvKeys.inboundHook(hookId));
  }

  /** The hook when `userId` owns it; others' hooks do not exist for them. */
  async getHookOf(userId: string, hookId: string): Promise<HookRecord> {
    const entry = await this.hookEntry(hookId);
    if (!entry.value || entry.value.userId !== userId) {
      throw new NotFoundError(`Hook "${hookId}" not found`);
    }
    return entry.value;
  }

  async listHooks(userId: string, options: ListOptions): Promise<Page<HookRecord>> {
    const iter = this.kv.list<HookRecord>(
      { prefix: kvKeys.inboundHooksOf(userId) },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  /** Compare-and-set change of a hook the user owns. */
  async updateHook(
    userId: string,
    hookId: string,
    change: (hook: HookRecord) => HookRecord | Promise<HookRecord>,
  ): Promise<HookRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.hookEntry(hookId);
      if (!current.value || current.value.userId !== userId) {
        throw new NotFoundError(`Hook "${hookId}" not found`);
      }
      const next = await change(current.value);
      const result = await this.kv.atomic()
        .check(current)
        .set(current.key, next)
        .set(kvKeys.inboundHookOf(userId, hookId), next)
        .commit();
      if (result.ok) return next;
    }
    throw new ConflictError(`Cannot update hook "${hookId}": too many concurrent changes`);
  }

  /** Deletes a hook at once, then its events, bodies and counters. */
  async deleteHook(userId: string, hookId: string): Promise<void> {
    const current = await this.hookEntry(hookId);
    if (!current.value || current.value.userId !== userId) {
      throw new NotFoundError(`Hook "${hookId}" not found`);
    }
    const result = await this.kv.atomic()
      .check(current)
      .delete(current.key)
      .delete(kvKeys.inboundHookOf(userId, hookId))
      .commit();
    if (!result.ok) throw new ConflictError(`Cannot delete hook "${hookId}": it changed meanwhile`);
    // What is left cannot be reached any more; if this is cut short, retention expires it.
    // Queued actions find their event gone and drop themselves.
    for (
      const prefix of [
        kvKeys.inboundEventsOf(hookId),
        kvKeys.inboundBodiesOf(hookId),
        kvKeys.inboundSeenOf(hookId),
        kvKeys.inboundCountsOf(hookId),
      ]
    ) {
      await this.deletePrefix(prefix);
    }
  }

  /** Requests stored and refused per hook, in the order of `hookIds`. */
  async counts(hookIds: string[]): Promise<{ received: number; rejected: number }[]> {
    const keys = hookIds.flatMap((id) => [
      kvKeys.inboundCount(id, "received"),
      kvKeys.inboundCount(id, "rejected"),
    ]);
    const values: (Deno.KvU64 | null)[] = [];
    for (let i = 0; i < keys.length; i += 10) {
      const entries = await this.kv.getMany<Deno.KvU64[]>(keys.slice(i, i + 10));
      values.push(...entries.map((entry) => entry.value));
    }
    return hookIds.map((_, i) => ({
      received: Number(values[2 * i]?.value ?? 0n),
      rejected: Number(values[2 * i + 1]?.value ?? 0n),
    }));
  }

  /** Shares a commit with other writes: forged requests must not cost more than real ones. */
  async countRejected(hookId: string): Promise<void> {
    await this.committer.commit((op) => op.sum(kvKeys.inboundCount(hookId, "rejected"), 1n));
  }

  /** Whether a delivery id was stored before, and with this body or another. */
  async seen(hookId: string, deliveryId: string, bodySha256: string): Promise<Seen> {
    const [first, same] = await this.kv.getMany<[SeenRecord | string, string]>([
      kvKeys.inboundSeen(hookId, deliveryId),
      kvKeys.inboundSeenBody(hookId, deliveryId, bodySha256),
    ]);
    if (first.value === null) return { kind: "new" };
    // Remembered before bodies were compared: taken as a repeat, as it was then.
    if (typeof first.value === "string") return { kind: "duplicate", eventId: first.value };
    if (first.value.bodySha256 === bodySha256) {
      return { kind: "duplicate", eventId: first.value.eventId };
    }
    if (same.value !== null) return { kind: "duplicate", eventId: same.value };
    return { kind: "conflict", firstEventId: first.value.eventId };
  }

  /**
   * Stores an event with its whole body, remembers its delivery id (with its body hash, or,
   * for a conflict, the hash alone), queues its action and counts it, in one atomic
   * operation. False when another request remembered the same delivery id (or the same
   * other body) first: nothing is stored, and the caller asks `seen` again.
   */
  async addEvent(input: NewEvent): Promise<boolean> {
    const { event, body, now } = input;
    const expireIn = Math.max(1, Date.parse(event.expiresAt) - now);
    // No chunks when the body is kept as the event's own text (see InboundReceiver.receive).
    const chunks = event.bodyChunks === 0 ? [] : splitBody(body);
    const inline = body.length <= INLINE_BODY_BYTES;
    if (!inline) {
      for (let i = 0; i < chunks.length; i += CHUNKS_PER_OP) {
        const op = this.kv.atomic();
        chunks.slice(i, i + CHUNKS_PER_OP).forEach((chunk, j) =>
          op.set(kvKeys.inboundBody(event.hookId, event.id, i + j), chunk, { expireIn })
        );
        await op.commit();
      }
    }
    const eventKey = kvKeys.inboundEvent(event.hookId, event.id);
    const seen = seenEntry(input);
    const committed = await this.committer.commit((op) => {
      op.check({ key: eventKey, versionstamp: null })
        .set(eventKey, event, { expireIn })
        .sum(kvKeys.inboundCount(event.hookId, "received"), 1n);
      if (input.dueAt !== null) {
        op.set([...kvKeys.inboundDue(), input.dueAt, event.id], { hookId: event.hookId });
      }
      if (inline) {
        chunks.forEach((chunk, i) =>
          op.set(kvKeys.inboundBody(event.hookId, event.id, i), chunk, { expireIn })
        );
      }
      if (seen) {
        op.check({ key: seen.key, versionstamp: null })
          .set(seen.key, seen.value, { expireIn: input.seenTtlMs });
      }
    });
    if (!committed && !inline) {
      await this.deletePrefix([...kvKeys.inboundBodiesOf(event.hookId), event.id]);
    }
    return committed;
  }

  async getEvent(hookId: string, eventId: string): Promise<VersionedEvent | null> {
    return versioned(await this.kv.get<InboundEvent>(kvKeys.inboundEvent(hookId, eventId)));
  }

  async getEventWithHook(
    hookId: string,
    eventId: string,
  ): Promise<{ event: VersionedEvent | null; hook: HookRecord | null }> {
    const [event, hook] = await this.kv.getMany<[InboundEvent, HookRecord]>([
      kvKeys.inboundEvent(hookId, eventId),
      kvKeys.inboundHook(hookId),
    ]);
    return { event: versioned(event), hook: hook.value };
  }

  /** Newest first. */
  async listEvents(hookId: string, options: ListOptions): Promise<Page<InboundEvent>> {
    const iter = this.kv.list<InboundEvent>(
      { prefix: kvKeys.inboundEventsOf(hookId) },
      { limit: options.limit, cursor: options.cursor, reverse: true },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  async readBody(
    event: Pick<InboundEvent, "id" | "hookId" | "body" | "bodyChunks" | "bodySize">,
  ): Promise<Uint8Array> {
    // A small text body is kept only as the event's own `body`.
    if (event.bodyChunks === 0) return new TextEncoder().encode(event.body);
    const keys = Array.from(
      { length: event.bodyChunks },
      (_, i) => kvKeys.inboundBody(event.hookId, event.id, i),
    );
    const out = new Uint8Array(event.bodySize);
    let offset = 0;
    for (let i = 0; i < keys.length; i += 10) {
      for (const entry of await this.kv.getMany<Uint8Array[]>(keys.slice(i, i + 10))) {
        if (!entry.value) throw new Error(`Cannot read body of event "${event.id}": it expired`);
        out.set(entry.value, offset);
        offset += entry.value.length;
      }
    }
    return out;
  }

  /**
   * Writes an event's new state if nobody changed it since it was read; moves its queued
   * action to the new time and releases the attempt's lease, all in one operation.
   */
  async saveEvent(
    current: VersionedEvent,
    next: InboundEvent,
    options: { now: number; lease?: LeaseRef },
  ): Promise<boolean> {
    const key = kvKeys.inboundEvent(current.event.hookId, current.event.id);
    const trimmed = trimEvent(next);
    const expireIn = Math.max(1, Date.parse(next.expiresAt) - options.now);
    const op = this.kv.atomic().check({ key, versionstamp: current.version })
      .set(key, trimmed, { expireIn });
    const previous = current.event.action.nextAttemptAt;
    const upcoming = next.action.nextAttemptAt;
    if (previous !== null && previous !== upcoming) {
      op.delete([...kvKeys.inboundDue(), previous, next.id]);
    }
    if (upcoming !== null && upcoming !== previous) {
      const ref: InboundRef = { hookId: next.hookId };
      op.set([...kvKeys.inboundDue(), upcoming, next.id], ref);
    }
    if (options.lease) op.delete(options.lease as Deno.KvKey);
    return (await op.commit()).ok;
  }

  private async deletePrefix(prefix: Deno.KvKey): Promise<void> {
    for (;;) {
      const entries = await collect(this.kv.list({ prefix }, { limit: PURGE_BATCH }));
      if (entries.length === 0) return;
      for (let i = 0; i < entries.length; i += 100) {
        const op = this.kv.atomic();
        for (const entry of entries.slice(i, i + 100)) op.delete(entry.key);
        await op.commit();
      }
    }
  }
}

function versioned(entry: Deno.KvEntryMaybe<InboundEvent>): VersionedEvent | null {
  return entry.value ? { event: entry.value, version: entry.versionstamp } : null;
}

/** The key that remembers an event's delivery id, and its value; null without an id. */
function seenEntry(input: NewEvent): { key: Deno.KvKey; value: SeenRecord | string } | null {
  const { event, bodySha256 } = input;
  if (event.deliveryId === null) return null;
  if (event.conflictOf !== null) {
    return {
      key: kvKeys.inboundSeenBody(event.hookId, event.deliveryId, bodySha256),
      value: event.id,
    };
  }
  return {
    key: kvKeys.inboundSeen(event.hookId, event.deliveryId),
    value: { eventId: event.id, bodySha256 },
  };
}

function splitBody(body: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < body.length; i += CHUNK_BYTES) {
    chunks.push(body.slice(i, i + CHUNK_BYTES));
  }
  return chunks;
}

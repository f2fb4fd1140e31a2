/** The contract for inbound hooks (seed 001) and the events they receive. */
import type { LeaseRef } from "./lanes.ts";
import type { ListOptions } from "./store.ts";
import type { HookRecord, InboundEvent, Page } from "./types.ts";

/**
 * Bytes per stored body chunk (`InboundEvent.bodyChunks` counts them): under Deno KV's 64 KiB
 * value limit with room for the key.
 */
export const CHUNK_BYTES = 60 * 1024;

/** Attempts kept on an event (the latest), so it stays well under 64 KiB in every store. */
const MAX_ATTEMPTS_KEPT = 20;

/** The event as stored: its oldest action attempts dropped. */
export function trimEvent(event: InboundEvent): InboundEvent {
  const { attempts } = event.action;
  if (attempts.length <= MAX_ATTEMPTS_KEPT) return event;
  return { ...event, action: { ...event.action, attempts: attempts.slice(-MAX_ATTEMPTS_KEPT) } };
}

export interface NewEvent {
  event: InboundEvent;
  body: Uint8Array;
  /** When to run the action (epoch ms); null when there is nothing left to run. */
  dueAt: number | null;
  now: number;
  /** SHA-256 of the body, hex, compared under the delivery id; unused without one. */
  bodySha256: string;
  /** How long the provider delivery id is remembered. */
  seenTtlMs: number;
}

/** What a delivery id and body hash are to this hook: new, a repeat, or a changed body. */
export type Seen =
  | { kind: "new" }
  | { kind: "duplicate"; eventId: string }
  | { kind: "conflict"; firstEventId: string };

/** An event as read for a compare-and-set change (`version` is opaque). */
export interface VersionedEvent {
  event: InboundEvent;
  version: string;
}

export interface InboundStore {
  /** Throws ConflictError when the id is taken. */
  createHook(hook: HookRecord): Promise<void>;
  getHook(hookId: string): Promise<HookRecord | null>;
  /** The hook when `userId` owns it; NotFoundError otherwise (others' hooks do not exist). */
  getHookOf(userId: string, hookId: string): Promise<HookRecord>;
  listHooks(userId: string, options: ListOptions): Promise<Page<HookRecord>>;
  /** Compare-and-set change of a hook the user owns. */
  updateHook(
    userId: string,
    hookId: string,
    change: (hook: HookRecord) => HookRecord | Promise<HookRecord>,
  ): Promise<HookRecord>;
  /** Deletes a hook at once, then its events, bodies and counters. */
  deleteHook(userId: string, hookId: string): Promise<void>;
  /** Requests stored and refused per hook, in the order of `hookIds`. */
  counts(hookIds: string[]): Promise<{ received: number; rejected: number }[]>;
  countRejected(hookId: string): Promise<void>;
  /** Whether a delivery id was stored before, and with this body or another. */
  seen(hookId: string, deliveryId: string, bodySha256: string): Promise<Seen>;
  /**
   * Stores an event with its whole body, remembers its delivery id, queues its action and
   * counts it, all or nothing. False when another request remembered the same delivery id
   * (or the same other body) first: nothing is stored, and the caller asks `seen` again.
   */
  addEvent(input: NewEvent): Promise<boolean>;
  getEvent(hookId: string, eventId: string): Promise<VersionedEvent | null>;
  /** The event and its hook in one read, for an action attempt. */
  getEventWithHook(
    hookId: string,
    eventId: string,
  ): Promise<{ event: VersionedEvent | null; hook: HookRecord | null }>;
  /** Newest first. */
  listEvents(hookId: string, options: ListOptions): Promise<Page<InboundEvent>>;
  readBody(
    event: Pick<InboundEvent, "id" | "hookId" | "body" | "bodyChunks" | "bodySize">,
  ): Promise<Uint8Array>;
  /**
   * Writes an event's new state if nobody changed it since it was read; moves its queued
   * action to the new time and releases the attempt's lease, all at once.
   */
  saveEvent(
    current: VersionedEvent,
    next: InboundEvent,
    options: { now: number; lease?: LeaseRef },
  ): Promise<boolean>;
}

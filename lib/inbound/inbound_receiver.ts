/**
 * The public endpoint's side of inbound hooks (seed 001's webhook target): `receive` reads at
 * most the hook's body limit, verifies the raw bytes, answers an ownership challenge, stores
 * the request durably and only then lets the caller acknowledge it; the action runs later
 * from the lane (see `action_runner.ts`). Managing hooks is `inbound_hooks.ts`.
 */
import { BoundedCache } from "../bounded_cache.ts";
import type { Clock } from "../clock.ts";
import { randomBytes, sha256Hex } from "../crypto.ts";
import { ConflictError, NotFoundError, PayloadTooLargeError } from "../errors.ts";
import { readCapped } from "../request_body.ts";
import { challengeOf } from "./challenge.ts";
import type { HookSecrets } from "./hook_secrets.ts";
import { CHUNK_BYTES, type InboundStore } from "../store/inbound.ts";
import type { InboundMetrics } from "./metrics.ts";
import { redactHeaders } from "./redact.ts";
import type { HookRecord, InboundEvent } from "../store/types.ts";
import type { ReceiveResult } from "./types.ts";
import { verifyRequest } from "./verify.ts";

export const HOOK_ID = /^hook_[0-9a-f]{32}$/;
const DEFAULT_RETENTION_MS = 30 * 86_400_000;
const DEFAULT_SEEN_TTL_MS = 3 * 86_400_000;
/** Body bytes shown on an event; the action gets the whole body. */
const BODY_PREVIEW_BYTES = 4096;
const HOOK_CACHE_MS = 1000;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
const MAX_DELIVERY_ID_LENGTH = 200;
/** Provider delivery ids, most specific first. */
const DELIVERY_ID_HEADERS = [
  "webhook-id",
  "svix-id",
  "x-webhook-id",
  "x-github-delivery",
  "x-request-id",
];

export interface InboundReceiverOptions {
  store: InboundStore;
  secrets: HookSecrets;
  clock: Clock;
  metrics: InboundMetrics;
  /** Told when an action is due, so the lane can start it on time. */
  onDue: (at: number) => void;
  /** How long events and their bodies are kept; default 30 days. */
  retentionMs?: number;
  /** How long a provider delivery id is remembered; default 3 days. */
  seenTtlMs?: number;
}

export class InboundReceiver {
  private readonly hooks = new BoundedCache<string, { hook: HookRecord | null; at: number }>();

  constructor(private readonly options: InboundReceiverOptions) {}

  /** Drops a changed or deleted hook from the cache, so this process applies it at once. */
  forget(hookId: string): void {
    this.hooks.delete(hookId);
  }

  /**
   * Hooks are read for every request they receive; a hook is kept in memory for a second, so
   * a burst of requests costs one read. A change made by this process applies at once, one
   * made by another within the second.
   */
  private async hookForReceive(hookId: string): Promise<HookRecord | null> {
    const now = Date.now();
    const cached = this.hooks.get(hookId);
    if (cached && now - cached.at < HOOK_CACHE_MS) return cached.hook;
    const hook = await this.options.store.getHook(hookId);
    this.hooks.set(hookId, { hook, at: now });
    return hook;
  }

  /**
   * Handles one request to `POST /hooks/:id`. Resolves only after an accepted request is
   * committed, so an acknowledgement always means the request is stored.
   *
   * @throws {NotFoundError} no such hook, or it is disabled
   * @throws {PayloadTooLargeError} the body is larger than the hook allows
   */
  async receive(hookId: string, request: Request): Promise<ReceiveResult> {
    const { store, clock, metrics } = this.options;
    const hook = HOOK_ID.test(hookId) ? await this.hookForReceive(hookId) : null;
    if (!hook || !hook.enabled) throw new NotFoundError(`Hook "${hookId}" not found`);
    let body: Uint8Array;
    try {
      body = await readCapped(request, hook.maxBodyBytes);
    } catch (error) {
      if (error instanceof PayloadTooLargeError) metrics.tooLarge++;
      throw error;
    }

    const now = clock.now();
    const outcome = verifyRequest(await this.options.secrets.openVerification(hook), {
      body,
      headers: request.headers,
      now,
    });
    if (!outcome.ok) {
      metrics.rejected[outcome.reason]++;
      await store.countRejected(hook.id);
      return { kind: "rejected", message: `Cannot verify request: ${outcome.message}` };
    }

    if (hook.challenge) {
      const challenge = challengeOf(body);
      if (challenge) {
        metrics.challenges++;
        return { kind: "challenge", ...challenge };
      }
    }

    const deliveryId = deliveryIdOf(hook, request.headers, body);
    const bodySha256 = deliveryId === null ? "" : sha256Hex(body);
    const eventId = `evt_${now.toString(16).padStart(12, "0")}${randomBytes(8).toHex()}`;
    // A lost race means another request stored this id (or this other body) meanwhile, and
    // asking again finds it: a duplicate, or now a conflict. A few rounds settle any race.
    for (let round = 0; round < 3; round++) {
      const seen = deliveryId === null
        ? { kind: "new" as const }
        : await store.seen(hook.id, deliveryId, bodySha256);
      if (seen.kind === "duplicate") {
        metrics.duplicates++;
        return { kind: "duplicate", eventId: seen.eventId };
      }
      const conflictOf = seen.kind === "conflict" ? seen.firstEventId : null;
      const event = this.newEvent(hook, request, body, {
        id: eventId,
        now,
        deliveryId,
        conflictOf,
      });
      // Storing is the whole of a `store` action; a conflict's action waits for a replay.
      const queued = event.action.state === "pending";
      const stored = await store.addEvent({
        event,
        body,
        bodySha256,
        dueAt: queued ? now : null,
        now,
        seenTtlMs: this.options.seenTtlMs ?? DEFAULT_SEEN_TTL_MS,
      });
      if (!stored) continue;
      if (queued) this.options.onDue(now);
      if (conflictOf !== null) {
        metrics.conflicts++;
        return { kind: "conflict", eventId, conflictOf };
      }
      metrics.received++;
      return { kind: "accepted", eventId };
    }
    throw new ConflictError("Cannot store request: it is being stored concurrently, try again");
  }

  /** The event a verified request becomes; its action by the hook's and whether it conflicts. */
  private newEvent(
    hook: HookRecord,
    request: Request,
    body: Uint8Array,
    options: { id: string; now: number; deliveryId: string | null; conflictOf: string | null },
  ): InboundEvent {
    const { now } = options;
    const preview = body.subarray(0, BODY_PREVIEW_BYTES);
    const event: InboundEvent = {
      id: options.id,
      hookId: hook.id,
      userId: hook.userId,
      receivedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + (this.options.retentionMs ?? DEFAULT_RETENTION_MS)).toISOString(),
      deliveryId: options.deliveryId,
      conflictOf: options.conflictOf,
      contentType: request.headers.get("content-type"),
      headers: redactHeaders(request.headers, hook.verification),
      bodySize: body.length,
      body: new TextDecoder().decode(preview, { stream: body.length > preview.length }),
      bodyTruncated: body.length > preview.length,
      // A small text body is kept once, as the event's own `body`; only others get chunks.
      bodyChunks: body.length <= preview.length && isUtf8(body)
        ? 0
        : Math.ceil(body.length / CHUNK_BYTES),
      verification: { mode: hook.verification.mode, verified: hook.verification.mode !== "none" },
      action: { state: "pending", nextAttemptAt: now, attemptsInRound: 0, attempts: [] },
    };
    // Storing is the whole of a `store` action: done with the write, nothing to queue.
    if (hook.action.type === "store") {
      event.action = {
        state: "succeeded",
        nextAttemptAt: null,
        attemptsInRound: 1,
        attempts: [{
          n: 1,
          at: event.receivedAt,
          type: "store",
          success: true,
          status: 0,
          durationMs: 0,
          error: null,
          detail: "stored",
        }],
      };
    } else if (options.conflictOf !== null) {
      // The sender said "the same delivery" and sent something else: a person decides.
      event.action = { state: "held", nextAttemptAt: null, attemptsInRound: 0, attempts: [] };
    }
    return event;
  }
}

/** The provider's id of this delivery, the same on its retries; null when it sends none. */
export function deliveryIdOf(
  hook: Pick<HookRecord, "verification">,
  headers: Headers,
  body: Uint8Array,
): string | null {
  let id: string | null = null;
  if (hook.verification.mode === "stripe") {
    try {
      const data = JSON.parse(new TextDecoder().decode(body));
      if (typeof data?.id === "string" && data.id !== "") id = data.id;
    } catch {
      id = null;
    }
  }
  for (const name of DELIVERY_ID_HEADERS) {
    if (id !== null) break;
    const value = headers.get(name)?.trim();
    if (value) id = value;
  }
  if (id === null) return null;
  // Keys are limited to 2 KiB, and an id is the provider's to choose: long or odd ones are
  // remembered by their hash.
  if (id.length > MAX_DELIVERY_ID_LENGTH || !/^[\x20-\x7e]+$/.test(id)) {
    return `sha256:${sha256Hex(id)}`;
  }
  return id;
}

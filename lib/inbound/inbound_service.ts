/**
 * Inbound hooks as the API and the public endpoint use them. `receive` is seed 001's webhook
 * target: it reads at most the hook's body limit, verifies the raw bytes, answers an ownership
 * challenge, stores the request durably and only then lets the caller acknowledge it; the
 * action runs later from the queue (see `action_runner.ts`).
 */
import type { Clock } from "../clock.ts";
import { randomBytes, type SecretBox, sha256Hex, toBase64Url, toHex } from "../crypto.ts";
import { ConflictError, NotFoundError, PayloadTooLargeError } from "../errors.ts";
import { readCapped } from "../request_body.ts";
import type { Page } from "../store/types.ts";
import { maskSecret, newWebhookSecret, SECRET_PREFIX } from "../webhooks/secrets.ts";
import {
  type ActionInput,
  type HookPatch,
  parseHookInput,
  parseHookPatch,
  type RelayRules,
  type VerificationInput,
} from "./hook_input.ts";
import { CHUNK_BYTES, type InboundStore } from "../store/inbound.ts";
import type { ListOptions } from "../store/store.ts";
import type { InboundMetrics } from "./metrics.ts";
import type { HookView, InboundEventView, ReceiveResult } from "./types.ts";
import type { HookAction, HookRecord, InboundEvent, Verification } from "../store/types.ts";
import { verifyRequest } from "./verify.ts";

const HOOK_ID = /^hook_[0-9a-f]{32}$/;
const EVENT_ID = /^evt_[0-9a-f]{28}$/;
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
const MAX_HEADERS_KEPT = 100;
const MAX_HEADER_VALUE = 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_CHALLENGE_LENGTH = 2048;
const MAX_DELIVERY_ID_LENGTH = 200;
/** Provider delivery ids, most specific first. */
const DELIVERY_ID_HEADERS = [
  "webhook-id",
  "svix-id",
  "x-webhook-id",
  "x-github-delivery",
  "x-request-id",
];
/** Header names whose values are credentials or signatures, never stored. */
const SENSITIVE_HEADER =
  /authorization|cookie|signature|secret|token|api[-_]?key|password|credential|session/i;
const REDACTED = "[redacted]";

export interface InboundServiceOptions extends RelayRules {
  store: InboundStore;
  box: SecretBox;
  clock: Clock;
  metrics: InboundMetrics;
  /** Told when an action is due, so the queue can start it on time. */
  onDue: (at: number) => void;
  /** Whether the user has this job; checked when a hook is set to run one. */
  jobExists?: (userId: string, jobId: string) => Promise<boolean>;
  /** How long events and their bodies are kept; default 30 days. */
  retentionMs?: number;
  /** How long a provider delivery id is remembered; default 3 days. */
  seenTtlMs?: number;
}

/** Secrets to show in full in this one answer (those Hibiki just made). */
interface Shown {
  verification?: string;
  relay?: string;
}

export class InboundService {
  private readonly opened = new Map<string, string>();
  private readonly hooks = new Map<string, { hook: HookRecord | null; at: number }>();

  constructor(private readonly options: InboundServiceOptions) {}

  async create(userId: string, body: unknown): Promise<HookView> {
    const input = parseHookInput(body, this.options);
    await this.checkAction(userId, input.action);
    const id = `hook_${toHex(randomBytes(16))}`;
    const stamp = new Date(this.options.clock.now()).toISOString();
    const shown: Shown = {};
    const record: HookRecord = {
      id,
      userId,
      name: input.name,
      enabled: input.enabled,
      verification: await this.sealVerification(id, input.verification, shown),
      challenge: input.challenge,
      action: input.action,
      relaySecret: await this.relaySecretFor(id, input.action, null, shown),
      maxBodyBytes: input.maxBodyBytes,
      createdAt: stamp,
      updatedAt: stamp,
    };
    await this.options.store.createHook(record);
    return await this.view(record, { received: 0, rejected: 0 }, shown);
  }

  async list(userId: string, page: ListOptions): Promise<Page<HookView>> {
    const result = await this.options.store.listHooks(userId, page);
    const counts = await this.options.store.counts(result.values.map((hook) => hook.id));
    return {
      values: await Promise.all(result.values.map((hook, i) => this.view(hook, counts[i], {}))),
      cursor: result.cursor,
    };
  }

  async get(userId: string, hookId: string): Promise<HookView> {
    const hook = await this.options.store.getHookOf(userId, this.hookId(hookId));
    const [counts] = await this.options.store.counts([hook.id]);
    return await this.view(hook, counts, {});
  }

  async update(userId: string, hookId: string, body: unknown): Promise<HookView> {
    this.hookId(hookId);
    const patch: HookPatch = parseHookPatch(body, this.options);
    await this.options.store.getHookOf(userId, hookId);
    if (patch.action) await this.checkAction(userId, patch.action);
    let shown: Shown = {};
    const next = await this.options.store.updateHook(userId, hookId, async (current) => {
      shown = {};
      const hook: HookRecord = {
        ...current,
        name: patch.name ?? current.name,
        enabled: patch.enabled ?? current.enabled,
        challenge: patch.challenge ?? current.challenge,
        maxBodyBytes: patch.maxBodyBytes ?? current.maxBodyBytes,
        updatedAt: new Date(this.options.clock.now()).toISOString(),
      };
      if (patch.verification) {
        hook.verification = await this.sealVerification(hookId, patch.verification, shown);
      }
      if (patch.action) {
        hook.action = patch.action;
        hook.relaySecret = await this.relaySecretFor(
          hookId,
          patch.action,
          current.relaySecret,
          shown,
        );
      }
      return hook;
    });
    this.hooks.delete(hookId);
    const [counts] = await this.options.store.counts([hookId]);
    return await this.view(next, counts, shown);
  }

  async delete(userId: string, hookId: string): Promise<void> {
    await this.options.store.deleteHook(userId, this.hookId(hookId));
    this.hooks.delete(hookId);
  }

  async listEvents(
    userId: string,
    hookId: string,
    page: ListOptions,
  ): Promise<Page<InboundEventView>> {
    await this.options.store.getHookOf(userId, this.hookId(hookId));
    const found = await this.options.store.listEvents(hookId, page);
    return { values: found.values.map(eventView), cursor: found.cursor };
  }

  async getEvent(userId: string, hookId: string, eventId: string): Promise<InboundEventView> {
    await this.options.store.getHookOf(userId, this.hookId(hookId));
    const found = EVENT_ID.test(eventId)
      ? await this.options.store.getEvent(hookId, eventId)
      : null;
    if (!found) throw new NotFoundError(`Event "${eventId}" not found`);
    return eventView(found.event);
  }

  /** Runs the hook's action on a stored event again, now; the retry schedule starts over. */
  async replay(userId: string, hookId: string, eventId: string): Promise<InboundEventView> {
    await this.options.store.getHookOf(userId, this.hookId(hookId));
    for (let attempt = 0; attempt < 10; attempt++) {
      const found = EVENT_ID.test(eventId)
        ? await this.options.store.getEvent(hookId, eventId)
        : null;
      if (!found) throw new NotFoundError(`Event "${eventId}" not found`);
      const now = this.options.clock.now();
      const next: InboundEvent = {
        ...found.event,
        action: { ...found.event.action, state: "pending", nextAttemptAt: now, attemptsInRound: 0 },
      };
      if (await this.options.store.saveEvent(found, next, { now })) {
        this.options.onDue(now);
        return eventView(next);
      }
    }
    throw new ConflictError(`Cannot replay "${eventId}": it is changing, try again`);
  }

  /**
   * Handles one request to `POST /hooks/:id`. Resolves only after an accepted request is
   * committed, so an acknowledgement always means the request is stored.
   *
   * @throws {NotFoundError} no such hook, or it is disabled
   * @throws {PayloadTooLargeError} the body is larger than the hook allows
   */
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
    if (this.hooks.size >= 10_000) this.hooks.clear();
    this.hooks.set(hookId, { hook, at: now });
    return hook;
  }

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
    const outcome = verifyRequest(await this.openVerification(hook), {
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
    const eventId = `evt_${now.toString(16).padStart(12, "0")}${toHex(randomBytes(8))}`;
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

  /** The plain `whsec_` secret that signs this hook's relayed requests. */
  async relaySecret(hook: HookRecord): Promise<string> {
    if (hook.relaySecret === null) {
      throw new Error(`Cannot relay for hook "${hook.id}": it has no relay secret`);
    }
    return await this.open(hook.relaySecret, `inbound:${hook.id}:relay`);
  }

  private hookId(hookId: string): string {
    if (!HOOK_ID.test(hookId)) throw new NotFoundError(`Hook "${hookId}" not found`);
    return hookId;
  }

  private async checkAction(userId: string, action: ActionInput): Promise<void> {
    if (action.type !== "run" || !this.options.jobExists) return;
    if (!(await this.options.jobExists(userId, action.jobId))) {
      throw new NotFoundError(`Job "${action.jobId}" not found`);
    }
  }

  /** Seals the secret, making one when the input has none; a made secret is shown once. */
  private async sealVerification(
    hookId: string,
    input: VerificationInput,
    shown: Shown,
  ): Promise<Verification> {
    if (input.mode === "none") return input;
    let secret = input.secret;
    if (secret === undefined) {
      secret = input.mode === "standard_webhooks"
        ? newWebhookSecret()
        : toBase64Url(randomBytes(32));
      shown.verification = secret;
    }
    const sealed = await this.options.box.seal(secret, `inbound:${hookId}:verify`);
    return { ...input, secret: sealed } as Verification;
  }

  /** A relaying hook keeps its relay secret across changes; a new one is shown once. */
  private async relaySecretFor(
    hookId: string,
    action: HookAction,
    current: string | null,
    shown: Shown,
  ): Promise<string | null> {
    if (action.type !== "relay") return null;
    if (current !== null) return current;
    shown.relay = newWebhookSecret();
    return await this.options.box.seal(shown.relay, `inbound:${hookId}:relay`);
  }

  private async openVerification(hook: HookRecord): Promise<Verification> {
    const v = hook.verification;
    if (v.mode === "none") return v;
    return { ...v, secret: await this.open(v.secret, `inbound:${hook.id}:verify`) };
  }

  /** Opening costs an AES-GCM decryption on every request; keep what was opened. */
  private async open(sealed: string, context: string): Promise<string> {
    let secret = this.opened.get(sealed);
    if (secret === undefined) {
      secret = await this.options.box.open(sealed, context);
      if (this.opened.size >= 10_000) this.opened.clear();
      this.opened.set(sealed, secret);
    }
    return secret;
  }

  private async view(
    hook: HookRecord,
    counts: { received: number; rejected: number },
    shown: Shown,
  ): Promise<HookView> {
    const verification: HookView["verification"] = { ...hook.verification };
    if (hook.verification.mode !== "none") {
      verification.secret = shown.verification ??
        mask(await this.open(hook.verification.secret, `inbound:${hook.id}:verify`));
    }
    const action: HookView["action"] = { ...hook.action };
    if (hook.relaySecret !== null) {
      action.secret = shown.relay ?? mask(await this.relaySecret(hook));
    }
    return {
      id: hook.id,
      path: `/hooks/${hook.id}`,
      name: hook.name,
      enabled: hook.enabled,
      verification,
      challenge: hook.challenge,
      action,
      maxBodyBytes: hook.maxBodyBytes,
      received: counts.received,
      rejected: counts.rejected,
      createdAt: hook.createdAt,
      updatedAt: hook.updatedAt,
    };
  }
}

export function eventView(event: InboundEvent): InboundEventView {
  const { nextAttemptAt } = event.action;
  return {
    ...event,
    // Events stored before conflicts were told apart have no such field.
    conflictOf: event.conflictOf ?? null,
    action: {
      ...event.action,
      nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
    },
  };
}

/** Enough to recognise a secret, never enough to use it. */
function mask(secret: string): string {
  if (secret.startsWith(SECRET_PREFIX)) return maskSecret(secret);
  return secret.length >= 24 ? `${secret.slice(0, 4)}…` : "…";
}

/**
 * An ownership challenge: Slack's `{ "type": "url_verification", "challenge" }` is answered
 * with `{ "challenge" }`; any other JSON object with a string `challenge` with the value itself,
 * as seed 001's `return data['challenge']` does.
 */
export function challengeOf(
  body: Uint8Array,
): { challenge: string; shape: "slack" | "plain" } | null {
  if (body.length === 0 || body.length > 64 * 1024) return null;
  let data: unknown;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return null;
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) return null;
  const { challenge, type } = data as Record<string, unknown>;
  if (typeof challenge !== "string" || challenge.length > MAX_CHALLENGE_LENGTH) return null;
  return { challenge, shape: type === "url_verification" ? "slack" : "plain" };
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

/** Request headers as stored on an event: credentials, signatures and the secret removed. */
export function redactHeaders(
  headers: Headers,
  verification: Verification,
): Record<string, string> {
  const secretHeader = verification.mode === "header_secret" ||
      verification.mode === "hmac_sha256"
    ? verification.header.toLowerCase()
    : null;
  const out: Record<string, string> = {};
  let count = 0;
  let bytes = 0;
  for (const [name, value] of headers) {
    if (count >= MAX_HEADERS_KEPT || bytes >= MAX_HEADER_BYTES) break;
    const kept = name === secretHeader || SENSITIVE_HEADER.test(name)
      ? REDACTED
      : value.slice(0, MAX_HEADER_VALUE);
    out[name] = kept;
    count++;
    bytes += name.length + kept.length;
  }
  return out;
}

/**
 * Managing inbound hooks, as the API and the admin pages do: create, read, change and delete
 * hooks, read their events, replay an event's action. Secrets are made and sealed here and
 * shown once; afterwards only masked. Receiving requests is `inbound_receiver.ts`.
 */
import type { Clock } from "../clock.ts";
import { randomBytes } from "../crypto.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { Page } from "../store/types.ts";
import { maskSecret, SECRET_PREFIX } from "../webhooks/secrets.ts";
import {
  type ActionInput,
  type HookPatch,
  parseHookInput,
  parseHookPatch,
  type RelayRules,
} from "./hook_input.ts";
import type { HookSecrets, Shown } from "./hook_secrets.ts";
import { HOOK_ID } from "./inbound_receiver.ts";
import type { InboundStore } from "../store/inbound.ts";
import type { ListOptions } from "../store/store.ts";
import type { HookRecord, InboundEvent } from "../store/types.ts";
import type { HookView, InboundEventView } from "./types.ts";

const EVENT_ID = /^evt_[0-9a-f]{28}$/;

export interface InboundHooksOptions extends RelayRules {
  store: InboundStore;
  secrets: HookSecrets;
  clock: Clock;
  /** Told when a replayed action is due, so the lane can start it on time. */
  onDue: (at: number) => void;
  /** Told when a hook changes or goes, so the receive path stops using its cached copy. */
  onChanged: (hookId: string) => void;
  /** Whether the user has this job; checked when a hook is set to run one. */
  jobExists?: (userId: string, jobId: string) => Promise<boolean>;
}

export class InboundHooks {
  constructor(private readonly options: InboundHooksOptions) {}

  async create(userId: string, body: unknown): Promise<HookView> {
    const { secrets } = this.options;
    const input = parseHookInput(body, this.options);
    await this.checkAction(userId, input.action);
    const id = `hook_${randomBytes(16).toHex()}`;
    const stamp = new Date(this.options.clock.now()).toISOString();
    const shown: Shown = {};
    const record: HookRecord = {
      id,
      userId,
      name: input.name,
      enabled: input.enabled,
      verification: await secrets.sealVerification(id, input.verification, shown),
      challenge: input.challenge,
      action: input.action,
      relaySecret: await secrets.relaySecretFor(id, input.action, null, shown),
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
    const { secrets } = this.options;
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
        hook.verification = await secrets.sealVerification(hookId, patch.verification, shown);
      }
      if (patch.action) {
        hook.action = patch.action;
        hook.relaySecret = await secrets.relaySecretFor(
          hookId,
          patch.action,
          current.relaySecret,
          shown,
        );
      }
      return hook;
    });
    this.options.onChanged(hookId);
    const [counts] = await this.options.store.counts([hookId]);
    return await this.view(next, counts, shown);
  }

  async delete(userId: string, hookId: string): Promise<void> {
    await this.options.store.deleteHook(userId, this.hookId(hookId));
    this.options.onChanged(hookId);
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

  private async view(
    hook: HookRecord,
    counts: { received: number; rejected: number },
    shown: Shown,
  ): Promise<HookView> {
    const { secrets } = this.options;
    const verification: HookView["verification"] = { ...hook.verification };
    if (shown.verification !== undefined) verification.secret = shown.verification;
    else {
      const opened = await secrets.openVerification(hook);
      if (opened.mode !== "none") verification.secret = mask(opened.secret);
    }
    const action: HookView["action"] = { ...hook.action };
    if (hook.relaySecret !== null) {
      action.secret = shown.relay ?? mask(await secrets.relaySecret(hook));
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

/**
 * Runs one queued inbound action and decides what follows: `store` is done once the event is
 * stored, `relay` sends the body on (over lib/net/probe.ts, SSRF-guarded, re-signed with the
 * hook's own Standard Webhooks secret), `run` starts a job with the payload. A failure is retried
 * on a fixed schedule by the one policy of lib/net/retry.ts (jitter, a relay target's
 * `Retry-After` honoured up to a cap); a permanent one (the job or hook is gone, the target is refused or says
 * 410 Gone) ends the event at once. Every attempt is recorded on the event.
 *
 * The dispatcher's lease means one attempt of an event at a time across processes; the result
 * is written with compare-and-set, so a replay that came in meanwhile wins and the stale
 * attempt's outcome is dropped.
 */
import type { Clock } from "../clock.ts";
import { NotFoundError } from "../errors.ts";
import { probe, type ProbeOptions, type ProbeRequest, type ProbeResult } from "../net/probe.ts";
import { randomJitter, retryDelay } from "../net/retry.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";
import { standardSignatures } from "../webhooks/signing.ts";
import type { HookSecrets } from "./hook_secrets.ts";
import type { InboundStore, VersionedEvent } from "../store/inbound.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { InboundMetrics } from "./metrics.ts";
import type { RunJob } from "./types.ts";
import type {
  ActionAttempt,
  HookRecord,
  InboundEvent,
  InboundRef,
  RelayAction,
} from "../store/types.ts";

export const DEFAULT_RETRY_SCHEDULE_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000];
const RELAY_USER_AGENT = "Hibiki-Relay/1.0";
const RESPONSE_SNIPPET_BYTES = 512;
const MAX_ERROR_LENGTH = 500;

export interface ActionRunnerOptions {
  store: InboundStore;
  /** Ends an attempt's lease when nothing is written. */
  lanes: LaneStore;
  secrets: HookSecrets;
  clock: Clock;
  metrics: InboundMetrics;
  runJob: RunJob;
  allowPrivateNetworks: boolean;
  /** Delays before the 2nd, 3rd, … attempt; default 5s, 30s, 2m, 10m, 1h. */
  retryScheduleMs?: number[];
  onDue: (at: number) => void;
  /** Sends a relay; lib/net/probe.ts unless a test wraps it. */
  send?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** Retry jitter in [-1, 1); injectable so tests see exact times. */
  jitter?: () => number;
}

interface Outcome {
  success: boolean;
  /** Retrying cannot help. */
  permanent: boolean;
  status: number;
  error: string | null;
  detail: string | null;
  /** The relay target's `Retry-After`, if it sent one. */
  retryAfter?: string;
}

export class ActionRunner {
  private readonly send: NonNullable<ActionRunnerOptions["send"]>;
  private readonly schedule: number[];
  private readonly jitter: () => number;

  constructor(private readonly options: ActionRunnerOptions) {
    this.send = options.send ?? probe;
    this.schedule = options.retryScheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
    this.jitter = options.jitter ?? randomJitter;
  }

  /** The lease an attempt needs: the longest relay deadline plus room to record the result. */
  static leaseMs(): number {
    return 45_000;
  }

  async execute(item: QueueItem<InboundRef>, lease: Lease): Promise<void> {
    const { store, clock } = this.options;
    const eventId = item.id[0] as string;
    const found = await store.getEventWithHook(item.value.hookId, eventId);
    const event = found.event?.event;
    // Gone (hook deleted, retention), already settled, or moved to another time by a replay.
    if (
      !found.event || !event || event.action.state !== "pending" ||
      event.action.nextAttemptAt !== item.at
    ) {
      await this.options.lanes.release(lease.ref);
      return;
    }
    const hook = found.hook;
    const startedAt = clock.now();
    const started = performance.now();
    const outcome: Outcome = hook
      ? await this.perform(hook, event, startedAt).catch((error) => failure(error))
      : { success: false, permanent: true, status: 0, error: "Hook deleted", detail: null };
    const attempt: ActionAttempt = {
      n: event.action.attemptsInRound + 1,
      at: new Date(startedAt).toISOString(),
      type: hook?.action.type ?? "store",
      success: outcome.success,
      status: outcome.status,
      durationMs: Math.round(performance.now() - started),
      error: outcome.error?.slice(0, MAX_ERROR_LENGTH) ?? null,
      detail: outcome.detail,
    };
    await this.settle(found.event, attempt, outcome, lease);
  }

  private async perform(hook: HookRecord, event: InboundEvent, now: number): Promise<Outcome> {
    const action = hook.action;
    switch (action.type) {
      case "store":
        return { success: true, permanent: false, status: 0, error: null, detail: "stored" };
      case "relay":
        return await this.relay(hook, action, event, now);
      case "run":
        return await this.run(hook, action.jobId, event);
    }
  }

  private async relay(
    hook: HookRecord,
    action: RelayAction,
    event: InboundEvent,
    now: number,
  ): Promise<Outcome> {
    const body = await this.options.store.readBody(event);
    const secret = await this.options.secrets.relaySecret(hook);
    const timestamp = Math.floor(now / 1000);
    // The event id is the relay's message id on every attempt, so the target can de-duplicate.
    const headers: Record<string, string> = {
      ...(action.headers ?? {}),
      "Content-Type": event.contentType ?? "application/octet-stream",
      "User-Agent": RELAY_USER_AGENT,
      "webhook-id": event.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": standardSignatures(event.id, timestamp, body, [secret]),
      "X-Hibiki-Hook-Id": hook.id,
    };
    if (event.deliveryId !== null) headers["X-Hibiki-Delivery-Id"] = event.deliveryId;
    const result = await this.send(
      { url: action.url, method: "POST", headers, body, timeoutMs: action.timeoutMs },
      {
        allowPrivate: this.options.allowPrivateNetworks,
        maxRedirects: 0,
        bodyLimit: RESPONSE_SNIPPET_BYTES,
        userAgent: RELAY_USER_AGENT,
      },
    );
    return {
      success: result.success,
      permanent: result.error?.category === "blocked" || result.code === 410,
      status: result.code,
      error: result.error?.message ?? result.failure,
      detail: result.body || null,
      retryAfter: result.headers["retry-after"],
    };
  }

  private async run(hook: HookRecord, jobId: string, event: InboundEvent): Promise<Outcome> {
    const body = await this.options.store.readBody(event);
    const text = new TextDecoder().decode(body);
    let payload: unknown = text;
    if (/json/i.test(event.contentType ?? "") || /^\s*[{[]/.test(text)) {
      try {
        payload = JSON.parse(text);
      } catch {
        payload = text;
      }
    }
    try {
      const started = await this.options.runJob(hook.userId, jobId, { payload, eventId: event.id });
      return {
        success: true,
        permanent: false,
        status: 0,
        error: null,
        detail: started?.runId ? `run ${started.runId}` : "run started",
      };
    } catch (error) {
      return { ...failure(error), permanent: error instanceof NotFoundError };
    }
  }

  private async settle(
    entry: VersionedEvent,
    attempt: ActionAttempt,
    outcome: Outcome,
    lease: Lease,
  ): Promise<void> {
    const { metrics, clock, store } = this.options;
    const now = clock.now();
    const delay = outcome.success || outcome.permanent ? undefined : retryDelay(
      this.schedule,
      entry.event.action.attemptsInRound,
      { retryAfter: outcome.retryAfter, now, jitter: this.jitter },
    ) ?? undefined;
    const state = outcome.success ? "succeeded" : delay === undefined ? "failed" : "pending";
    if (outcome.success) metrics.actions.success++;
    else if (state === "failed") metrics.actions.failed++;
    else metrics.actions.failure++;
    const next: InboundEvent = {
      ...entry.event,
      action: {
        state,
        nextAttemptAt: delay === undefined ? null : now + delay,
        attemptsInRound: attempt.n,
        attempts: [...entry.event.action.attempts, attempt],
      },
    };
    if (await store.saveEvent(entry, next, { now, lease: lease.ref })) {
      if (delay !== undefined) this.options.onDue(now + delay);
    } else {
      // A replay changed the event meanwhile and queued its own attempt.
      await this.options.lanes.release(lease.ref);
    }
  }
}

function failure(error: unknown): Outcome {
  return {
    success: false,
    permanent: false,
    status: 0,
    error: error instanceof Error ? error.message : String(error),
    detail: null,
  };
}

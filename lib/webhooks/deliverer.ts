/**
 * Sends one delivery attempt and decides what follows. Success is a 2xx within the deadline;
 * a 3xx is a failure and is not followed. Failures retry on a fixed schedule by the one
 * policy of lib/net/retry.ts (jitter, `Retry-After` honoured up to a cap); when the schedule is spent the delivery is dead
 * until redelivered. A 410 Gone disables the webhook at once, and so do failures without a
 * single success for three days; the owner sees why on the webhook.
 *
 * The dispatcher's lease means one attempt of a delivery at a time across all processes, and
 * a delivery that succeeded is never sent again: its state is checked before sending and the
 * result is written with compare-and-set.
 */
import type { Clock } from "../clock.ts";
import type { Metrics } from "../metrics.ts";
import { probe, type ProbeOptions, type ProbeRequest, type ProbeResult } from "../net/probe.ts";
import { randomJitter, retryDelay } from "../net/retry.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { StoredDeliveryRef } from "../store/types.ts";
import type { SaveDeliveryOptions, VersionedDelivery, WebhookStore } from "../store/webhooks.ts";
import { payloadBytes } from "./payload.ts";
import { seedSignature, standardSignatures } from "./signing.ts";
import type { DeliveryRef } from "./types.ts";
import type { Attempt, Delivery, WebhookRecord } from "../store/types.ts";
import type { WebhookService } from "./webhooks.ts";

const RESPONSE_SNIPPET_BYTES = 1024;
const ATTEMPT_ERROR_CHARS = 500;
const DISABLE_AFTER_FAILING_MS = 3 * 86_400_000;
const USER_AGENT = "Hibiki-Webhooks/1.0";

type Failing = SaveDeliveryOptions["failing"];

/** Where a delivery is stored, as its queued attempts carry it. */
function deliveryRefOf(delivery: Delivery): StoredDeliveryRef {
  return {
    userId: delivery.userId,
    jobId: delivery.jobId,
    createdAt: Date.parse(delivery.createdAt),
  };
}

export interface DelivererOptions {
  webhooks: WebhookStore;
  /** Ends an attempt's lease when nothing is written. */
  lanes: LaneStore;
  service: WebhookService;
  clock: Clock;
  metrics: Metrics;
  timeoutMs: number;
  retryScheduleMs: number[];
  allowPrivateNetworks: boolean;
  onDue: (at: number) => void;
  /** Sends one attempt; lib/net/probe.ts unless a test wraps it. */
  send?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** Jitter in [-1, 1); injectable so tests see exact times. */
  jitter?: () => number;
}

export class Deliverer {
  private readonly send: NonNullable<DelivererOptions["send"]>;
  private readonly jitter: () => number;

  constructor(private readonly options: DelivererOptions) {
    this.send = options.send ?? probe;
    this.jitter = options.jitter ?? randomJitter;
  }

  async execute(item: QueueItem<DeliveryRef>, lease: Lease): Promise<void> {
    const { lanes, clock } = this.options;
    const { entry, webhook, failingSince } = await this.current(item);
    const delivery = entry?.delivery;
    // Gone (job deleted), or already done, or moved to another time by a redelivery.
    if (!entry || !delivery || delivery.state !== "pending" || delivery.nextAttemptAt !== item.at) {
      await lanes.release(lease.ref);
      return;
    }
    // Its job was deleted before the first attempt: nothing was ever listed, nothing to keep.
    if (!webhook && entry.version === null) {
      await lanes.release(lease.ref);
      return;
    }
    const gone = !webhook
      ? "Webhook deleted"
      : webhook.id !== delivery.webhookId
      ? "Webhook replaced by a new one"
      : !webhook.enabled
      ? `Webhook disabled: ${webhook.disabledReason}`
      : null;
    if (gone || !webhook) {
      await this.finish(entry, lease, null, gone);
      return;
    }

    const sendAt = clock.now();
    const body = payloadBytes(delivery, sendAt);
    const secrets = await this.options.service.activeSecrets(webhook);
    const timestamp = Math.floor(sendAt / 1000);
    const headers: Record<string, string> = {
      ...(webhook.headers ?? {}),
      "Content-Type": "application/json",
      "User-Agent": USER_AGENT,
      "X-Webhook-ID": delivery.id,
      "X-Signature": seedSignature(body, secrets[0]),
      "webhook-id": delivery.id,
      "webhook-timestamp": String(timestamp),
      "webhook-signature": standardSignatures(delivery.id, timestamp, body, secrets),
    };
    if (delivery.test) headers["X-Webhook-Test"] = "true";
    const result = await this.send(
      { url: webhook.endpoint, method: "POST", headers, body, timeoutMs: this.options.timeoutMs },
      {
        allowPrivate: this.options.allowPrivateNetworks,
        maxRedirects: 0,
        bodyLimit: RESPONSE_SNIPPET_BYTES,
        userAgent: USER_AGENT,
      },
    );
    const attempt: Attempt = {
      n: delivery.attemptsInRound + 1,
      at: new Date(sendAt).toISOString(),
      status: result.code,
      durationMs: result.durationMs,
      success: result.success,
      // Capped: twenty attempts are kept on the delivery record, a Deno KV value of 64 KiB.
      error: (result.error?.message ?? result.failure)?.slice(0, ATTEMPT_ERROR_CHARS) ?? null,
      response: result.body,
    };
    await this.settle(
      entry,
      webhook,
      lease,
      attempt,
      result,
      failingSince,
    );
  }

  /** The delivery, its webhook and its failing streak: read, or as its run handed them on. */
  private async current(item: QueueItem<DeliveryRef>): Promise<{
    entry: VersionedDelivery | null;
    webhook: WebhookRecord | null;
    failingSince: number | null;
  }> {
    const { delivery: held, snapshot } = item.value;
    // A delivery written with its run lives only in its lease until its first attempt
    // records it (lease and record never exist together): there is no record to read.
    const leased: VersionedDelivery | null = held ? { delivery: held, version: null } : null;
    // The run's own read of the webhook, handed on in memory, saves reading it again.
    if (leased && snapshot) return { entry: leased, ...snapshot };
    const facts = await this.options.webhooks.attemptFacts(item.id[0] as string, item.value, {
      withDelivery: !leased,
    });
    return {
      entry: leased ?? facts.delivery,
      webhook: facts.webhook,
      failingSince: facts.failingSince,
    };
  }

  private async settle(
    entry: VersionedDelivery,
    webhook: WebhookRecord,
    lease: Lease,
    attempt: Attempt,
    result: ProbeResult,
    failingSince: number | null,
  ): Promise<void> {
    const { metrics, clock } = this.options;
    const now = clock.now();
    if (attempt.success) {
      metrics.deliveries.success++;
      // A success ends a failing streak; with none recorded there is nothing to write.
      await this.finish(entry, lease, attempt, null, failingSince === null ? undefined : "clear");
      return;
    }
    metrics.deliveries.failure++;
    // A streak already started needs no write: its start stays (and runs of the job, which
    // remember the mark, are not made to read it again).
    const markFailing: Failing = failingSince === null ? { since: now } : undefined;
    let disable: string | null = null;
    if (result.code === 410) {
      disable = "The endpoint answered 410 Gone";
    } else if (failingSince !== null && now - failingSince >= DISABLE_AFTER_FAILING_MS) {
      disable = `Every delivery failed since ${new Date(failingSince).toISOString()} (3 days)`;
    }
    const retryIn = disable ? null : retryDelay(
      this.options.retryScheduleMs,
      entry.delivery.attemptsInRound,
      { retryAfter: result.headers["retry-after"], now, jitter: this.jitter },
    );
    if (retryIn === null) {
      await this.finish(entry, lease, attempt, disable ?? "Retries exhausted", markFailing);
      if (disable) await this.disable(webhook, disable, now);
      return;
    }
    const next: Delivery = {
      ...entry.delivery,
      attempts: [...entry.delivery.attempts, attempt],
      attemptsInRound: attempt.n,
      nextAttemptAt: now + retryIn,
    };
    const saved = await this.options.webhooks.saveDelivery(entry, next, {
      lease: lease.ref,
      attempted: true,
      failing: markFailing,
    });
    if (saved) this.options.onDue(now + retryIn);
    else await this.recordOnChanged(entry, lease, attempt, markFailing);
  }

  /**
   * The delivery changed while this attempt ran (a redelivery was asked for): keep this
   * attempt's outcome on the new version instead of losing it, and release the lease.
   */
  private async recordOnChanged(
    stale: VersionedDelivery,
    lease: Lease,
    attempt: Attempt,
    failing?: Failing,
  ): Promise<void> {
    const { webhooks } = this.options;
    const where = deliveryRefOf(stale.delivery);
    for (let i = 0; i < 5; i++) {
      const fresh = await webhooks.getDelivery(stale.delivery.id, where);
      if (!fresh || fresh.delivery.state !== "pending") break;
      const next: Delivery = attempt.success
        ? { ...fresh.delivery, state: "succeeded", nextAttemptAt: null }
        : { ...fresh.delivery };
      next.attempts = [...fresh.delivery.attempts, attempt];
      const saved = await webhooks.saveDelivery(fresh, next, { lease: lease.ref, failing });
      if (saved) return;
    }
    await this.options.lanes.release(lease.ref);
  }

  /** Ends a delivery: succeeded when `attempt` succeeded, else dead with `reason`. */
  private async finish(
    entry: VersionedDelivery,
    lease: Lease,
    attempt: Attempt | null,
    reason: string | null,
    failing?: Failing,
  ): Promise<void> {
    const attempts = attempt ? [...entry.delivery.attempts, attempt] : [...entry.delivery.attempts];
    if (!attempt && reason) {
      attempts.push({
        n: entry.delivery.attemptsInRound + 1,
        at: new Date(this.options.clock.now()).toISOString(),
        status: 0,
        durationMs: 0,
        success: false,
        error: reason,
        response: "",
      });
    }
    const succeeded = attempt?.success === true;
    if (!succeeded) this.options.metrics.deliveries.dead++;
    const next: Delivery = {
      ...entry.delivery,
      state: succeeded ? "succeeded" : "dead",
      attempts,
      attemptsInRound: attempt?.n ?? entry.delivery.attemptsInRound,
      nextAttemptAt: null,
    };
    const saved = await this.options.webhooks.saveDelivery(entry, next, {
      lease: lease.ref,
      attempted: true,
      failing,
    });
    if (!saved && attempt) await this.recordOnChanged(entry, lease, attempt, failing);
    else if (!saved) await this.options.lanes.release(lease.ref);
  }

  private async disable(webhook: WebhookRecord, reason: string, now: number): Promise<void> {
    await this.options.webhooks.update(webhook.userId, webhook.jobId, (current) => ({
      ...current,
      enabled: false,
      disabledReason: reason,
      disabledAt: new Date(now).toISOString(),
    }));
  }
}

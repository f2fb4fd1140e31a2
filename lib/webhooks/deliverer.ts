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
import type { Lease, QueueItem } from "../scheduler/dispatcher.ts";
import { kvKeys } from "../store/kv_keys.ts";
import { payloadBytes } from "./payload.ts";
import { seedSignature, standardSignatures } from "./signing.ts";
import type { Attempt, Delivery, DeliveryRef, WebhookRecord } from "./types.ts";
import { type DeliveryEntry, deliveryKey, type WebhookStore } from "./webhook_store.ts";
import type { WebhookService } from "./webhooks.ts";

const RESPONSE_SNIPPET_BYTES = 1024;
const ATTEMPT_ERROR_CHARS = 500;
const DISABLE_AFTER_FAILING_MS = 3 * 86_400_000;
const USER_AGENT = "Hibiki-Webhooks/1.0";

export interface DelivererOptions {
  webhooks: WebhookStore;
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
    const { webhooks, clock } = this.options;
    const kv = webhooks.kv;
    const { entry, webhook, failingSince } = await this.current(item);
    const delivery = entry?.value;
    // Gone (job deleted), or already done, or moved to another time by a redelivery.
    if (!entry || !delivery || delivery.state !== "pending" || delivery.nextAttemptAt !== item.at) {
      await kv.delete(lease.key);
      return;
    }
    // Its job was deleted before the first attempt: nothing was ever listed, nothing to keep.
    if (!webhook && entry.versionstamp === null) {
      await kv.delete(lease.key);
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
    entry: DeliveryEntry | null;
    webhook: WebhookRecord | null;
    failingSince: number | null;
  }> {
    const { userId, jobId, delivery: held, snapshot } = item.value;
    const key = deliveryKey(item.id[0] as string, item.value);
    // A delivery written with its run lives only in its lease until its first attempt
    // records it (lease and record never exist together): there is no record to read.
    const leased: DeliveryEntry | null = held ? { key, value: held, versionstamp: null } : null;
    // The run's own read of the webhook, handed on in memory, saves reading it again.
    if (leased && snapshot) return { entry: leased, ...snapshot };
    const { kv } = this.options.webhooks;
    const webhookKey = kvKeys.webhook(userId, jobId);
    const failingKey = kvKeys.webhookFailing(userId, jobId);
    const since = (failing: Deno.KvEntryMaybe<Deno.KvU64>) =>
      failing.value ? Number(failing.value.value) : null;
    if (leased) {
      const [webhook, failing] = await kv.getMany<[WebhookRecord, Deno.KvU64]>([
        webhookKey,
        failingKey,
      ]);
      return { entry: leased, webhook: webhook.value, failingSince: since(failing) };
    }
    const [webhook, failing, stored] = await kv.getMany<[WebhookRecord, Deno.KvU64, Delivery]>([
      webhookKey,
      failingKey,
      key,
    ]);
    const entry = stored.value ? stored as Deno.KvEntry<Delivery> : null;
    return { entry, webhook: webhook.value, failingSince: since(failing) };
  }

  private async settle(
    entry: DeliveryEntry,
    webhook: WebhookRecord,
    lease: Lease,
    attempt: Attempt,
    result: ProbeResult,
    failingSince: number | null,
  ): Promise<void> {
    const { metrics, clock } = this.options;
    const now = clock.now();
    const failingKey = kvKeys.webhookFailing(webhook.userId, webhook.jobId);
    if (attempt.success) {
      metrics.deliveries.success++;
      // A success ends a failing streak; with none recorded there is nothing to write.
      const clearFailing = failingSince === null
        ? undefined
        : (op: Deno.AtomicOperation) => op.delete(failingKey);
      await this.finish(entry, lease, attempt, null, clearFailing);
      return;
    }
    metrics.deliveries.failure++;
    const markFailing = (op: Deno.AtomicOperation) => op.min(failingKey, BigInt(now));
    let disable: string | null = null;
    if (result.code === 410) {
      disable = "The endpoint answered 410 Gone";
    } else if (failingSince !== null && now - failingSince >= DISABLE_AFTER_FAILING_MS) {
      disable = `Every delivery failed since ${new Date(failingSince).toISOString()} (3 days)`;
    }
    const retryIn = disable ? null : retryDelay(
      this.options.retryScheduleMs,
      entry.value.attemptsInRound,
      { retryAfter: result.headers["retry-after"], now, jitter: this.jitter },
    );
    if (retryIn === null) {
      await this.finish(entry, lease, attempt, disable ?? "Retries exhausted", markFailing);
      if (disable) await this.disable(webhook, disable, now);
      return;
    }
    const next: Delivery = {
      ...entry.value,
      attempts: [...entry.value.attempts, attempt],
      attemptsInRound: attempt.n,
      nextAttemptAt: now + retryIn,
    };
    const saved = await this.options.webhooks.saveDelivery(entry, next, {
      leaseKey: lease.key,
      dueKeyTaken: true,
      extra: markFailing,
    });
    if (saved) this.options.onDue(now + retryIn);
    else await this.recordOnChanged(entry, lease, attempt, markFailing);
  }

  /**
   * The delivery changed while this attempt ran (a redelivery was asked for): keep this
   * attempt's outcome on the new version instead of losing it, and release the lease.
   */
  private async recordOnChanged(
    stale: DeliveryEntry,
    lease: Lease,
    attempt: Attempt,
    extra?: (op: Deno.AtomicOperation) => void,
  ): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const fresh = await this.options.webhooks.kv.get<Delivery>(stale.key);
      if (!fresh.value || fresh.value.state !== "pending") break;
      const next: Delivery = attempt.success
        ? { ...fresh.value, state: "succeeded", nextAttemptAt: null }
        : { ...fresh.value };
      next.attempts = [...fresh.value.attempts, attempt];
      const saved = await this.options.webhooks.saveDelivery(
        fresh as Deno.KvEntry<Delivery>,
        next,
        { leaseKey: lease.key, extra },
      );
      if (saved) return;
    }
    await this.options.webhooks.kv.delete(lease.key);
  }

  /** Ends a delivery: succeeded when `attempt` succeeded, else dead with `reason`. */
  private async finish(
    entry: DeliveryEntry,
    lease: Lease,
    attempt: Attempt | null,
    reason: string | null,
    extra?: (op: Deno.AtomicOperation) => void,
  ): Promise<void> {
    const attempts = attempt ? [...entry.value.attempts, attempt] : [...entry.value.attempts];
    if (!attempt && reason) {
      attempts.push({
        n: entry.value.attemptsInRound + 1,
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
      ...entry.value,
      state: succeeded ? "succeeded" : "dead",
      attempts,
      attemptsInRound: attempt?.n ?? entry.value.attemptsInRound,
      nextAttemptAt: null,
    };
    const saved = await this.options.webhooks.saveDelivery(entry, next, {
      leaseKey: lease.key,
      dueKeyTaken: true,
      extra,
    });
    if (!saved && attempt) await this.recordOnChanged(entry, lease, attempt, extra);
    else if (!saved) await this.options.webhooks.kv.delete(lease.key);
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

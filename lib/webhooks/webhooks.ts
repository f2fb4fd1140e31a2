/**
 * Webhooks as the API uses them (seed 003), plus what the seed leaves out: rotation with a
 * grace period, delivery history, redelivery and test sends. Also the outbox: the delivery
 * of a finished run is written in the same atomic operation as the run.
 */
import { BoundedCache } from "../bounded_cache.ts";
import type { Clock } from "../clock.ts";
import { ConflictError, NotFoundError } from "../errors.ts";
import type { SecretBox } from "../crypto.ts";
import type { JobForRun, ListOptions, OutboxDelivery, Store } from "../store/store.ts";
import type { Page, Run } from "../store/types.ts";
import { payloadJob, payloadResult } from "./payload.ts";
import { maskSecret, newWebhookSecret } from "./secrets.ts";
import { type EndpointRules, parseWebhookInput, parseWebhookPatch } from "./webhook_input.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";
import type { WebhookStore } from "../store/webhooks.ts";
import type { DeliveryRef, DeliveryView, WebhookSnapshot, WebhookView } from "./types.ts";
import type { Delivery, WebhookRecord } from "../store/types.ts";

/**
 * A run's read of its webhook stands in for the read before its delivery's first attempt
 * when it is at most this old: an edit, deletion or disabling of the webhook made in the
 * last moments of a run (read ahead of its second, plus the request) is then seen from the
 * next run on. Slow runs, and every later attempt, read the webhook afresh.
 */
const SNAPSHOT_MAX_AGE_MS = 2_000;

/** A delivery leased to the process that wrote it with its run, which sends it at once. */
export interface HeldDelivery {
  item: QueueItem<DeliveryRef>;
  lease: Lease;
}

export interface WebhookServiceOptions extends EndpointRules {
  store: Store;
  webhooks: WebhookStore;
  box: SecretBox;
  clock: Clock;
  rotationGraceMs: number;
  /** Told when an attempt is due, so the delivery queue can start it on time. */
  onDue: (at: number) => void;
  /** How long a delivery attempt is leased (its send deadline plus room to record it). */
  deliveryLeaseMs: number;
}

export class WebhookService {
  private readonly secrets = new BoundedCache<string, string>();

  constructor(private readonly options: WebhookServiceOptions) {}

  async list(userId: string, page: ListOptions): Promise<Page<WebhookView>> {
    const result = await this.options.webhooks.list(userId, page);
    return {
      values: await Promise.all(result.values.map((w) => this.view(w, false))),
      cursor: result.cursor,
    };
  }

  async create(userId: string, body: unknown): Promise<WebhookView> {
    const input = parseWebhookInput(body, this.options);
    const secret = newWebhookSecret();
    const stamp = new Date(this.options.clock.now()).toISOString();
    const record: WebhookRecord = {
      id: `webhook_${crypto.randomUUID().replaceAll("-", "")}`,
      userId,
      jobId: input.jobId,
      endpoint: input.endpoint,
      headers: input.headers,
      secret: await this.seal(secret, input.jobId),
      previousSecrets: [],
      enabled: true,
      disabledReason: null,
      disabledAt: null,
      createdAt: stamp,
      updatedAt: stamp,
    };
    await this.options.webhooks.create(record);
    return this.view(record, true);
  }

  async get(userId: string, jobId: string): Promise<WebhookView> {
    return this.view(await this.record(userId, jobId), false);
  }

  async update(userId: string, jobId: string, body: unknown): Promise<WebhookView> {
    const patch = parseWebhookPatch(body, this.options);
    const stamp = new Date(this.options.clock.now()).toISOString();
    const next = await this.options.webhooks.update(userId, jobId, (current) => ({
      ...current,
      ...patch,
      ...(patch.enabled === true ? { disabledReason: null, disabledAt: null } : {}),
      ...(patch.enabled === false
        ? { disabledReason: "Disabled by the owner", disabledAt: stamp }
        : {}),
      updatedAt: stamp,
    }));
    return this.view(next, false);
  }

  async delete(userId: string, jobId: string): Promise<void> {
    await this.options.webhooks.delete(userId, jobId);
  }

  /** A new secret; the old one keeps signing alongside it for the grace period. */
  async rotate(userId: string, jobId: string): Promise<WebhookView> {
    const secret = newWebhookSecret();
    const sealed = await this.seal(secret, jobId);
    const now = this.options.clock.now();
    const next = await this.options.webhooks.update(userId, jobId, (current) => ({
      ...current,
      secret: sealed,
      previousSecrets: [
        { secret: current.secret, expiresAt: now + this.options.rotationGraceMs },
        ...current.previousSecrets,
      ].filter((s) => s.expiresAt > now).slice(0, 5),
      updatedAt: new Date(now).toISOString(),
    }));
    return this.view(next, true);
  }

  /** The secrets that sign a delivery now: the current one first. */
  async activeSecrets(webhook: WebhookRecord): Promise<string[]> {
    const now = this.options.clock.now();
    const sealed = [
      webhook.secret,
      ...webhook.previousSecrets.filter((s) => s.expiresAt > now).map((s) => s.secret),
    ];
    return await Promise.all(sealed.map((s) => this.open(s, webhook.jobId)));
  }

  async listDeliveries(
    userId: string,
    jobId: string,
    page: ListOptions,
  ): Promise<Page<DeliveryView>> {
    if (!(await this.options.store.getJob(userId, jobId))) {
      throw new NotFoundError(`Job "${jobId}" not found`);
    }
    const found = await this.options.webhooks.listDeliveries(userId, jobId, page);
    return { values: found.values.map(deliveryView), cursor: found.cursor };
  }

  async getDelivery(userId: string, deliveryId: string): Promise<DeliveryView> {
    const found = await this.options.webhooks.getDelivery(deliveryId);
    if (!found || found.delivery.userId !== userId) {
      throw new NotFoundError(`Delivery "${deliveryId}" not found`);
    }
    return deliveryView(found.delivery);
  }

  /** Removes a delivery (typically a dead one) and any attempt still queued for it. */
  async deleteDelivery(userId: string, deliveryId: string): Promise<void> {
    const found = await this.options.webhooks.getDelivery(deliveryId);
    if (!found || found.delivery.userId !== userId) {
      throw new NotFoundError(`Delivery "${deliveryId}" not found`);
    }
    await this.options.webhooks.deleteDelivery(found);
  }

  /** Sends a delivery again with the same id; the retry schedule starts over. */
  async redeliver(userId: string, deliveryId: string): Promise<DeliveryView> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const found = await this.options.webhooks.getDelivery(deliveryId);
      if (!found || found.delivery.userId !== userId) {
        throw new NotFoundError(`Delivery "${deliveryId}" not found`);
      }
      if (found.delivery.state === "succeeded") {
        throw new ConflictError(`Cannot redeliver "${deliveryId}": it was already delivered`);
      }
      const now = this.options.clock.now();
      const next: Delivery = {
        ...found.delivery,
        state: "pending",
        nextAttemptAt: now,
        attemptsInRound: 0,
      };
      if (await this.options.webhooks.saveDelivery(found, next)) {
        this.options.onDue(now);
        return deliveryView(next);
      }
    }
    throw new ConflictError(`Cannot redeliver "${deliveryId}": it is changing, try again`);
  }

  /** Queues a sample delivery, marked `"test": true`, built from the job as it is. */
  async sendTest(userId: string, jobId: string): Promise<DeliveryView> {
    const webhook = await this.record(userId, jobId);
    if (!webhook.enabled) {
      throw new ConflictError(
        `Cannot send a test: the webhook is disabled (${webhook.disabledReason})`,
      );
    }
    const stored = await this.options.store.getJobForRun(userId, jobId);
    if (!stored) throw new NotFoundError(`Job "${jobId}" not found`);
    const now = this.options.clock.now();
    const sample: Run = {
      id: `${now}-test`,
      jobId,
      userId,
      where: "local",
      trigger: "MANUAL",
      status: "success",
      code: 200,
      scheduledAt: new Date(now).toISOString(),
      startedAt: new Date(now).toISOString(),
      finishedAt: new Date(now + 150).toISOString(),
      durationMs: 150,
      lateMs: 0,
      response: {
        headers: { "content-type": "application/json" },
        body: '{"status":"ok"}',
        bodyTruncated: false,
      },
      error: null,
      failure: null,
    };
    const delivery = this.newDelivery(webhook, stored, sample, { test: true, at: now });
    await this.options.webhooks.queueDelivery(delivery);
    this.options.onDue(now);
    return deliveryView(delivery);
  }

  /**
   * The outbox: when the job has an enabled webhook, the run's delivery, to be written with
   * the run (`Store.recordRun`).
   */
  async outboxFor(run: Run, stored: JobForRun): Promise<OutboxDelivery | null> {
    const delivery = await this.deliveryFor(run, stored);
    return delivery && { delivery };
  }

  /**
   * The outbox of a run recorded by this process: the delivery is written already leased
   * to it, and `afterCommit` hands it to `hold` to send at once.
   */
  async heldOutboxFor(
    run: Run,
    stored: JobForRun,
    hold: (held: HeldDelivery) => void,
  ): Promise<{ outbox: OutboxDelivery[]; afterCommit: () => void } | null> {
    const delivery = await this.deliveryFor(run, stored);
    if (!delivery) return null;
    const now = this.options.clock.now();
    // The run's read of its webhook, when recent enough to stand in for a read before sending.
    const snapshot: WebhookSnapshot | undefined =
      stored.webhook && stored.readAt !== undefined && now - stored.readAt <= SNAPSHOT_MAX_AGE_MS
        ? { webhook: stored.webhook, failingSince: stored.webhookFailingSince }
        : undefined;
    const heldUntil = now + this.options.deliveryLeaseMs;
    return {
      outbox: [{ delivery, heldUntil }],
      afterCommit: () => {
        const at = delivery.nextAttemptAt ?? Date.parse(delivery.createdAt);
        const value: DeliveryRef = {
          userId: delivery.userId,
          jobId: delivery.jobId,
          createdAt: Date.parse(delivery.createdAt),
          delivery,
          ...(snapshot ? { snapshot } : {}),
        };
        hold({
          item: { at, id: [delivery.id], value, retaken: false },
          lease: { ref: this.options.webhooks.heldLease(delivery, heldUntil), until: heldUntil },
        });
      },
    };
  }

  private async deliveryFor(run: Run, stored: JobForRun): Promise<Delivery | null> {
    // The runner's read brings the webhook along (null: the job has none, nothing to read);
    // anyone else's costs one read here.
    const webhook = stored.webhook !== undefined
      ? stored.webhook
      : await this.options.webhooks.get(run.userId, run.jobId);
    if (!webhook?.enabled) return null;
    return this.newDelivery(webhook, stored, run, { test: false, at: this.options.clock.now() });
  }

  private newDelivery(
    webhook: WebhookRecord,
    stored: JobForRun,
    run: Run,
    options: { test: boolean; at: number },
  ): Delivery {
    return {
      id: `wh_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
      userId: webhook.userId,
      jobId: webhook.jobId,
      webhookId: webhook.id,
      runId: options.test ? null : run.id,
      test: options.test,
      state: "pending",
      createdAt: new Date(options.at).toISOString(),
      nextAttemptAt: options.at,
      attempts: [],
      attemptsInRound: 0,
      payload: {
        job: payloadJob(stored, options.test ? null : run, options.at),
        result: payloadResult(run),
      },
    };
  }

  private async record(userId: string, jobId: string): Promise<WebhookRecord> {
    const webhook = await this.options.webhooks.get(userId, jobId);
    if (!webhook) throw new NotFoundError(`Job "${jobId}" has no webhook`);
    return webhook;
  }

  private async view(webhook: WebhookRecord, showSecret: boolean): Promise<WebhookView> {
    const secret = await this.open(webhook.secret, webhook.jobId);
    return {
      id: webhook.id,
      userId: webhook.userId,
      jobId: webhook.jobId,
      endpoint: webhook.endpoint,
      secret: showSecret ? secret : maskSecret(secret),
      headers: webhook.headers,
      createdAt: webhook.createdAt,
      updatedAt: webhook.updatedAt,
      enabled: webhook.enabled,
      disabledReason: webhook.disabledReason,
      disabledAt: webhook.disabledAt,
    };
  }

  private seal(secret: string, jobId: string): Promise<string> {
    return this.options.box.seal(secret, `webhook:${jobId}`);
  }

  /** Opening costs an AES-GCM decryption; deliveries reuse the result. */
  private async open(sealed: string, jobId: string): Promise<string> {
    return this.secrets.get(sealed) ??
      this.secrets.set(sealed, await this.options.box.open(sealed, `webhook:${jobId}`));
  }
}

export function deliveryView(delivery: Delivery): DeliveryView {
  const { nextAttemptAt } = delivery;
  return {
    ...delivery,
    nextAttemptAt: nextAttemptAt === null ? null : new Date(nextAttemptAt).toISOString(),
  };
}

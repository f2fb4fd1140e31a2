/** Webhooks and deliveries in Deno KV. */
import { ConflictError, NotFoundError } from "../../errors.ts";
import type { LeaseRef } from "../lanes.ts";
import type { ListOptions } from "../store.ts";
import type { Delivery, Page, StoredDeliveryRef, WebhookRecord } from "../types.ts";
import {
  type AttemptFacts,
  type SaveDeliveryOptions,
  trimDelivery,
  type VersionedDelivery,
  type WebhookStore,
} from "../webhooks.ts";
import { GroupCommitter } from "./group_commit.ts";
import { kvKeys } from "./keys.ts";
import { type JobMemory, jobMemoryOf, logJobChange } from "./job_memory.ts";
import { collect } from "./kv_store.ts";
import { addDelivery, deliveryRef, heldDeliveryLease } from "./outbox.ts";

export class KvWebhookStore implements WebhookStore {
  /** Delivery results arriving together share a commit. */
  private readonly committer: GroupCommitter;
  /** Runs remember their job's webhook (job_memory.ts): every change here is logged for them. */
  private readonly memory: JobMemory;

  constructor(private readonly kv: Deno.Kv) {
    this.committer = new GroupCommitter(kv);
    this.memory = jobMemoryOf(kv);
  }

  async create(webhook: WebhookRecord): Promise<void> {
    const key = kvKeys.webhook(webhook.userId, webhook.jobId);
    const job = await this.kv.get(kvKeys.job(webhook.userId, webhook.jobId));
    if (!job.value) throw new NotFoundError(`Job "${webhook.jobId}" not found`);
    const op = this.kv.atomic()
      .check({ key, versionstamp: null })
      // The job must still exist: a webhook never outlives its job.
      .check(job)
      .set(key, webhook);
    if (await this.memory.commitChange(op, webhook.userId, webhook.jobId)) return;
    if ((await this.kv.get(key)).value) {
      throw new ConflictError(`Cannot create webhook: job "${webhook.jobId}" already has one`);
    }
    throw new ConflictError("Cannot create webhook: the job changed meanwhile, try again");
  }

  async get(userId: string, jobId: string): Promise<WebhookRecord | null> {
    return (await this.entry(userId, jobId)).value;
  }

  private async entry(userId: string, jobId: string): Promise<Deno.KvEntryMaybe<WebhookRecord>> {
    return await this.kv.get<WebhookRecord>(kvKeys.webhook(userId, jobId));
  }

  async list(userId: string, options: ListOptions): Promise<Page<WebhookRecord>> {
    const iter = this.kv.list<WebhookRecord>(
      { prefix: kvKeys.webhooksOf(userId) },
      { limit: options.limit, cursor: options.cursor },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  /** Compare-and-set change of a webhook. */
  async update(
    userId: string,
    jobId: string,
    change: (webhook: WebhookRecord) => WebhookRecord,
  ): Promise<WebhookRecord> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.entry(userId, jobId);
      if (!current.value) throw new NotFoundError(`Job "${jobId}" has no webhook`);
      const next = change(current.value);
      const op = this.kv.atomic().check(current).set(current.key, next);
      if (next.enabled && !current.value.enabled) op.delete(kvKeys.webhookFailing(userId, jobId));
      if (await this.memory.commitChange(op, userId, jobId)) return next;
    }
    throw new ConflictError("Cannot update webhook: too many concurrent changes");
  }

  async delete(userId: string, jobId: string): Promise<void> {
    const current = await this.entry(userId, jobId);
    if (!current.value) throw new NotFoundError(`Job "${jobId}" has no webhook`);
    const op = this.kv.atomic().check(current).delete(current.key)
      .delete(kvKeys.webhookFailing(userId, jobId));
    await this.memory.commitChange(op, userId, jobId);
  }

  async queueDelivery(delivery: Delivery): Promise<void> {
    const op = this.kv.atomic();
    addDelivery(op, delivery);
    await op.commit();
  }

  heldLease(delivery: Delivery, leaseUntil: number): LeaseRef {
    return heldDeliveryLease(delivery, leaseUntil);
  }

  async getDelivery(
    deliveryId: string,
    where?: StoredDeliveryRef,
  ): Promise<VersionedDelivery | null> {
    const ref = where ?? (await this.kv.get<StoredDeliveryRef>(kvKeys.deliveryRef(deliveryId)))
      .value;
    if (!ref) return null;
    return versioned(await this.kv.get<Delivery>(deliveryKey(deliveryId, ref)));
  }

  async attemptFacts(
    deliveryId: string,
    where: StoredDeliveryRef,
    options: { withDelivery: boolean },
  ): Promise<AttemptFacts> {
    const { userId, jobId } = where;
    const keys: Deno.KvKey[] = [
      kvKeys.webhook(userId, jobId),
      kvKeys.webhookFailing(userId, jobId),
    ];
    if (options.withDelivery) keys.push(deliveryKey(deliveryId, where));
    const [webhook, failing, stored] = await this.kv.getMany(keys) as [
      Deno.KvEntryMaybe<WebhookRecord>,
      Deno.KvEntryMaybe<Deno.KvU64>,
      Deno.KvEntryMaybe<Delivery> | undefined,
    ];
    return {
      webhook: webhook.value,
      failingSince: failing.value ? Number(failing.value.value) : null,
      delivery: stored ? versioned(stored) : null,
    };
  }

  async deleteDelivery(current: VersionedDelivery): Promise<void> {
    const { delivery } = current;
    const op = this.kv.atomic().check(check(current)).delete(keyOf(delivery))
      .delete(kvKeys.deliveryRef(delivery.id));
    if (delivery.nextAttemptAt !== null) {
      op.delete([...kvKeys.deliveriesDue(), delivery.nextAttemptAt, delivery.id]);
    }
    if (!(await op.commit()).ok) {
      throw new ConflictError("Cannot delete delivery: it changed meanwhile, try again");
    }
  }

  async listDeliveries(
    userId: string,
    jobId: string,
    options: ListOptions,
  ): Promise<Page<Delivery>> {
    const iter = this.kv.list<Delivery>(
      { prefix: kvKeys.deliveriesOf(userId, jobId) },
      { limit: options.limit, cursor: options.cursor, reverse: true },
    );
    const values = (await collect(iter)).map((entry) => entry.value);
    return { values, cursor: values.length === options.limit ? iter.cursor || null : null };
  }

  /**
   * Writes a delivery's new state if nobody else changed it since it was read; releases the
   * attempt's lease and queues the next attempt, all in one operation.
   */
  async saveDelivery(
    current: VersionedDelivery,
    next: Delivery,
    options: SaveDeliveryOptions = {},
  ): Promise<boolean> {
    const trimmed = trimDelivery(next);
    const ref = deliveryRef(next);
    const failingKey = kvKeys.webhookFailing(next.userId, next.jobId);
    const saved = await this.committer.commit((op) => {
      op.check(check(current)).set(keyOf(current.delivery), trimmed);
      // A delivery that lived only in its lease gets its lookup by id with its first record.
      if (current.version === null) op.set(kvKeys.deliveryRef(next.id), ref);
      const previous = current.delivery.nextAttemptAt;
      if (previous !== null && previous !== next.nextAttemptAt && !options.attempted) {
        op.delete([...kvKeys.deliveriesDue(), previous, next.id]);
      }
      if (next.nextAttemptAt !== null && next.nextAttemptAt !== previous) {
        op.set([...kvKeys.deliveriesDue(), next.nextAttemptAt, next.id], ref);
      }
      if (options.lease) op.delete(options.lease as Deno.KvKey);
      if (options.failing === "clear") op.delete(failingKey);
      else if (options.failing) op.min(failingKey, BigInt(options.failing.since));
      if (options.failing) logJobChange(op, next.userId, next.jobId);
    });
    if (saved && options.failing) this.memory.forget(next.userId, next.jobId);
    return saved;
  }
}

function deliveryKey(deliveryId: string, ref: StoredDeliveryRef): Deno.KvKey {
  return kvKeys.delivery(ref.userId, ref.jobId, ref.createdAt, deliveryId);
}

function keyOf(delivery: Delivery): Deno.KvKey {
  return deliveryKey(delivery.id, deliveryRef(delivery));
}

function versioned(entry: Deno.KvEntryMaybe<Delivery>): VersionedDelivery | null {
  return entry.value ? { delivery: entry.value, version: entry.versionstamp } : null;
}

/** The check that the delivery is still as read (absent, while it lives in its lease). */
function check(current: VersionedDelivery): Deno.AtomicCheck {
  return { key: keyOf(current.delivery), versionstamp: current.version };
}

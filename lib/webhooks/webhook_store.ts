/** Webhooks and deliveries in Deno KV. */
import { ConflictError, NotFoundError } from "../errors.ts";
import type { Lease, QueueItem } from "../scheduler/dispatcher.ts";
import { GroupCommitter } from "../store/kv/group_commit.ts";
import { collect } from "../store/kv/kv_store.ts";
import { kvKeys } from "../store/kv/keys.ts";
import { addDelivery, deliveryRef, heldDeliveryLease } from "../store/kv/outbox.ts";
import type { ListOptions } from "../store/store.ts";
import type { Page } from "../store/types.ts";
import type { Delivery, DeliveryRef, WebhookRecord } from "./types.ts";

/**
 * Attempts kept on a delivery, and of those the latest that keep their answer's snippet: with
 * the payload's caps this keeps a record within a Deno KV value (64 KiB) whatever it holds.
 */
const MAX_ATTEMPTS = 20;
const SNIPPETS_KEPT = 10;

export class WebhookStore {
  /** Delivery results arriving together share a commit. */
  private readonly committer: GroupCommitter;

  constructor(readonly kv: Deno.Kv) {
    this.committer = new GroupCommitter(kv);
  }

  async create(webhook: WebhookRecord): Promise<void> {
    const key = kvKeys.webhook(webhook.userId, webhook.jobId);
    const job = await this.kv.get(kvKeys.job(webhook.userId, webhook.jobId));
    if (!job.value) throw new NotFoundError(`Job "${webhook.jobId}" not found`);
    const result = await this.kv.atomic()
      .check({ key, versionstamp: null })
      // The job must still exist: a webhook never outlives its job.
      .check(job)
      .set(key, webhook)
      .commit();
    if (result.ok) return;
    if ((await this.kv.get(key)).value) {
      throw new ConflictError(`Cannot create webhook: job "${webhook.jobId}" already has one`);
    }
    throw new ConflictError("Cannot create webhook: the job changed meanwhile, try again");
  }

  async get(userId: string, jobId: string): Promise<Deno.KvEntryMaybe<WebhookRecord>> {
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
      const current = await this.get(userId, jobId);
      if (!current.value) throw new NotFoundError(`Job "${jobId}" has no webhook`);
      const next = change(current.value);
      const op = this.kv.atomic().check(current).set(current.key, next);
      if (next.enabled && !current.value.enabled) op.delete(kvKeys.webhookFailing(userId, jobId));
      if ((await op.commit()).ok) return next;
    }
    throw new ConflictError("Cannot update webhook: too many concurrent changes");
  }

  async delete(userId: string, jobId: string): Promise<void> {
    const current = await this.get(userId, jobId);
    if (!current.value) throw new NotFoundError(`Job "${jobId}" has no webhook`);
    await this.kv.atomic().check(current).delete(current.key)
      .delete(kvKeys.webhookFailing(userId, jobId)).commit();
  }

  /** Adds a new delivery and its first attempt (at `nextAttemptAt`) to an atomic operation. */
  addDelivery(op: Deno.AtomicOperation, delivery: Delivery): void {
    addDelivery(op, delivery);
  }

  /** The lane item and lease of a delivery written with its run, held until `leaseUntil`. */
  held(delivery: Delivery, leaseUntil: number): HeldDelivery {
    const at = delivery.nextAttemptAt ?? Date.parse(delivery.createdAt);
    return {
      item: {
        at,
        id: [delivery.id],
        value: { ...deliveryRef(delivery), delivery },
        retaken: false,
      },
      lease: { key: heldDeliveryLease(delivery, leaseUntil) as Deno.KvKey, until: leaseUntil },
    };
  }

  async getDelivery(deliveryId: string): Promise<Deno.KvEntryMaybe<Delivery> | null> {
    const ref = await this.kv.get<DeliveryRef>(kvKeys.deliveryRef(deliveryId));
    if (!ref.value) return null;
    return await this.kv.get<Delivery>(deliveryKey(deliveryId, ref.value));
  }

  async deleteDelivery(entry: Deno.KvEntry<Delivery>): Promise<void> {
    const op = this.kv.atomic().check(entry).delete(entry.key)
      .delete(kvKeys.deliveryRef(entry.value.id));
    if (entry.value.nextAttemptAt !== null) {
      op.delete([...kvKeys.deliveriesDue(), entry.value.nextAttemptAt, entry.value.id]);
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
    entry: DeliveryEntry,
    next: Delivery,
    options: {
      leaseKey?: Deno.KvKey;
      /** The lease took the due key at the entry's `nextAttemptAt`: nothing to delete there. */
      dueKeyTaken?: boolean;
      extra?: (op: Deno.AtomicOperation) => void;
    },
  ): Promise<boolean> {
    const trimmed = next.attempts.length > SNIPPETS_KEPT
      ? { ...next, attempts: trimAttempts(next.attempts) }
      : next;
    const ref: DeliveryRef = {
      userId: next.userId,
      jobId: next.jobId,
      createdAt: Date.parse(next.createdAt),
    };
    return await this.committer.commit((op) => {
      op.check(entry).set(entry.key, trimmed);
      // A delivery that lived only in its lease gets its lookup by id with its first record.
      if (entry.versionstamp === null) op.set(kvKeys.deliveryRef(next.id), ref);
      const previous = entry.value.nextAttemptAt;
      if (previous !== null && previous !== next.nextAttemptAt && !options.dueKeyTaken) {
        op.delete([...kvKeys.deliveriesDue(), previous, next.id]);
      }
      if (next.nextAttemptAt !== null && next.nextAttemptAt !== previous) {
        op.set([...kvKeys.deliveriesDue(), next.nextAttemptAt, next.id], ref);
      }
      if (options.leaseKey) op.delete(options.leaseKey);
      options.extra?.(op);
    });
  }
}

/**
 * A delivery as read for a change; `versionstamp` is null while it lives only in its lease
 * (written with its run, not yet attempted), so the first record is written only if absent.
 */
export type DeliveryEntry = Omit<Deno.KvEntry<Delivery>, "versionstamp"> & {
  versionstamp: string | null;
};

/** A delivery leased to the process that wrote it. */
export interface HeldDelivery {
  item: QueueItem<DeliveryRef>;
  lease: Lease;
}

function trimAttempts(attempts: Delivery["attempts"]): Delivery["attempts"] {
  const kept = attempts.slice(-MAX_ATTEMPTS);
  const firstWithSnippet = kept.length - SNIPPETS_KEPT;
  return kept.map((a, i) => i < firstWithSnippet && a.response ? { ...a, response: "" } : a);
}

export function deliveryKey(deliveryId: string, ref: DeliveryRef): Deno.KvKey {
  return kvKeys.delivery(ref.userId, ref.jobId, ref.createdAt, deliveryId);
}

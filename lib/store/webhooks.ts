/** The contract for outbound webhooks (one per job) and their deliveries (seed 003). */
import type { LeaseRef } from "./lanes.ts";
import type { ListOptions } from "./store.ts";
import type { Delivery, Page, StoredDeliveryRef, WebhookRecord } from "./types.ts";

/**
 * Attempts kept on a delivery, and of those the latest that keep their answer's snippet: with
 * the payload's caps this keeps a record within a Deno KV value (64 KiB) whatever it holds,
 * and every store keeps the same, so a delivery reads alike on both.
 */
const MAX_ATTEMPTS = 20;
const SNIPPETS_KEPT = 10;

/** The delivery as stored: its oldest attempts dropped, older snippets emptied. */
export function trimDelivery(delivery: Delivery): Delivery {
  const { attempts } = delivery;
  if (attempts.length <= SNIPPETS_KEPT) return delivery;
  const kept = attempts.slice(-MAX_ATTEMPTS);
  const firstWithSnippet = kept.length - SNIPPETS_KEPT;
  return {
    ...delivery,
    attempts: kept.map((a, i) => i < firstWithSnippet && a.response ? { ...a, response: "" } : a),
  };
}

/**
 * A delivery as read for a compare-and-set change. `version` is opaque; null while the
 * delivery lives only in its lease (written with its run, not yet attempted), so its first
 * record is written only if absent.
 */
export interface VersionedDelivery {
  delivery: Delivery;
  version: string | null;
}

/** What a delivery attempt reads before sending. */
export interface AttemptFacts {
  webhook: WebhookRecord | null;
  /** Since when the webhook's deliveries have all failed (epoch ms), null when they do not. */
  failingSince: number | null;
  /** The stored delivery, when asked for; null when it is gone. */
  delivery: VersionedDelivery | null;
}

export interface SaveDeliveryOptions {
  /** The attempt's lease, released with the write. */
  lease?: LeaseRef;
  /**
   * Written by the attempt that held the delivery's lease: its queued attempt at the old
   * `nextAttemptAt` was taken with the lease, so there is none left to withdraw.
   */
  attempted?: boolean;
  /**
   * The webhook's failing streak: `"clear"` ends it, `{ since }` starts it unless it started
   * earlier.
   */
  failing?: "clear" | { since: number };
}

export interface WebhookStore {
  /** Throws NotFoundError without the job, ConflictError when the job has a webhook. */
  create(webhook: WebhookRecord): Promise<void>;
  get(userId: string, jobId: string): Promise<WebhookRecord | null>;
  list(userId: string, options: ListOptions): Promise<Page<WebhookRecord>>;
  /** Compare-and-set change; re-enabling ends the failing streak. Throws NotFoundError. */
  update(
    userId: string,
    jobId: string,
    change: (webhook: WebhookRecord) => WebhookRecord,
  ): Promise<WebhookRecord>;
  /** Throws NotFoundError when the job has no webhook. */
  delete(userId: string, jobId: string): Promise<void>;

  /** Writes a new delivery, queued for its first attempt at `nextAttemptAt`. */
  queueDelivery(delivery: Delivery): Promise<void>;
  /** The lease under which a delivery written with its run (held until then) is sent. */
  heldLease(delivery: Delivery, leaseUntil: number): LeaseRef;
  /** By id; or, given `where` (the ref its queued attempt carries), read there directly. */
  getDelivery(deliveryId: string, where?: StoredDeliveryRef): Promise<VersionedDelivery | null>;
  /** What an attempt needs: the webhook, its failing streak and (`withDelivery`) the delivery. */
  attemptFacts(
    deliveryId: string,
    where: StoredDeliveryRef,
    options: { withDelivery: boolean },
  ): Promise<AttemptFacts>;
  /** The newest first. */
  listDeliveries(userId: string, jobId: string, options: ListOptions): Promise<Page<Delivery>>;
  /** Deletes a delivery and its queued attempt; ConflictError if it changed since read. */
  deleteDelivery(current: VersionedDelivery): Promise<void>;
  /**
   * Writes a delivery's new state if it is still as read, moving its queued attempt to
   * `next.nextAttemptAt`; resolves false when it changed meanwhile.
   */
  saveDelivery(
    current: VersionedDelivery,
    next: Delivery,
    options?: SaveDeliveryOptions,
  ): Promise<boolean>;
}

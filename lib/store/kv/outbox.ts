/**
 * The webhook outbox in Deno KV: a new delivery is written with the run it is about, either
 * queued for its first attempt or already leased to the writing process (which sends it at
 * once). Both layouts are the delivery lane's (see `kvKeys.deliveriesDue`, `deliveryLeases`).
 */
import type { LeaseRef } from "../lanes.ts";
import type { OutboxDelivery } from "../store.ts";
import type { Delivery, StoredDeliveryRef } from "../types.ts";
import { kvKeys } from "./keys.ts";

export function writeOutbox(op: Deno.AtomicOperation, outbox: readonly OutboxDelivery[]): void {
  for (const { delivery, heldUntil } of outbox) {
    if (heldUntil === undefined) addDelivery(op, delivery);
    else addHeldDelivery(op, delivery, heldUntil);
  }
}

/** Adds a new delivery and its first attempt (at `nextAttemptAt`) to an atomic operation. */
export function addDelivery(op: Deno.AtomicOperation, delivery: Delivery): void {
  const dueAt = delivery.nextAttemptAt ?? Date.parse(delivery.createdAt);
  const ref = deliveryRef(delivery);
  op.set(kvKeys.delivery(delivery.userId, delivery.jobId, ref.createdAt, delivery.id), delivery)
    .set(kvKeys.deliveryRef(delivery.id), ref)
    .set([...kvKeys.deliveriesDue(), dueAt, delivery.id], ref);
}

/**
 * Adds a new delivery already leased to the writing process until `leaseUntil`. Until that
 * first attempt is recorded the delivery lives only in its lease (a crash hands it to
 * whichever process takes the lease over), so it is not yet listed or found by id.
 */
function addHeldDelivery(op: Deno.AtomicOperation, delivery: Delivery, leaseUntil: number) {
  // Only the lease, carrying the delivery: one write on the run's commit instead of three.
  // The record (and its lookup by id) is written with the first attempt's result.
  const held: StoredDeliveryRef = { ...deliveryRef(delivery), delivery };
  op.set(heldDeliveryLease(delivery, leaseUntil) as Deno.KvKey, held);
}

/** The lease of a delivery written held until `leaseUntil`. */
export function heldDeliveryLease(delivery: Delivery, leaseUntil: number): LeaseRef {
  const at = delivery.nextAttemptAt ?? Date.parse(delivery.createdAt);
  return [...kvKeys.deliveryLeases(), leaseUntil, at, delivery.id];
}

export function deliveryRef(delivery: Delivery): StoredDeliveryRef {
  return {
    userId: delivery.userId,
    jobId: delivery.jobId,
    createdAt: Date.parse(delivery.createdAt),
  };
}

/**
 * Deliveries as the delivery lane holds them: a new delivery is a row of `hibiki_deliveries`
 * and a waiting lane item at its first attempt, or, written with its run and sent at once by
 * the writing process, only a lane item leased to that process and carrying the delivery
 * (its record is written with the first attempt's result).
 */
import type { LeaseRef } from "../lanes.ts";
import type { OutboxDelivery } from "../store.ts";
import type { Delivery, StoredDeliveryRef } from "../types.ts";
import { asJson, itemKey, leaseRef, nextVersion, type Tx } from "./util.ts";

export async function writeOutbox(tx: Tx, outbox: readonly OutboxDelivery[]): Promise<void> {
  for (const { delivery, heldUntil } of outbox) {
    if (heldUntil === undefined) await addDelivery(tx, delivery);
    else await addHeldDelivery(tx, delivery, heldUntil);
  }
}

/**
 * Writes deliveries as `writeOutbox` does, with one statement for all of them: a queued one
 * as its record and its waiting lane item (one version for both), a held one as its lane
 * item alone.
 */
export async function writeOutboxes(tx: Tx, outbox: readonly OutboxDelivery[]): Promise<void> {
  if (outbox.length === 0) return;
  const queued = outbox.filter((o) => o.heldUntil === undefined).map((o) => o.delivery);
  const items = outbox.map(({ delivery, heldUntil }) => ({
    id: delivery.id,
    until: heldUntil ?? 0,
    at: firstAttemptAt(delivery),
    value: heldUntil === undefined
      ? deliveryRef(delivery)
      : { ...deliveryRef(delivery), delivery } satisfies StoredDeliveryRef,
  }));
  await tx`with queued as (
      insert into public.hibiki_deliveries (id, user_id, job_id, created_at, delivery, version)
      select id, user_id, job_id, created_at, delivery, nextval('public.hibiki_version')
      from unnest(${queued.map((d) => d.id)}::text[], ${queued.map((d) => d.userId)}::text[],
        ${queued.map((d) => d.jobId)}::text[],
        ${queued.map((d) => deliveryRef(d).createdAt)}::bigint[],
        ${queued.map((d) => JSON.stringify(d))}::text[]::json[])
        as d(id, user_id, job_id, created_at, delivery)
      returning id, version
    )
    insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    select 'delivery', i.until, i.at, i.item_id, i.value,
      coalesce(q.version, nextval('public.hibiki_version'))
    from unnest(${items.map((i) => i.id)}::text[], ${items.map((i) => i.until)}::bigint[],
      ${items.map((i) => i.at)}::bigint[], ${items.map((i) => itemKey([i.id]))}::text[],
      ${items.map((i) => JSON.stringify(i.value))}::text[]::json[])
      as i(id, until, at, item_id, value)
    left join queued q on q.id = i.id and i.until = 0
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

/** Writes a new delivery and queues its first attempt at `nextAttemptAt`. */
export async function addDelivery(tx: Tx, delivery: Delivery): Promise<void> {
  const version = await nextVersion(tx);
  const ref = deliveryRef(delivery);
  await tx`insert into public.hibiki_deliveries
      (id, user_id, job_id, created_at, delivery, version)
    values (${delivery.id}, ${delivery.userId}, ${delivery.jobId}, ${ref.createdAt},
      ${asJson(tx, delivery)}, ${version})`;
  await queueAttempt(tx, delivery.id, firstAttemptAt(delivery), ref, version);
}

async function addHeldDelivery(tx: Tx, delivery: Delivery, until: number): Promise<void> {
  const version = await nextVersion(tx);
  const held: StoredDeliveryRef = { ...deliveryRef(delivery), delivery };
  await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    values ('delivery', ${until}, ${firstAttemptAt(delivery)}, ${itemKey([delivery.id])},
      ${asJson(tx, held)}, ${version})
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

/** Queues a delivery's attempt at `at` (a waiting item of the delivery lane). */
export async function queueAttempt(
  tx: Tx,
  deliveryId: string,
  at: number,
  ref: StoredDeliveryRef,
  version: number,
): Promise<void> {
  await tx`insert into public.hibiki_lane_items (lane, until, at, item_id, value, version)
    values ('delivery', 0, ${at}, ${itemKey([deliveryId])}, ${asJson(tx, ref)},
      ${version})
    on conflict (lane, until, at, item_id) do update set value = excluded.value,
      version = excluded.version`;
}

/** Withdraws a delivery's queued attempt at `at`. */
export async function withdrawAttempt(tx: Tx, deliveryId: string, at: number): Promise<void> {
  await tx`delete from public.hibiki_lane_items
    where lane = 'delivery' and until = 0 and at = ${at} and item_id = ${itemKey([deliveryId])}`;
}

/** The lease of a delivery written held until `until`. */
export function heldDeliveryLease(delivery: Delivery, until: number): LeaseRef {
  return leaseRef("delivery", until, firstAttemptAt(delivery), [delivery.id]);
}

export function deliveryRef(delivery: Delivery): StoredDeliveryRef {
  return {
    userId: delivery.userId,
    jobId: delivery.jobId,
    createdAt: Date.parse(delivery.createdAt),
  };
}

function firstAttemptAt(delivery: Delivery): number {
  return delivery.nextAttemptAt ?? Date.parse(delivery.createdAt);
}

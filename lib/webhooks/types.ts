/**
 * Outbound webhooks (seed 003) as the API shows them, and the values of their lane. The
 * records (webhooks, deliveries) are the store's: lib/store/types.ts.
 */
import type { Delivery, StoredDeliveryRef, WebhookRecord } from "../store/types.ts";

/** A webhook as the API shows it (seed 003 fields first). */
export interface WebhookView {
  id: string;
  userId: string;
  jobId: string;
  endpoint: string;
  /** In full only when just created or rotated; masked (`whsec_abc1…`) otherwise. */
  secret: string;
  headers: Record<string, string> | null;
  createdAt: string;
  updatedAt: string;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
}

/**
 * A delivery as the API shows it: `nextAttemptAt` in ISO 8601 like every other time (the
 * record keeps epoch ms, which orders its queue key).
 */
export type DeliveryView = Omit<Delivery, "nextAttemptAt"> & { nextAttemptAt: string | null };

/** Value of a queued delivery attempt: where to find the delivery (see StoredDeliveryRef). */
export interface DeliveryRef extends StoredDeliveryRef {
  /** Never stored: see WebhookSnapshot. */
  snapshot?: WebhookSnapshot;
}

/**
 * The webhook as read with its run's job, handed in memory to the delivery the run's process
 * holds, so that the first attempt sends without reading again. Only a fresh read is handed
 * on (see SNAPSHOT_MAX_AGE_MS); a delivery taken over or retried reads the current state.
 */
export interface WebhookSnapshot {
  webhook: WebhookRecord;
  failingSince: number | null;
}

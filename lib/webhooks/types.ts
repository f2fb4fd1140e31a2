/** Outbound webhooks (seed 003): one per job, and every delivery with all its attempts. */

/** A webhook as stored: the secrets are sealed with the master key. */
export interface WebhookRecord {
  id: string;
  userId: string;
  jobId: string;
  endpoint: string;
  headers: Record<string, string> | null;
  /** The current secret (`whsec_…`), sealed. */
  secret: string;
  /** Secrets replaced by a rotation, still signing until they expire. */
  previousSecrets: { secret: string; expiresAt: number }[];
  enabled: boolean;
  /** Why Hibiki disabled it (410 Gone, failing for days), shown to the owner. */
  disabledReason: string | null;
  disabledAt: string | null;
  createdAt: string;
  updatedAt: string;
}

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

export type DeliveryState = "pending" | "succeeded" | "dead";

export interface Attempt {
  /** 1-based; restarts at 1 after a manual redelivery. */
  n: number;
  at: string;
  /** HTTP status of the receiver's answer, 0 when none came. */
  status: number;
  durationMs: number;
  success: boolean;
  error: string | null;
  /** The first bytes of the receiver's answer. */
  response: string;
}

/** The payload's `job` (seed 003 fields, as they were when the run finished). */
export interface PayloadJob {
  id: string;
  name: string;
  url: string;
  method: string;
  schedule: string;
  timezone: string;
  headers: Record<string, string> | null;
  body: string | null;
  enabled: boolean;
  count: number;
  lastRunAt: string | null;
  nextRunAt: string | null;
  createdAt: string;
  updatedAt: string;
  userId: string;
}

export interface PayloadResult {
  status: "success" | "failure";
  code: number;
  response: { headers: Record<string, string>; body: string };
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  trigger: "AUTO" | "MANUAL";
}

export interface Delivery {
  /** `wh_…`: the payload `id` and `X-Webhook-ID`, the same on every attempt. */
  id: string;
  userId: string;
  jobId: string;
  webhookId: string;
  runId: string | null;
  /** A sample sent by `POST /api/webhooks/:jobId/test`. */
  test: boolean;
  state: DeliveryState;
  createdAt: string;
  /** When the next attempt is due (epoch ms), while pending. */
  nextAttemptAt: number | null;
  attempts: Attempt[];
  /** Attempts since the last (re)delivery request: indexes the retry schedule. */
  attemptsInRound: number;
  payload: { job: PayloadJob; result: PayloadResult };
}

/**
 * A delivery as the API shows it: `nextAttemptAt` in ISO 8601 like every other time (the
 * record keeps epoch ms, which orders its queue key).
 */
export type DeliveryView = Omit<Delivery, "nextAttemptAt"> & { nextAttemptAt: string | null };

/** Value of a queued delivery attempt: where to find the delivery. */
export interface DeliveryRef {
  userId: string;
  jobId: string;
  createdAt: number;
  /**
   * The whole delivery, on the lease of one written with its run (see addHeldDelivery): its
   * record is first written with the first attempt's result, off the run's commit.
   */
  delivery?: Delivery;
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

/**
 * The one retry policy of the lanes that send to a user's URL (webhook deliveries, inbound
 * relays): the lane's fixed schedule with ±10 % jitter, so failures that came together do not
 * retry together, and a receiver's `Retry-After` honoured (never sooner than the schedule) up
 * to 12 hours. Cloud Run calls keep their own (lib/gcp: a 401 refreshes the token once), and
 * read `Retry-After` with the same parser.
 */

/** A receiver's Retry-After is honoured up to this. */
export const RETRY_AFTER_CAP_MS = 12 * 3_600_000;
const JITTER = 0.1;

export interface RetryOptions {
  /** The answer's `Retry-After` header, if any. */
  retryAfter: string | null | undefined;
  /** Epoch ms, for a Retry-After given as a date. */
  now: number;
  /** In [-1, 1); injectable so tests see exact times. */
  jitter: () => number;
}

/** A jitter in [-1, 1). */
export function randomJitter(): number {
  return Math.random() * 2 - 1;
}

/**
 * Milliseconds until the next attempt after `attemptsBefore` failed ones, or null when
 * `schedule` is spent.
 */
export function retryDelay(
  schedule: readonly number[],
  attemptsBefore: number,
  options: RetryOptions,
): number | null {
  const step = schedule[attemptsBefore];
  if (step === undefined) return null;
  const jittered = Math.round(step * (1 + JITTER * options.jitter()));
  const retryAfter = parseRetryAfter(options.retryAfter, options.now);
  return retryAfter === null
    ? jittered
    : Math.max(jittered, Math.min(retryAfter, RETRY_AFTER_CAP_MS));
}

/**
 * `Retry-After` (delta-seconds or an HTTP date) as milliseconds from `nowMs`; null when absent
 * or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/**
 * Per-token rate limits for pings: a token bucket per key, in this process's memory. A bucket
 * holds `burst` pings and refills `perSecond`; a ping that finds it empty is told how long to
 * wait. Buckets live in a bounded cache, so a flood of made-up tokens costs a fixed amount of
 * memory (it can only push out real buckets, which then start full again: more lenient, never
 * stricter). Each process keeps its own buckets.
 */
import { BoundedCache } from "../bounded_cache.ts";

export interface RateLimit {
  /** Pings a quiet token may send at once. */
  burst: number;
  /** Pings a second, sustained. */
  perSecond: number;
}

/** 60 at once, then one a second: far above any job's pings, far below a flood's. */
export const PING_RATE_LIMIT: RateLimit = { burst: 60, perSecond: 1 };

/**
 * Token buckets kept as one number each (GCRA): the time at which the bucket would be full
 * again, moved one interval on by each ping taken. Integer milliseconds, so no rounding.
 */
export class TokenBuckets {
  private readonly fullAt = new BoundedCache<string, number>();
  private readonly intervalMs: number;
  private readonly toleranceMs: number;

  constructor(limit: RateLimit, private readonly now: () => number) {
    this.intervalMs = Math.round(1000 / limit.perSecond);
    this.toleranceMs = (limit.burst - 1) * this.intervalMs;
  }

  /** Takes a ping from `key`'s bucket: 0 when it had one, else the ms until it will. */
  take(key: string): number {
    const now = this.now();
    // A bucket full again (or new) starts from now: idle time is not saved up past `burst`.
    const due = Math.max(this.fullAt.get(key) ?? now, now);
    const wait = due - this.toleranceMs - now;
    if (wait > 0) return wait;
    this.fullAt.set(key, due + this.intervalMs);
    return 0;
  }
}

/**
 * Every Deno KV key Hibiki writes, in one place. Secondary indexes are written in the same
 * atomic operation as their record.
 *
 * A job owns four neighbouring keys, so one range read of `["job", userId]` returns whole
 * jobs in order: the configuration, then `count` (KvU64), `due` (the scheduler's pointer),
 * `last` (KvU64 epoch ms). Counters are KvU64 so a finished run can `sum`/`max` them
 * without reading, and concurrent runs never conflict.
 */

export const JOB_PARTS = 4;

export const kvKeys = {
  jobsOf: (userId: string) => ["job", userId],
  job: (userId: string, jobId: string) => ["job", userId, jobId],
  jobCount: (userId: string, jobId: string) => ["job", userId, jobId, "count"],
  jobDue: (userId: string, jobId: string) => ["job", userId, jobId, "due"],
  jobLast: (userId: string, jobId: string) => ["job", userId, jobId, "last"],
  /** jobId → userId, for callers that only know the job (workers, queue messages). */
  jobOwner: (jobId: string) => ["job_owner", jobId],

  runsOf: (userId: string, jobId: string) => ["run", userId, jobId],
  run: (userId: string, jobId: string, scheduledAt: number, suffix: string) => [
    "run",
    userId,
    jobId,
    scheduledAt,
    suffix,
  ],
  runsStored: (userId: string, jobId: string) => ["run_stored", userId, jobId],
  /** Tombstone of a deleted job whose runs still have to be removed. */
  purge: (userId: string, jobId: string) => ["purge", userId, jobId],
  purges: () => ["purge"],

  /** Scheduler index: jobs by the next fire time not yet claimed. */
  dueBefore: () => ["due"],
  due: (at: number, userId: string, jobId: string) => ["due", at, userId, jobId],
  /** A fire time taken by a scheduler; expires long after it could be taken again. */
  claim: (jobId: string, at: number) => ["claim", jobId, at],
  /** Claimed fires waiting for their time. */
  fires: () => ["fire"],
  fire: (at: number, userId: string, jobId: string, suffix: string) => [
    "fire",
    at,
    userId,
    jobId,
    suffix,
  ],
  /** Fires being run, by the time the lease runs out (then another instance may take them). */
  leases: () => ["lease"],
  lease: (until: number, at: number, userId: string, jobId: string, suffix: string) => [
    "lease",
    until,
    at,
    userId,
    jobId,
    suffix,
  ],

  /** One webhook per job. */
  webhooksOf: (userId: string) => ["webhook", userId],
  webhook: (userId: string, jobId: string) => ["webhook", userId, jobId],
  /** When a webhook's deliveries began failing without a success since (epoch ms). */
  webhookFailing: (userId: string, jobId: string) => ["webhook_failing", userId, jobId],
  /** Deliveries of a job's webhook, oldest first by creation time. */
  deliveriesOf: (userId: string, jobId: string) => ["delivery", userId, jobId],
  delivery: (userId: string, jobId: string, createdAt: number, deliveryId: string) => [
    "delivery",
    userId,
    jobId,
    createdAt,
    deliveryId,
  ],
  /** deliveryId → where the delivery is. */
  deliveryRef: (deliveryId: string) => ["delivery_ref", deliveryId],
  /** Attempts waiting for their time, and attempts in flight (see Dispatcher). */
  deliveriesDue: () => ["delivery_due"],
  deliveryLeases: () => ["delivery_lease"],

  apiKeyByHash: (hash: string) => ["apikey_hash", hash],
  apiKeysOf: (userId: string) => ["apikey", userId],
  apiKey: (userId: string, keyId: string) => ["apikey", userId, keyId],
} satisfies Record<string, (...args: never[]) => Deno.KvKey>;

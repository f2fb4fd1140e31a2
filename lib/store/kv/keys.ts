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
  /** Read by the health check; never written: a read that answers proves the store is up. */
  ping: () => ["ping"],
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
  /**
   * Runs kept = `count` + this (KvU64 read as signed): records that are not executions
   * (missed fires) add to it, pruning subtracts. A run that counts touches only `count`.
   */
  runsAdjust: (userId: string, jobId: string) => ["run_adjust", userId, jobId],
  /** Rolling 24-hour statistics of a job (see lib/stats/job_stats.ts). */
  jobStats: (userId: string, jobId: string) => ["jstats", userId, jobId],
  /** Tombstone of a deleted job whose runs still have to be removed. */
  purge: (userId: string, jobId: string) => ["purge", userId, jobId],
  purges: () => ["purge"],

  /** Scheduler index: jobs by the next fire time not yet claimed. */
  dueBefore: () => ["due"],
  due: (at: number, userId: string, jobId: string) => ["due", at, userId, jobId],
  /** Manual fires waiting to be leased (scheduled fires are leased when claimed). */
  fires: () => ["fire"],
  fire: (at: number, userId: string, jobId: string, suffix: string) => [
    "fire",
    at,
    userId,
    jobId,
    suffix,
  ],
  /**
   * Fires claimed or being run, by the time the lease runs out (then another instance may take
   * them): a fire's own time while it is only claimed, its deadline plus margin once started.
   */
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

  /** Probe workers (seed 002), and the monitors each checks (see lib/edge/monitor.ts). */
  workers: () => ["worker"],
  worker: (workerId: string) => ["worker", workerId],
  /** When the worker last called the edge API (KvU64 epoch ms, written with `max`). */
  workerSeen: (workerId: string) => ["worker_seen", workerId],
  workerMonitors: (workerId: string) => ["worker_monitor", workerId],
  workerMonitor: (workerId: string, jobId: string) => ["worker_monitor", workerId, jobId],
  /** Bumped (KvU64 sum) with every change to a worker's monitors, so lists can be cached. */
  workerMonitorsRevision: (workerId: string) => ["worker_monitor_rev", workerId],
  /** Batches of worker results accepted and waiting to be stored as runs (see Dispatcher). */
  resultsDue: () => ["results_due"],
  resultLeases: () => ["results_lease"],

  /** Google service-account keys, sealed (see lib/gcp/credentials.ts). */
  credentialsOf: (userId: string) => ["credential", userId],
  credential: (userId: string, id: string) => ["credential", userId, id],

  apiKeyByHash: (hash: string) => ["apikey_hash", hash],
  apiKeysOf: (userId: string) => ["apikey", userId],
  apiKey: (userId: string, keyId: string) => ["apikey", userId, keyId],

  // --- Inbound webhooks (lib/inbound/) ---------------------------------------------------
  /** A hook by its public id, and the same record under its owner for listing. */
  inboundHook: (hookId: string) => ["inbound_hook", hookId],
  inboundHooksOf: (userId: string) => ["inbound_hook_of", userId],
  inboundHookOf: (userId: string, hookId: string) => ["inbound_hook_of", userId, hookId],
  /** KvU64 counters of a hook: requests stored, requests refused. */
  inboundCount: (hookId: string, kind: "received" | "rejected") => [
    "inbound_count",
    hookId,
    kind,
  ],
  inboundCountsOf: (hookId: string) => ["inbound_count", hookId],
  /** Events of a hook; event ids sort by arrival. */
  inboundEventsOf: (hookId: string) => ["inbound_event", hookId],
  inboundEvent: (hookId: string, eventId: string) => ["inbound_event", hookId, eventId],
  /** The whole body of an event, in chunks under Deno KV's value size limit. */
  inboundBodiesOf: (hookId: string) => ["inbound_body", hookId],
  inboundBody: (hookId: string, eventId: string, chunk: number) => [
    "inbound_body",
    hookId,
    eventId,
    chunk,
  ],
  /**
   * A provider delivery id already stored (→ `{ eventId, bodySha256 }` of its first event; a
   * bare event id when written before bodies were compared); expires after a few days.
   */
  inboundSeenOf: (hookId: string) => ["inbound_seen", hookId],
  inboundSeen: (hookId: string, deliveryId: string) => ["inbound_seen", hookId, deliveryId],
  /** Another body under a known delivery id (→ the id of the conflict event that holds it). */
  inboundSeenBody: (hookId: string, deliveryId: string, bodySha256: string) => [
    "inbound_seen",
    hookId,
    deliveryId,
    bodySha256,
  ],
  /** Actions waiting for their time, and actions in flight (see Dispatcher). */
  inboundDue: () => ["inbound_due"],
  inboundLeases: () => ["inbound_lease"],

  // --- Admin UI: users, sessions (lib/users/) and the job search index (lib/jobs/) -------
  users: () => ["user"],
  user: (userId: string) => ["user", userId],
  /** A signed-in session; expires with it. */
  session: (sessionId: string) => ["session", sessionId],
  /** A user's sessions, to end them all when the password changes. */
  sessionsOf: (userId: string) => ["session_of", userId],
  sessionOf: (userId: string, sessionId: string) => ["session_of", userId, sessionId],
  /** Recent failed sign-ins of a user from an address, or from an address (throttling). */
  loginFailures: (what: string) => ["login_fail", what],
  /** A word of a job's name (lower case) → the job: search by word prefix. */
  jobWordsOf: (userId: string) => ["job_word", userId],
  jobWord: (userId: string, word: string, jobId: string) => ["job_word", userId, word, jobId],
  /** Jobs by state (`up`, `down`: the last run; `paused`): the dashboard's filters. */
  jobsInState: (userId: string, state: string) => ["job_state", userId, state],
  jobInState: (userId: string, state: string, jobId: string) => [
    "job_state",
    userId,
    state,
    jobId,
  ],

  // --- Alerting (lib/alerts/) -------------------------------------------------------------
  /** A job's alert state (`JobAlertState`): one small record, compare-and-set per decision. */
  alertState: (userId: string, jobId: string) => ["alert_state", userId, jobId],
  /**
   * "Decide (job, interval)" items (see lib/alerts/engine.ts): waiting for their time
   * (`[…due, at, userId, jobId, intervalStart]`, a multi-location interval's deadline), and
   * leased (`[…lease, until, at, userId, jobId, intervalStart]`): a run writes its item
   * already leased to its own process, which decides at once; the lane takes over what a dead
   * process left. A window's end is `[…, userId, jobId, windowEnd, "window"]`.
   */
  alertDecideDue: () => ["alert_decide_due"],
  alertDecideLeases: () => ["alert_decide_lease"],
  /** Incidents of an owner; ids sort by the time they opened, so a reverse list is newest first. */
  incidentsOf: (userId: string) => ["incident", userId],
  incident: (userId: string, incidentId: string) => ["incident", userId, incidentId],
  /** Incident ids by state (`open`, `resolved`) → null. */
  incidentsInState: (userId: string, state: string) => ["incident_state", userId, state],
  incidentInState: (userId: string, state: string, incidentId: string) => [
    "incident_state",
    userId,
    state,
    incidentId,
  ],
  /**
   * A job's incidents → `[startedAt, endedAt | null]` (epoch ms): uptime reads only these, and
   * since a job's incidents follow one another, a reverse list stops at the first that ended
   * before the range.
   */
  incidentsOfJob: (userId: string, jobId: string) => ["incident_job", userId, jobId],
  incidentOfJob: (userId: string, jobId: string, incidentId: string) => [
    "incident_job",
    userId,
    jobId,
    incidentId,
  ],
  /** Notifications by id (`Notification`, its owner inside). */
  notification: (notificationId: string) => ["notification", notificationId],
  /** The notification outbox: `[…due, nextAttemptAt, id]` → NotificationRef, and its leases. */
  notificationsDue: () => ["notification_due"],
  notificationDue: (at: number, notificationId: string) => ["notification_due", at, notificationId],
  notificationLeases: () => ["notification_lease"],
} satisfies Record<string, (...args: never[]) => Deno.KvKey>;

/**
 * Every Deno KV key Hibiki writes, in one place. Secondary indexes are written in the same
 * atomic operation as their record.
 *
 * A job owns two neighbouring keys, so one range read of `["job", userId]` returns whole jobs
 * in order: the configuration, then `due` (the scheduler's pointer). What every run rewrites,
 * its alert state and its tally (run count, last run, latest results), sits right after the
 * job's newest run: `[run, userId, jobId, true, part]`, `true` sorting after every run's time.
 * A run's commit then writes one page of the file, and one of the index Deno KV keeps of every
 * key by expiry (keys that never expire sort by key there too), where the job's range took a
 * page of each besides (layout 3, lib/store/kv/layout.ts): the KV writer thread spent a fifth
 * more a check with 5,000 and 10,000 monitors, and keys of their own before layout 2 more still.
 */

import type { LaneItemId, LaneName } from "../lanes.ts";

/** The most keys a job owns under `["job", userId, jobId]`, its record included. */
export const JOB_PARTS = 2;

/**
 * Where each durable lane keeps its items (lib/store/lanes.ts): waiting under
 * `[due, at, ...id]`, leased under `[leased, until, at, ...id]`, so one range read lists what
 * is due, or whose lease ran out. A new lane is one more line; fires keep the short names they
 * had before lanes had names.
 */
const LANES = {
  fire: { due: "fire", leased: "lease" },
  delivery: { due: "delivery_due", leased: "delivery_lease" },
  results: { due: "results_due", leased: "results_lease" },
  inbound: { due: "inbound_due", leased: "inbound_lease" },
  alert: { due: "alert_decide_due", leased: "alert_decide_lease" },
  notification: { due: "notification_due", leased: "notification_lease" },
} satisfies Record<LaneName, { due: string; leased: string }>;

export const kvKeys = {
  /** Read by the health check; never written: a read that answers proves the store is up. */
  ping: () => ["ping"],
  jobsOf: (userId: string) => ["job", userId],
  job: (userId: string, jobId: string) => ["job", userId, jobId],
  /**
   * A job's alert state (`JobAlertState`): one small record, compare-and-set per decision; after
   * the job's runs (see above).
   */
  alertState: (userId: string, jobId: string) => ["run", userId, jobId, true, "alert"],
  jobDue: (userId: string, jobId: string) => ["job", userId, jobId, "due"],
  /**
   * A job's tally: its run count, last run and latest results, packed (lib/store/kv/job_tally.ts):
   * rewritten with every run, checked against the version its writer based it on (RunWriter);
   * after the job's runs, beside its alert state.
   */
  jobTally: (userId: string, jobId: string) => ["run", userId, jobId, true, "recent"],
  /** Which layout the keys above have (see lib/store/kv/layout.ts); absent before it. */
  layout: () => ["kv_layout"],
  /**
   * Changes of jobs' configuration, webhooks and webhook failing marks, by time, kept a minute
   * (`expireIn`): how a process learns that a job it remembers changed elsewhere
   * (lib/store/kv/job_memory.ts).
   */
  jobChanges: () => ["job_change"],
  jobChange: (at: number, userId: string, jobId: string) => ["job_change", at, userId, jobId],
  /** jobId → userId, for callers that only know the job (workers, queue messages). */
  jobOwner: (jobId: string) => ["job_owner", jobId],

  /** A job's runs, then its alert state and tally: list runs with `runsOnly`. */
  runsOf: (userId: string, jobId: string) => ["run", userId, jobId],
  run: (userId: string, jobId: string, scheduledAt: number, suffix: string) => [
    "run",
    userId,
    jobId,
    scheduledAt,
    suffix,
  ],
  /**
   * Runs kept = the tally's count + this (KvU64 read as signed): records that are not
   * executions (missed fires) add to it, pruning subtracts. A run that counts touches only the
   * tally.
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
  /** A lane's items waiting for their time (fires: manual ones, and those handed back). */
  laneDue: (lane: LaneName) => [LANES[lane].due],
  laneItem: (lane: LaneName, at: number, id: LaneItemId) => [LANES[lane].due, at, ...id],
  /**
   * A lane's items leased, by the time the lease runs out (then another instance may take
   * them): for a fire, its own time while it is only claimed, its deadline plus margin once
   * started.
   */
  laneLeases: (lane: LaneName) => [LANES[lane].leased],
  laneLease: (lane: LaneName, until: number, at: number, id: LaneItemId) => [
    LANES[lane].leased,
    until,
    at,
    ...id,
  ],
  /** The fire lane's keys by name (a fire's id is `[userId, jobId, suffix]`). */
  fires: () => [LANES.fire.due],
  fire: (at: number, userId: string, jobId: string, suffix: string) => [
    LANES.fire.due,
    at,
    userId,
    jobId,
    suffix,
  ],
  leases: () => [LANES.fire.leased],
  lease: (until: number, at: number, userId: string, jobId: string, suffix: string) => [
    LANES.fire.leased,
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
  /** Attempts waiting for their time, and attempts in flight (the delivery lane). */
  deliveriesDue: () => [LANES.delivery.due],
  deliveryLeases: () => [LANES.delivery.leased],

  /** Probe workers (seed 002), and the monitors each checks (see lib/edge/monitor.ts). */
  workers: () => ["worker"],
  worker: (workerId: string) => ["worker", workerId],
  /** When the worker last called the edge API (KvU64 epoch ms, written with `max`). */
  workerSeen: (workerId: string) => ["worker_seen", workerId],
  workerMonitors: (workerId: string) => ["worker_monitor", workerId],
  workerMonitor: (workerId: string, jobId: string) => ["worker_monitor", workerId, jobId],
  /** Bumped (KvU64 sum) with every change to a worker's monitors, so lists can be cached. */
  workerMonitorsRevision: (workerId: string) => ["worker_monitor_rev", workerId],
  /** Batches of worker results accepted and waiting to be stored as runs (the results lane). */
  resultsDue: () => [LANES.results.due],
  resultLeases: () => [LANES.results.leased],

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
  /** Actions waiting for their time, and actions in flight (the inbound lane). */
  inboundDue: () => [LANES.inbound.due],
  inboundLeases: () => [LANES.inbound.leased],

  // --- Maintenance windows (lib/alerts/maintenance.ts) -----------------------------------
  maintenanceOf: (userId: string) => ["maintenance", userId],
  maintenance: (userId: string, id: string) => ["maintenance", userId, id],
  /**
   * Every owner's windows by the instant from which they cover nothing (see `coverageUntil`;
   * MAX_SAFE_INTEGER while a recurring one goes on) → the window: the chore that reopens
   * failing jobs reads only the windows that can still end, in one range read.
   */
  maintenanceByUntil: () => ["maintenance_until"],
  maintenanceUntil: (until: number, userId: string, id: string) => [
    "maintenance_until",
    until,
    userId,
    id,
  ],
  /**
   * Coverage a change took away before its time (→ MaintenanceEnd), by when; expires. The
   * last part tells apart two changes of one window in the same millisecond.
   */
  maintenanceCuts: () => ["maintenance_cut"],
  maintenanceCut: (at: number, userId: string, id: string, nonce: string) => [
    "maintenance_cut",
    at,
    userId,
    id,
    nonce,
  ],

  // --- Heartbeat jobs (lib/heartbeat/) ----------------------------------------------------
  /**
   * SHA-256 of a ping token (hex) → `{ userId, jobId, enabled }`: a ping finds its job in one
   * read, by a key that tells nothing of the token. Written in the same atomic op as its job.
   */
  pingToken: (tokenHash: string) => ["ping_token", tokenHash],
  /** When a heartbeat job's latest `/start` ping came (epoch ms); expires after 72 hours. */
  pingStart: (userId: string, jobId: string) => ["ping_start", userId, jobId],

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
  /**
   * Jobs by the state the dashboard shows (the alert state, `paused` when disabled) → null:
   * its filter. Moved with each alert decision and each pause or resume (`moveJobState`).
   */
  jobsInState: (userId: string, state: string) => ["job_state", userId, state],
  jobInState: (userId: string, state: string, jobId: string) => [
    "job_state",
    userId,
    state,
    jobId,
  ],
  /**
   * How many of an owner's jobs are in a state (KvU64 read as signed, summed with the index
   * entry it counts), so the dashboard's counts are six reads, not a scan of the index.
   */
  jobStateCount: (userId: string, state: string) => ["job_state_count", userId, state],
  jobStateCounts: () => ["job_state_count"],
  jobStates: () => ["job_state"],
  /**
   * Which layout the job_state index has (2: shown states with counters; absent: the last
   * run's up/down, before issue 13), so a store from before is rebuilt once (`upgradeJobStates`).
   */
  jobStateLayout: () => ["job_state_layout"],

  // --- Notification channels (lib/alerts/channels/) -------------------------------------
  /** A user's channels in id order (ids start with their creation time: creation order). */
  channelsOf: (userId: string) => ["channel", userId],
  channel: (userId: string, channelId: string) => ["channel", userId, channelId],
  // --- Status pages (lib/status/) -----------------------------------------------------------
  /** An owner's status pages in id order (ids start with their creation time). */
  statusPagesOf: (userId: string) => ["status_page", userId],
  statusPage: (userId: string, id: string) => ["status_page", userId, id],
  /**
   * The same record under its slug, written with it: the public page is one read, and the
   * key's `versionstamp: null` check makes a slug unique across owners.
   */
  statusPageSlug: (slug: string) => ["status_slug", slug],
  // --- Alerting (lib/alerts/) -------------------------------------------------------------
  /**
   * "Decide (job, interval)" items live in the `alert` lane (LANES above; see lib/alerts/engine.ts): waiting for their time
   * (`[…due, at, userId, jobId, intervalStart]`, a multi-location interval's deadline), and
   * leased (`[…lease, until, at, userId, jobId, intervalStart]`): a run writes its item
   * already leased to its own process, which decides at once; the lane takes over what a dead
   * process left. A window's end is `[…, userId, jobId, windowEnd, "window"]`.
   */
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
  /**
   * The notification outbox is the `notification` lane (LANES above; lib/alerts/notifier.ts):
   * `[…due, nextAttemptAt, id]` → NotificationRef, leased as `[…lease, until, at, id]`.
   */
  notificationsDue: () => [LANES.notification.due],
  notificationDue: (at: number, notificationId: string) => [
    LANES.notification.due,
    at,
    notificationId,
  ],
  notificationLeases: () => [LANES.notification.leased],
  /**
   * A job's certificate warnings (`certificate.expiring` notifications, which belong to no
   * incident) → null, so that they are purged with the job.
   */
  certificateNotificationsOfJob: (userId: string, jobId: string) => [
    "certificate_notification",
    userId,
    jobId,
  ],
  certificateNotificationOfJob: (userId: string, jobId: string, notificationId: string) => [
    "certificate_notification",
    userId,
    jobId,
    notificationId,
  ],
  /**
   * Incidents open across every owner (KvU64 read as signed: opening adds 1, resolving or
   * purging an open one adds 2^64 - 1), so `/metrics` reads one key instead of an index.
   */
  openIncidentCount: () => ["incident_open_count"],
} satisfies Record<string, (...args: never[]) => Deno.KvKey>;

/** A job's runs alone: what follows them under `runsOf` (`true` sorts after every number) is not a run. */
export function runsOnly(userId: string, jobId: string): Deno.KvListSelector {
  const runs = kvKeys.runsOf(userId, jobId);
  return { prefix: runs, end: [...runs, true] };
}

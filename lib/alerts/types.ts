/**
 * Alerting's vocabulary (issue 12): a job's alert settings and state, incidents, notification
 * channels, notifications and maintenance windows. The records are the store's (contracts in
 * `lib/store/alerts.ts`, `lib/store/channels.ts`, `lib/store/maintenance.ts`); these are the
 * shapes every part of alerting (state engine, channel senders, notification lane, maintenance,
 * API, admin pages) shares.
 */

/** A job's state, decided once per interval (see `lib/alerts/state_machine.ts`). */
export const ALERT_STATES = ["pending", "up", "degraded", "down", "paused", "maintenance"] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** One channel a job's incidents are told to. */
export interface JobChannelRef {
  channelId: string;
  /** Escalation: told only if the incident is still open and unacknowledged after this. */
  delayMinutes?: number;
  /** Told when the incident resolves too (default true). */
  onResolve?: boolean;
}

/** `job.alerts`: when a job counts as down or up again, and whom to tell. */
export interface AlertSettings {
  /** Consecutive failing intervals before `down`. */
  failureThreshold: number;
  /** Consecutive passing intervals before `up` again. */
  successThreshold: number;
  /** All checks pass but the latency is above this: `degraded`. Null: never degraded. */
  degradedLatencyMs: number | null;
  /** Locations that must fail an interval for it to fail; null: a majority of them. */
  quorum: number | null;
  channels: JobChannelRef[];
  /** Repeat while open and unacknowledged; null: never. */
  remindEveryMinutes: number | null;
  /**
   * https jobs: warn this many days before the certificate expires, once per certificate
   * (`lib/alerts/certificate_warning.ts`); null: never; absent: 14 days, at most a sixth of
   * the certificate's lifetime.
   */
  certificateDays?: number | null;
}

/** How one location saw one interval. */
export type Verdict = "pass" | "degraded" | "fail";

/** A job's alert state record: gatus' two counters and a flag, plus the open incident. */
export interface JobAlertState {
  userId: string;
  jobId: string;
  state: AlertState;
  /** Failing intervals in a row. */
  failures: number;
  /** Passing intervals in a row. */
  successes: number;
  /** The open incident, null when none. */
  incidentId: string | null;
  /** The newest interval decided (epoch ms of its start): an older one is never decided again. */
  decidedThrough: number;
  /** When the state last changed (epoch ms). */
  since: number;
  /**
   * Start of the first interval of the current streak (of failures, or of passes), epoch ms;
   * null before any. An incident spans from the streak that opened it to the one that ended it.
   */
  streakSince: number | null;
  /** How the newest decided interval went; null before any. */
  verdict: Verdict | null;
  /**
   * Keys of the certificates a warning was queued for, newest first
   * (`lib/alerts/certificate_warning.ts`): written in the decision's compare-and-set, so each
   * certificate is warned about once however many processes decide. Absent before any.
   */
  certificatesWarned?: string[];
}

export type IncidentState = "open" | "resolved";

/** One attempt to send one notification. */
export interface NotificationAttempt {
  n: number;
  at: string;
  /** HTTP status or SMTP reply code; 0 when nothing answered. */
  status: number;
  durationMs: number;
  success: boolean;
  error: string | null;
  /** What the receiver said, truncated. */
  response: string;
}

/** What an incident's notifications (or a channel test) say. */
export type IncidentNotificationKind =
  | "incident.opened"
  | "incident.resolved"
  | "incident.reminder"
  | "incidents.grouped"
  | "test";

/**
 * `certificate.expiring`: a job's certificate is due to expire (`JobAlertState
 * .certificatesWarned`); not an incident, so it neither changes the state nor counts as down.
 */
export type NotificationKind = IncidentNotificationKind | "certificate.expiring";

/** What a `certificate.expiring` notification tells: the job and the certificate its run saw. */
export interface CertificateNotice {
  jobId: string;
  /** The run that saw the certificate. */
  runId: string;
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Whole days left when the run saw it. */
  daysLeft: number;
  /** The days before expiry the warning was due from (`alerts.certificateDays` or the default). */
  thresholdDays: number;
  serialNumber: string;
  fingerprint256: string;
}

/** One message for one transition and one channel, delivered through a lane. */
export interface Notification {
  id: string;
  userId: string;
  channelId: string;
  kind: NotificationKind;
  /** The incidents it tells of (one, or several when grouped; none for a certificate). */
  incidentIds: string[];
  /** `certificate.expiring` only: the job and the certificate it warns of. */
  certificate?: CertificateNotice;
  state: "pending" | "sent" | "dead" | "cancelled";
  /** Epoch ms of the next attempt (escalation delay, retry backoff); null when done. */
  nextAttemptAt: number | null;
  attempts: NotificationAttempt[];
  createdAt: string;
  /**
   * Why it was cancelled or given up without a send (channel deleted or disabled, incident
   * acknowledged or resolved first); absent otherwise.
   */
  reason?: string;
  /**
   * Set on the notification that carries a grouped message (the leader): the ids of the other
   * notifications sent in the same message. The group is written before it is sent, so a
   * retry, or another process after a crash, sends the same message under the same id.
   */
  group?: string[];
  /** Set on a notification sent inside another's grouped message: the leader's id. */
  groupedInto?: string;
}

/** An operator's note on an incident (status pages show them). */
export interface IncidentUpdate {
  at: string;
  message: string;
}

export interface Incident {
  id: string;
  userId: string;
  jobId: string;
  state: IncidentState;
  /** `down` (or, for certificates, a warning). */
  kind: "down";
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  /** Why: the failing runs' failure text, first one first. */
  cause: string;
  /** Ids of the runs that crossed the threshold. */
  runIds: string[];
  /** Locations that failed (`local`, worker ids). */
  locations: string[];
  acknowledgedAt: string | null;
  /** Who acknowledged: a user id or an API key's name. */
  acknowledgedBy: string | null;
  updates: IncidentUpdate[];
  /** Notifications sent or queued for it (ids; the records hold the attempts). */
  notificationIds: string[];
}

export const CHANNEL_TYPES = [
  "webhook",
  "slack",
  "discord",
  "telegram",
  "pagerduty",
  "ntfy",
  "email",
] as const;
export type ChannelType = (typeof CHANNEL_TYPES)[number];

/** A notification target. `config` holds sealed secrets at rest (see lib/alerts/channels/). */
export interface Channel {
  id: string;
  userId: string;
  name: string;
  type: ChannelType;
  /** The type's settings; secret fields sealed with the master key. */
  config: Record<string, unknown>;
  /** `webhook` channels: the signing secret (`whsec_…`), sealed. */
  secret: string | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: string | null;
  /** Since when every send has failed (epoch ms), null when the last one worked. */
  failingSince: number | null;
  createdAt: string;
  updatedAt: string;
}

/** What a channel is asked to say: built once per notification, rendered per channel type. */
export type AlertMessage = IncidentMessage | CertificateMessage;

/** Of incidents (one, or several grouped), or a channel test's sample. */
export interface IncidentMessage {
  kind: IncidentNotificationKind;
  /** One entry per job the message tells of (several when grouped). */
  items: AlertMessageItem[];
  /** Where the admin UI lives, for links (`HIBIKI_PUBLIC_URL`), without a trailing slash. */
  baseUrl: string;
  /**
   * The notification's id: `webhook` channels send it as `X-Webhook-ID` and `webhook-id`, so a
   * receiver recognises a retry. Absent for a test, which gets a fresh one.
   */
  notificationId?: string;
}

/** A job's certificate is due to expire: one job, one certificate, never grouped. */
export interface CertificateMessage {
  kind: "certificate.expiring";
  job: AlertMessageItem["job"];
  /** The job's state when the message was built. */
  state: AlertState;
  certificate: CertificateNotice;
  baseUrl: string;
  /** The notification's id, as for `IncidentMessage`. */
  notificationId?: string;
}

export interface AlertMessageItem {
  incident: Incident;
  job: { id: string; name: string; url: string | null };
  /** The job's state when the message was built. */
  state: AlertState;
}

/** What a send came to, for the lane to record, retry or give up. */
export interface SendOutcome {
  success: boolean;
  status: number;
  durationMs: number;
  error: string | null;
  response: string;
  /** Never worth retrying (401/403/404/410, a refused recipient): the lane stops. */
  permanent: boolean;
  /** The receiver asked to wait this long (Retry-After), ms. */
  retryAfterMs: number | null;
}

/** A maintenance window: one span, or a recurring one. */
export interface MaintenanceWindow {
  id: string;
  userId: string;
  name: string;
  /** Jobs covered; ignored when `all`. */
  jobIds: string[];
  all: boolean;
  /** One span (epoch ms as ISO 8601), for a one-off window. */
  start: string | null;
  end: string | null;
  /** Recurring: a cron schedule in `timezone`, each occurrence lasting `durationMinutes`. */
  schedule: string | null;
  durationMinutes: number | null;
  timezone: string | null;
  /** Ended early at (ISO 8601): no span covers time after it (a recurring one stops for good). */
  endedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/**
 * What alerting asks of maintenance windows (implemented in `lib/alerts/maintenance.ts`):
 * whether a job is covered at a time, and the covered spans in a range, for uptime.
 */
export interface MaintenanceCalendar {
  /** The window covering the job at `at` (epoch ms), null when none. */
  coveringAt(userId: string, jobId: string, at: number): Promise<MaintenanceWindow | null>;
  /** Covered spans `[start, end)` (epoch ms) overlapping `[from, to)`, merged and in order. */
  spans(userId: string, jobId: string, from: number, to: number): Promise<[number, number][]>;
}

/**
 * Coverage that ended: a window's span ran out or was ended early, or a change (delete, edit)
 * took coverage away. The jobs it names may have failed meanwhile and need deciding again.
 */
export interface MaintenanceEnd {
  userId: string;
  windowId: string;
  /** When the coverage ended (epoch ms). */
  at: number;
  /** Every job of the owner (then `jobIds` is empty). */
  all: boolean;
  jobIds: string[];
}

/**
 * What the state engine's chore asks (implemented in `lib/alerts/maintenance.ts`):
 * coverage that ended in `[from, to)`, of every owner, oldest first. A job named may still be
 * covered by another window: ask `coveringAt` when deciding it.
 */
export interface MaintenanceEnds {
  endsBetween(from: number, to: number): Promise<MaintenanceEnd[]>;
}

/**
 * Sends one rendered message to one channel (implemented by `lib/alerts/channels/`); the
 * notification lane records the outcome, retries or gives up. `channel.config` and
 * `channel.secret` are opened (`ChannelService.opened`); never throws for a failed send.
 */
export type NotifySend = (channel: Channel, message: AlertMessage) => Promise<SendOutcome>;

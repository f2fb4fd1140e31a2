/**
 * The records Hibiki keeps. Every record has an owner (`userId`); reads always go through
 * the owner so another tenant's id is simply not found.
 */
import { ALERT_STATES, type AlertSettings, type AlertState } from "../alerts/types.ts";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD";

/** What a response must show for a run to succeed. */
export interface Expectation {
  status?: number | number[];
  bodyContains?: string;
  maxLatencyMs?: number;
}

/** A Cloud Run job to start (lib/gcp/ validates it), and the credential that may start it. */
export interface CloudRunSpec {
  project: string;
  region: string;
  job: string;
  overrides: {
    env?: { name: string; value: string }[];
    args?: string[];
    taskCount?: number;
    /** Seconds, as a protobuf Duration in JSON form: "3600s". */
    timeout?: string;
  };
  credentialId: string;
}

/** A probe worker checking a job, at `checkMinute:checkSecond` within each interval. */
export interface WorkerAssignment {
  workerId: string;
  checkMinute: number;
  checkSecond: number;
}

export const JOB_TYPES = ["http", "cloud_run_job", "heartbeat"] as const;
export type JobType = (typeof JOB_TYPES)[number];

/**
 * A heartbeat job's own settings. Its fires come `graceSeconds` after each time its schedule
 * names, and check that a success ping arrived for that time (lib/heartbeat/window.ts).
 */
export interface HeartbeatSpec {
  graceSeconds: number;
  /** The ping token, sealed with the master key: the job's answer shows it in `pingUrl`. */
  sealedToken: string;
  /** SHA-256 of the token, hex: a ping finds its job by this, in one read. */
  tokenHash: string;
  /**
   * Epoch ms from which fires are checked: when the job was created, resumed, or its
   * schedule, zone or grace changed. A fire whose window opens earlier is not checked.
   */
  checksFrom: number;
}

/** What the user configured; counters and fire times live beside it (see `JobView`). */
export interface Job {
  id: string;
  userId: string;
  name: string;
  url: string;
  method: HttpMethod;
  headers: Record<string, string> | null;
  body: string | null;
  schedule: string;
  timezone: string;
  enabled: boolean;
  timeoutMs: number;
  expect: Expectation | null;
  /** Whether Hibiki itself runs the job on its schedule (absent in old records: true). */
  local?: boolean;
  /** Remote probe workers that also check it (seed 002); absent in old records: none. */
  workers?: WorkerAssignment[];
  /**
   * What a run does: an HTTP request (the default), starting a Cloud Run job, or (a heartbeat)
   * nothing: the job is pinged, and its fires check that the pings came.
   */
  type?: JobType;
  /** The Cloud Run target, for `type: "cloud_run_job"` (then `url` only names it). */
  cloudRun?: CloudRunSpec;
  /** For `type: "heartbeat"` (then `url` is empty): its grace and ping token. */
  heartbeat?: HeartbeatSpec;
  /** When it counts as down or up, and whom to tell; absent in old records: the defaults. */
  alerts?: AlertSettings;
  createdAt: string;
  updatedAt: string;
}

/** A worker id: what a worker may call itself (and short enough for any key). */
export const WORKER_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A remote probe worker (seed 002's `workers` table). */
export interface Worker {
  id: string;
  name: string;
  is_active: boolean;
  last_seen_at: string | null;
  created_at: string;
}

/** A job as seed 002's probe worker is told to check it (one per job and worker). */
export interface Monitor {
  monitor_id: string;
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  timeout_seconds: number;
  expected_status_code: number | null;
  expected_body_contains: string | null;
  check_minute: number;
  check_second: number;
  check_interval_seconds: number;
}

/** One check a probe worker made (a row of seed 002's `check_results`). */
export interface CheckResult {
  monitor_id: string;
  checked_at: string;
  status_code: number | null;
  response_time_ms: number | null;
  success: boolean;
  error_message: string | null;
  response_body_sample: string | null;
  worker_id: string;
}

/** Accepted worker results waiting to be stored as runs, as the results lane carries them. */
export interface ResultChunk {
  results: CheckResult[];
}

/**
 * A job as the API shows it: the configuration plus its counters. A heartbeat job shows its
 * grace and ping URL instead of its sealed token.
 */
export interface JobView extends Omit<Job, "heartbeat"> {
  type: JobType;
  /** Heartbeat jobs only. */
  graceSeconds?: number;
  /** Heartbeat jobs only: `<HIBIKI_PUBLIC_URL or the request's origin>/ping/<token>`. */
  pingUrl?: string;
  local: boolean;
  workers: WorkerAssignment[];
  alerts: AlertSettings;
  count: number;
  lastRunAt: string | null;
  nextRunAt: string | null;
}

export type Trigger = "AUTO" | "MANUAL";
export type RunStatus = "success" | "failure" | "missed";

/** A fire of a job, as the fire lane carries it (claimed ahead, or queued by "run now"). */
export interface FireValue {
  trigger: Trigger;
  timeoutMs: number;
  /** Extra environment for a Cloud Run job's execution (from an inbound webhook). */
  env?: { name: string; value: string }[];
}

export interface RunResponse {
  headers: Record<string, string>;
  body: string;
  bodyTruncated: boolean;
}

/** One execution of a job at one scheduled time, in one place (`local` or a worker id). */
export interface Run {
  id: string;
  jobId: string;
  userId: string;
  where: string;
  trigger: Trigger;
  status: RunStatus;
  /** HTTP status; 0 when the request failed or never ran. */
  code: number;
  scheduledAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  /** How late the run started after its scheduled time. */
  lateMs: number | null;
  response: RunResponse | null;
  error: { category: string; message: string } | null;
  /** Why the expectations failed, when the request itself worked. */
  failure: string | null;
  /** On a `missed` record that stands for several fires: how many. */
  missedCount?: number;
  /** For a heartbeat job's ping: what the sender said and from where. */
  ping?: PingDetails;
  /** For Cloud Run jobs: the execution this run started and how it ended. */
  execution?: {
    name: string;
    succeededCount: number;
    failedCount: number;
    logUri: string | null;
    status: string;
  } | null;
  /**
   * For an https job run here: the certificate its host presented (lib/net/tls_certificate.ts).
   * Absent for http, for worker and Cloud Run runs, and when it could not be read.
   */
  tls?: RunTls;
  /**
   * The maintenance window that covered the run's time, when one did: the run is kept and
   * shown, but moves no state and sends nothing (issue 12).
   */
  maintenance?: { id: string; name: string };
}

/** An https target's certificate as a run saw it. */
export interface RunTls {
  /** Distinguished names as text, `CN=example.com` and `C=US, O=Let's Encrypt, CN=R11`. */
  subject: string;
  issuer: string;
  validFrom: string;
  validTo: string;
  /** Whole days from the run's start to `validTo`, rounded down; negative once expired. */
  daysLeft: number;
  /** Hex, as the certificate has it. */
  serialNumber: string;
  /** SHA-256 of the certificate, colon-separated hex: which certificate this is. */
  fingerprint256: string;
}

/** What a heartbeat job's ping carried (a run with `ping` is a ping, not a fire). */
export interface PingDetails {
  /** `success` (`/ping/:token`), `fail` (`/fail`) or `exit` (`/<code>`). */
  kind: "success" | "fail" | "exit";
  /** For `exit`: the code sent, 0–255 (0 is a success). */
  exitCode: number | null;
  method: string;
  /** The address the request came from (the connection's peer), null when unknown. */
  source: string | null;
  /** `X-Forwarded-For` as sent (at most 200 characters): not verified, for reading only. */
  forwardedFor: string | null;
  userAgent: string | null;
  /** The body's first 10 KiB as UTF-8 (invalid bytes replaced); the rest was not read. */
  body: string;
  bodyTruncated: boolean;
  /** The job was paused: the ping is kept but changes nothing (as Healthchecks' manual resume). */
  ignored: boolean;
}

export const SCOPES = ["read:jobs", "write:jobs", "read:logs", "write:logs", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  userId: string;
  name: string;
  scopes: Scope[];
  /** The first characters of the key, to recognise it in lists; the key itself is not kept. */
  prefix: string;
  /** SHA-256 of the whole key, hex. */
  hash: string;
  createdAt: string;
}

export interface Page<T> {
  values: T[];
  cursor: string | null;
}

// --- Outbound webhooks (seed 003) ----------------------------------------------------

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

/** Where a delivery is, as its queued attempts and its lookup by id carry it. */
export interface StoredDeliveryRef {
  userId: string;
  jobId: string;
  createdAt: number;
  /**
   * The whole delivery, on the lease of one written with its run (see OutboxDelivery): its
   * record is first written with the first attempt's result, off the run's commit.
   */
  delivery?: Delivery;
}

// --- The admin dashboard's job search ----------------------------------------------------

export const JOB_STATES = ALERT_STATES;
/** A job's state in the dashboard's filter: its alert state, or `paused` when disabled. */
export type JobState = AlertState;

export interface JobQuery {
  /** Words the name must contain, each as the start of a word. */
  q?: string;
  state?: JobState;
  cursor?: string;
  limit: number;
}

// --- Admin sign-in (lib/users/) ----------------------------------------------------------

/** Someone who signs in to the admin pages. Each user is a tenant: its id owns its records. */
export interface User {
  /** The tenant id (`default` is the operator). */
  id: string;
  /** May add users and reset their passwords. */
  admin: boolean;
  /** `pbkdf2-sha256$…`; null until a password is set. */
  passwordHash: string | null;
  /**
   * HMAC of the HIBIKI_ADMIN_PASSWORD last applied to this user: the variable sets the password
   * again only when its value changes, so a password changed on the page survives restarts.
   */
  envFingerprint?: string;
  /** The password was last set on the Account page (or by an admin), not by the variable. */
  passwordSetOnPage?: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface Session {
  id: string;
  userId: string;
  /** Sent back in forms (`_csrf`) and by islands (`X-CSRF-Token`). */
  csrf: string;
  createdAt: number;
  expiresAt: number;
}

/** Recent failed sign-ins counted under one name (a user from an address, or an address). */
export interface LoginFailures {
  count: number;
  /** Epoch ms of the latest. */
  lastAt: number;
}

// --- Rolling 24-hour statistics of a job (lib/stats/) ------------------------------------

export interface HourStats {
  /** Epoch hour (ms / 3,600,000). */
  h: number;
  n: number;
  ok: number;
  latency: number[];
  late: number[];
}

export interface JobStatsRecord {
  hours: HourStats[];
}

// --- Credentials (lib/gcp/) --------------------------------------------------------------

/** A Google service-account key as stored: the key file sealed with the master key. */
export interface StoredCredential {
  id: string;
  userId: string;
  type: "gcp_service_account";
  client_email: string;
  private_key_id: string;
  project_id: string;
  /** The key file, sealed with the master key. */
  sealedKey: string;
  createdAt: string;
}

// --- Inbound webhooks (seed 001, lib/inbound/) -------------------------------------------

export const VERIFICATION_MODES = [
  "none",
  "header_secret",
  "hmac_sha256",
  "standard_webhooks",
  "github",
  "stripe",
] as const;
export type VerificationMode = (typeof VERIFICATION_MODES)[number];

/** How a hook checks its sender; `secret` is plain text here, sealed at rest. */
export type Verification =
  | { mode: "none" }
  /** A named header equals the secret (seed 001's `Secret` header). */
  | { mode: "header_secret"; header: string; secret: string }
  /** HMAC-SHA256 of the raw body keyed with the secret's UTF-8 bytes, in a named header. */
  | {
    mode: "hmac_sha256";
    header: string;
    /** Text before the digest, e.g. `sha256=`. */
    prefix: string;
    encoding: "hex" | "base64";
    secret: string;
  }
  /** `webhook-id`, `webhook-timestamp`, `webhook-signature` over `id.timestamp.body`. */
  | { mode: "standard_webhooks"; secret: string; toleranceSeconds: number }
  /** `X-Hub-Signature-256: sha256=<hex>`. */
  | { mode: "github"; secret: string }
  /** `Stripe-Signature: t=…,v1=…` over `t.body`. */
  | { mode: "stripe"; secret: string; toleranceSeconds: number };

export type RelayAction = {
  type: "relay";
  url: string;
  headers: Record<string, string> | null;
  timeoutMs: number;
};

/** What happens to a verified request once it is stored. */
export type HookAction =
  | { type: "store" }
  | RelayAction
  | { type: "run"; jobId: string };

/** A hook as stored: `verification.secret` and `relaySecret` are sealed with the master key. */
export interface HookRecord {
  /** `hook_<32 hex>`: the public URL's last segment, unguessable. */
  id: string;
  userId: string;
  name: string;
  enabled: boolean;
  verification: Verification;
  challenge: boolean;
  action: HookAction;
  /** Hibiki's own `whsec_` secret that signs relayed requests, sealed; null unless relaying. */
  relaySecret: string | null;
  maxBodyBytes: number;
  createdAt: string;
  updatedAt: string;
}

/** `held`: not run by itself (a conflicting delivery); a replay runs it. */
export type ActionState = "pending" | "succeeded" | "failed" | "held";

export interface ActionAttempt {
  /** 1-based; restarts at 1 after a replay. */
  n: number;
  at: string;
  type: HookAction["type"];
  success: boolean;
  /** HTTP status of the relay target's answer; 0 for other actions or when none came. */
  status: number;
  durationMs: number;
  error: string | null;
  /** What the action did: `stored`, `run <runId>`, the first bytes of the relay's answer. */
  detail: string | null;
}

/** One request a hook received and verified, and what its action did with it. */
export interface InboundEvent {
  /** `evt_<12 hex ms><16 hex random>`: sorts by arrival. */
  id: string;
  hookId: string;
  userId: string;
  receivedAt: string;
  /** When the event and its body are deleted (retention). */
  expiresAt: string;
  /**
   * The provider's delivery id, when it sent one. A repeat of it with the same body is not
   * stored again; one with another body is stored as a conflict.
   */
  deliveryId: string | null;
  /**
   * The event first stored under this delivery id, when this one came with the same id but
   * another body: a sender's bug or a changed event, for a person to look at. Its action is
   * held, not run.
   */
  conflictOf: string | null;
  contentType: string | null;
  /** Request headers, lower-case names, credentials and signatures redacted. */
  headers: Record<string, string>;
  bodySize: number;
  /** The first bytes of the body as UTF-8; the whole body is kept apart for the action. */
  body: string;
  bodyTruncated: boolean;
  /** How many chunks hold the whole body. */
  bodyChunks: number;
  verification: { mode: VerificationMode; verified: boolean };
  action: {
    state: ActionState;
    /** Epoch ms of the next attempt while pending. */
    nextAttemptAt: number | null;
    /** Attempts since arrival or the last replay: indexes the retry schedule. */
    attemptsInRound: number;
    attempts: ActionAttempt[];
  };
}

/** Value of a queued action: where its event is. */
export interface InboundRef {
  hookId: string;
}

/**
 * Validation of job input from the API. Every rejection names the field it is about, so
 * clients (and the admin UI) can show the message beside that field.
 */
import { z } from "zod";
import { alertsInput } from "../alerts/alert_settings.ts";
import { ValidationError } from "../errors.ts";
import { parseBody } from "../validation.ts";
import { checkTargetUrl, codePoint } from "../net/target_url.ts";
import { parseSchedule, type Schedule, ScheduleError } from "../schedule/schedule.ts";
import {
  type Expectation,
  type HttpMethod,
  type Job,
  JOB_TYPES,
  WORKER_ID,
} from "../store/types.ts";
import { MAX_GRACE_SECONDS, MIN_GRACE_SECONDS } from "../heartbeat/window.ts";

export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] as const;
export const DEFAULT_TIMEOUT_MS = 30_000;
export const MAX_TIMEOUT_MS = 300_000;
/** A Cloud Run job's run waits for its execution, which may take hours. */
export const DEFAULT_CLOUD_RUN_TIMEOUT_MS = 3_600_000;
export const MAX_CLOUD_RUN_TIMEOUT_MS = 86_400_000;
const MAX_URL_LENGTH = 2048;
const MAX_BODY_BYTES = 64 * 1024;
const MAX_HEADERS = 50;
const MAX_HEADER_BYTES = 8 * 1024;
/** RFC 9110 token characters. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/**
 * Headers a job may not set: `Host` would let a job reach another virtual host than its URL
 * names, the metadata headers are what cloud metadata services require to answer, and the
 * framing headers are the HTTP client's job.
 */
const FORBIDDEN_HEADERS = new Set([
  "host",
  "metadata-flavor",
  "x-google-metadata-request",
  "metadata",
  "x-aws-ec2-metadata-token",
  "x-aws-ec2-metadata-token-ttl-seconds",
  "x-identity-header",
  "content-length",
  "transfer-encoding",
  "connection",
  "upgrade",
  "te",
  "trailer",
  "keep-alive",
  "proxy-authorization",
  "proxy-connection",
]);

const expectSchema = z.object({
  status: z.union([
    z.number().int().min(100).max(599),
    z.array(z.number().int().min(100).max(599)).min(1).max(50),
  ]).optional(),
  bodyContains: z.string().min(1).max(1024).optional(),
  maxLatencyMs: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
}).strict();

const fields = {
  name: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  url: z.string().max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`),
  method: z.enum(METHODS, { error: `must be one of ${METHODS.join(", ")}` }),
  headers: z.record(z.string(), z.string({ error: "values must be strings" })).nullable(),
  body: z.string().nullable(),
  schedule: z.string().trim().min(1, "must not be empty").max(200),
  timezone: z.string().trim().min(1, "must not be empty").max(64),
  enabled: z.boolean({ error: "must be true or false" }),
  timeoutMs: z.number({ error: "must be a number" }).int("must be a whole number")
    .min(1000, "must be at least 1000")
    .max(MAX_CLOUD_RUN_TIMEOUT_MS, `must be at most ${MAX_CLOUD_RUN_TIMEOUT_MS}`),
  expect: expectSchema.nullable(),
  local: z.boolean({ error: "must be true or false" }),
  workers: z.array(
    z.object({
      workerId: z.string().regex(WORKER_ID, "must be 1-64 letters, digits or _.-"),
      checkMinute: z.number().int().min(0).max(59).optional(),
      checkSecond: z.number().int().min(0).max(59).optional(),
    }).strict(),
  ).max(50, "must list at most 50 workers"),
  type: z.enum(JOB_TYPES, { error: 'must be "http", "cloud_run_job" or "heartbeat"' }),
  cloudRun: z.unknown().optional(),
  graceSeconds: z.number({ error: "must be a number" }).int("must be a whole number")
    .min(MIN_GRACE_SECONDS, `must be at least ${MIN_GRACE_SECONDS}`)
    .max(MAX_GRACE_SECONDS, `must be at most ${MAX_GRACE_SECONDS} (30 days)`),
  alerts: alertsInput,
};

const createSchema = z.object({
  type: fields.type.default("http"),
  cloudRun: fields.cloudRun,
  name: fields.name,
  url: fields.url.optional(),
  method: fields.method.default("GET"),
  headers: fields.headers.default(null),
  body: fields.body.default(null),
  schedule: fields.schedule,
  timezone: fields.timezone.default("UTC"),
  enabled: fields.enabled.default(true),
  timeoutMs: fields.timeoutMs.optional(),
  expect: fields.expect.default(null),
  local: fields.local.default(true),
  workers: fields.workers.default([]),
  graceSeconds: fields.graceSeconds.optional(),
  alerts: fields.alerts.optional(),
}).strict();

const { type: _type, ...patchable } = fields;
/** The type of a job is fixed when it is created. */
const patchSchema = z.object(patchable).partial().strict();

export type JobInput = z.output<typeof createSchema>;
export type JobPatch = z.output<typeof patchSchema>;

export interface CheckOptions {
  allowPrivateNetworks: boolean;
}

export function parseJobInput(body: unknown): JobInput {
  const input = parseBody(createSchema, body);
  if (input.type === "heartbeat") {
    refuseRequestFields(body as Record<string, unknown>);
  } else if (input.graceSeconds !== undefined) {
    throw new ValidationError(
      'graceSeconds applies only to jobs of type "heartbeat"',
      "graceSeconds",
    );
  }
  return input;
}

export function parseJobPatch(body: unknown): JobPatch {
  return parseBody(patchSchema, body);
}

/** Checks a patch against the type of the job it changes (fixed at creation). */
export function checkPatchForType(patch: JobPatch, type: Job["type"]): void {
  if (type === "heartbeat") {
    refuseRequestFields(patch);
  } else if (patch.graceSeconds !== undefined) {
    throw new ValidationError(
      'graceSeconds applies only to jobs of type "heartbeat"',
      "graceSeconds",
    );
  }
}

/**
 * Fields a heartbeat job has no use for: it sends nothing, it is pinged. Empty values (null,
 * no workers, `local: true`) pass, so a client may send one shape for every type.
 */
const REQUEST_FIELDS = ["url", "method", "headers", "body", "expect", "timeoutMs", "cloudRun"];

function refuseRequestFields(given: Record<string, unknown>): void {
  for (const field of REQUEST_FIELDS) {
    if (given[field] !== undefined && given[field] !== null) {
      throw new ValidationError(
        `${field} does not apply to a heartbeat job: it is pinged, it sends nothing`,
        field,
      );
    }
  }
  if (Array.isArray(given.workers) && given.workers.length > 0) {
    throw new ValidationError("workers probe HTTP jobs, not heartbeat jobs", "workers");
  }
  if (given.local === false) {
    throw new ValidationError(
      "local must be true for a heartbeat job: Hibiki itself checks its pings",
      "local",
    );
  }
}

/** Checks what a schema cannot: URL safety, headers, body vs method, the schedule. */
export function checkJob(job: Job, options: CheckOptions): Schedule {
  if (job.type === "heartbeat") {
    // Nothing to send: the schema checked the grace; the schedule is checked below.
  } else if (job.type === "cloud_run_job") {
    if (job.timeoutMs > MAX_CLOUD_RUN_TIMEOUT_MS) {
      throw new ValidationError(
        `timeoutMs must be at most ${MAX_CLOUD_RUN_TIMEOUT_MS}`,
        "timeoutMs",
      );
    }
  } else {
    checkUrl(job.url, options);
    checkHeaders(job.headers);
    checkBody(job.method, job.body);
    checkExpect(job.expect);
    if (job.timeoutMs > MAX_TIMEOUT_MS) {
      throw new ValidationError(`timeoutMs must be at most ${MAX_TIMEOUT_MS}`, "timeoutMs");
    }
  }
  try {
    return parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
  } catch (error) {
    if (error instanceof ScheduleError) throw new ValidationError(error.message, error.field);
    throw error;
  }
}

function checkUrl(text: string, options: CheckOptions): void {
  checkTargetUrl(text, { ...options, allowHttp: true, label: "url", field: "url" });
}

/**
 * Checks user-set request headers. `reserved` tells the headers Hibiki itself sets (given
 * lower case), which a user may not override.
 */
export function checkHeaders(
  headers: Record<string, string> | null,
  reserved: (lowerName: string) => boolean = () => false,
): void {
  if (!headers) return;
  const names = Object.keys(headers);
  if (names.length > MAX_HEADERS) {
    throw new ValidationError(
      `headers has ${names.length} entries: at most ${MAX_HEADERS}`,
      "headers",
    );
  }
  let bytes = 0;
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name)) {
      throw new ValidationError(`headers has an invalid header name "${name}"`, "headers");
    }
    const lower = name.toLowerCase();
    if (FORBIDDEN_HEADERS.has(lower)) {
      throw new ValidationError(`headers must not set "${name}"`, "headers");
    }
    if (reserved(lower)) {
      throw new ValidationError(`headers must not set "${name}": Hibiki sets it`, "headers");
    }
    if (seen.has(lower)) {
      throw new ValidationError(`headers sets "${name}" twice`, "headers");
    }
    seen.add(lower);
    // RFC 9110 allows no control character but tab in a field value; CR LF would end it.
    const control = /[^\P{Cc}\t]/u.exec(value);
    if (control) {
      const what = control[0] === "\r" || control[0] === "\n"
        ? "a line break"
        : "a control character";
      throw new ValidationError(
        `headers value of "${name}" contains ${what} (${codePoint(control[0])})`,
        "headers",
      );
    }
    bytes += name.length + value.length;
  }
  if (bytes > MAX_HEADER_BYTES) {
    throw new ValidationError(`headers are ${bytes} bytes: at most ${MAX_HEADER_BYTES}`, "headers");
  }
}

function checkBody(method: HttpMethod, body: string | null): void {
  if (body === null) return;
  if (method === "GET" || method === "HEAD") {
    throw new ValidationError(`body is not allowed with ${method}`, "body");
  }
  const size = new TextEncoder().encode(body).length;
  if (size > MAX_BODY_BYTES) {
    throw new ValidationError(`body is ${size} bytes: at most ${MAX_BODY_BYTES}`, "body");
  }
}

function checkExpect(expect: Expectation | null): void {
  if (expect && Object.keys(expect).length === 0) {
    throw new ValidationError(
      "expect must name at least one of status, bodyContains, maxLatencyMs",
      "expect",
    );
  }
}

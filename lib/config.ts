/**
 * Configuration, read once from the environment and parsed strictly. A bad value stops
 * the program at start with a message naming the variable, never later at first use.
 */
import { z } from "zod";

export const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

export const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/**
 * A base URL: http(s), no credentials, query or fragment; kept without its trailing slash so
 * paths are appended with one.
 */
const baseUrl = z.string().refine((text) => {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "http:" || url.protocol === "https:") && !url.username &&
    !url.password && !url.search && !url.hash;
}, "must be an http(s) URL without credentials, query or fragment")
  .transform((text) => text.replace(/\/+$/, ""));

/**
 * A Postgres connection string (`postgres://` or `postgresql://`, with a host and a database).
 * Supabase's direct string and its pooler's work as given; the pooler in transaction mode
 * (port 6543, or `?pgbouncer=true`) keeps no prepared statements, so they are turned off there.
 */
const databaseUrl = z.string().transform((text, ctx) => {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (
    !url || !["postgres:", "postgresql:"].includes(url.protocol) || !url.hostname ||
    url.pathname.length <= 1
  ) {
    ctx.addIssue({
      code: "custom",
      message: "must be a postgres:// or postgresql:// URL with a host and a database name",
    });
    return z.NEVER;
  }
  const pooled = url.port === "6543" || url.searchParams.get("pgbouncer") === "true";
  return { url: text, pooled };
});

const schema = z.object({
  PORT: int(0, 65535).default(8000),
  HIBIKI_HOSTNAME: z.string().min(1).default("0.0.0.0"),
  HIBIKI_KV_PATH: z.string().min(1).optional(),
  DATABASE_URL: databaseUrl.optional(),
  HIBIKI_DATABASE_PREPARE: flag.optional(),
  HIBIKI_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  HIBIKI_ADMIN_PASSWORD: z.string().min(12, "must be at least 12 characters").max(200).optional(),
  HIBIKI_MASTER_KEY: z.string().optional(),
  HIBIKI_ENV: z.enum(["development", "production"]).default("development"),
  HIBIKI_ALLOW_PRIVATE_NETWORKS: flag.default(false),
  HIBIKI_CATCHUP_DEADLINE_SECONDS: int(0, 86_400).default(300),
  HIBIKI_RUN_RETENTION_COUNT: int(1, 100_000).default(1000),
  HIBIKI_RUN_RETENTION_DAYS: int(1, 3650).default(30),
  HIBIKI_MAX_CONCURRENCY: int(1, 20_000).default(1000),
  HIBIKI_ALLOW_HTTP_WEBHOOKS: flag.default(false),
  HIBIKI_WEBHOOK_TIMEOUT_SECONDS: int(1, 30).default(5),
  HIBIKI_WEBHOOK_RETRY_SCHEDULE: z.string().default("5s,30s,2m,10m,30m,1h,3h,6h,12h")
    .transform((text, ctx) => {
      const steps = text.split(",").map((part) => parseDuration(part.trim()));
      if (steps.some((ms) => ms === null) || steps.length > 20) {
        ctx.addIssue({
          code: "custom",
          message: "must be a comma-separated list of at most 20 durations like 5s,30s,2m,1h",
        });
        return z.NEVER;
      }
      return steps as number[];
    }),
  HIBIKI_WEBHOOK_ROTATION_GRACE_HOURS: int(0, 720).default(24),
  PINGMON_WORKER_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  GCP_SERVICE_ACCOUNT: z.string().optional(),
  GCP_PROJECT_ID: z.string().optional(),
  GCP_REGION: z.string().optional(),
  GCP_JOB_NAME: z.string().optional(),
  HIBIKI_GCP_RUN_URL: z.string().url("must be a URL").default("https://run.googleapis.com"),
  DENO_DEPLOYMENT_ID: z.string().optional(),
  HIBIKI_PUBLIC_URL: baseUrl.optional(),
  HIBIKI_TELEGRAM_API_URL: baseUrl.default("https://api.telegram.org"),
  HIBIKI_PAGERDUTY_API_URL: baseUrl.default("https://events.pagerduty.com"),
  HIBIKI_ALERT_GROUP_MS: int(0, 10_000).default(500),
});

export interface Config {
  port: number;
  hostname: string;
  /** null: the platform's own KV (Deno Deploy). */
  kvPath: string | null;
  /**
   * DATABASE_URL: Postgres instead of Deno KV. `prepare`: named prepared statements, off for
   * a pooler in transaction mode (HIBIKI_DATABASE_PREPARE overrides the guess). `listen`:
   * wake-ups through `LISTEN`, which such a pooler cannot carry (then short polling only).
   */
  database: { url: string; prepare: boolean; listen: boolean } | null;
  rootApiKey: string | null;
  /** The admin pages' password of the user `default` (HIBIKI_ADMIN_PASSWORD). */
  adminPassword: string | null;
  masterKey: string | null;
  production: boolean;
  allowPrivateNetworks: boolean;
  catchUpDeadlineMs: number;
  runRetention: { count: number; maxAgeMs: number };
  maxConcurrency: number;
  /** The shared key of probe workers (seed 002); the edge API answers 401 without one. */
  workerApiKey: string | null;
  /** Cloud Run Jobs (seed 000): the default credential and target, and the API's base. */
  gcp: {
    serviceAccount: string | null;
    projectId: string | null;
    region: string | null;
    jobName: string | null;
    runUrl: string;
  };
  /** Where people reach the admin pages (HIBIKI_PUBLIC_URL): links in alerts; no trailing slash. */
  publicUrl: string;
  /**
   * HIBIKI_PUBLIC_URL as set (no trailing slash), null when unset: the base of heartbeat ping
   * URLs, which otherwise use each request's own origin (not `publicUrl`'s localhost guess).
   */
  publicUrlSet: string | null;
  /** The services notification channels post to; tests point them at local stand-ins. */
  channels: { telegramApiUrl: string; pagerDutyApiUrl: string };
  /**
   * How long an opened or resolved notification waits for others of its owner and channel,
   * to go out with them as one grouped message (HIBIKI_ALERT_GROUP_MS).
   */
  alertGroupMs: number;
  webhooks: {
    allowHttp: boolean;
    timeoutMs: number;
    retryScheduleMs: number[];
    rotationGraceMs: number;
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses `env` (normally `Deno.env.toObject()`); throws ConfigError naming every bad variable. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const present = Object.fromEntries(
    Object.keys(schema.shape).map((name) => [name, env[name] === "" ? undefined : env[name]]),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new ConfigError(`Cannot start: invalid configuration: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const onDeploy = e.DENO_DEPLOYMENT_ID !== undefined;
  return {
    port: e.PORT,
    hostname: e.HIBIKI_HOSTNAME,
    kvPath: e.HIBIKI_KV_PATH ?? (onDeploy ? null : "./data/hibiki.kv"),
    database: e.DATABASE_URL
      ? {
        url: e.DATABASE_URL.url,
        prepare: e.HIBIKI_DATABASE_PREPARE ?? !e.DATABASE_URL.pooled,
        listen: !e.DATABASE_URL.pooled,
      }
      : null,
    rootApiKey: e.HIBIKI_API_KEY ?? null,
    adminPassword: e.HIBIKI_ADMIN_PASSWORD ?? null,
    masterKey: e.HIBIKI_MASTER_KEY ?? null,
    production: e.HIBIKI_ENV === "production" || onDeploy,
    allowPrivateNetworks: e.HIBIKI_ALLOW_PRIVATE_NETWORKS,
    catchUpDeadlineMs: e.HIBIKI_CATCHUP_DEADLINE_SECONDS * 1000,
    runRetention: {
      count: e.HIBIKI_RUN_RETENTION_COUNT,
      maxAgeMs: e.HIBIKI_RUN_RETENTION_DAYS * 86_400_000,
    },
    maxConcurrency: e.HIBIKI_MAX_CONCURRENCY,
    workerApiKey: e.PINGMON_WORKER_API_KEY ?? null,
    gcp: {
      serviceAccount: e.GCP_SERVICE_ACCOUNT ?? null,
      projectId: e.GCP_PROJECT_ID ?? null,
      region: e.GCP_REGION ?? null,
      jobName: e.GCP_JOB_NAME ?? null,
      runUrl: e.HIBIKI_GCP_RUN_URL.replace(/\/+$/, ""),
    },
    publicUrl: e.HIBIKI_PUBLIC_URL ?? `http://localhost:${e.PORT}`,
    publicUrlSet: e.HIBIKI_PUBLIC_URL ?? null,
    channels: {
      telegramApiUrl: e.HIBIKI_TELEGRAM_API_URL,
      pagerDutyApiUrl: e.HIBIKI_PAGERDUTY_API_URL,
    },
    alertGroupMs: e.HIBIKI_ALERT_GROUP_MS,
    webhooks: {
      allowHttp: e.HIBIKI_ALLOW_HTTP_WEBHOOKS,
      timeoutMs: e.HIBIKI_WEBHOOK_TIMEOUT_SECONDS * 1000,
      retryScheduleMs: e.HIBIKI_WEBHOOK_RETRY_SCHEDULE,
      rotationGraceMs: e.HIBIKI_WEBHOOK_ROTATION_GRACE_HOURS * 3_600_000,
    },
  };
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `500ms`, `5s`, `2m`, `1h`, `1d` → milliseconds; null when not a duration. */
export function parseDuration(text: string): number | null {
  const match = /^(\d{1,6})(ms|s|m|h|d)$/.exec(text);
  return match ? Number(match[1]) * UNIT_MS[match[2]] : null;
}

/**
 * Configuration, read once from the environment and parsed strictly. A bad value stops
 * the program at start with a message naming the variable, never later at first use.
 */
import { z } from "zod";

const flag = z
  .enum(["1", "0", "true", "false", "yes", "no", "on", "off", ""])
  .transform((v) => ["1", "true", "yes", "on"].includes(v));

const int = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const schema = z.object({
  PORT: int(0, 65535).default(8000),
  HIBIKI_HOSTNAME: z.string().min(1).default("0.0.0.0"),
  HIBIKI_KV_PATH: z.string().min(1).optional(),
  HIBIKI_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  HIBIKI_MASTER_KEY: z.string().optional(),
  HIBIKI_ENV: z.enum(["development", "production"]).default("development"),
  HIBIKI_ALLOW_PRIVATE_NETWORKS: flag.default(false),
  HIBIKI_CATCHUP_DEADLINE_SECONDS: int(0, 86_400).default(300),
  HIBIKI_RUN_RETENTION_COUNT: int(1, 100_000).default(1000),
  HIBIKI_RUN_RETENTION_DAYS: int(1, 3650).default(30),
  HIBIKI_MAX_CONCURRENCY: int(1, 20_000).default(1000),
  DENO_DEPLOYMENT_ID: z.string().optional(),
});

export interface Config {
  port: number;
  hostname: string;
  /** null: the platform's own KV (Deno Deploy). */
  kvPath: string | null;
  rootApiKey: string | null;
  masterKey: string | null;
  production: boolean;
  allowPrivateNetworks: boolean;
  catchUpDeadlineMs: number;
  runRetention: { count: number; maxAgeMs: number };
  maxConcurrency: number;
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
    rootApiKey: e.HIBIKI_API_KEY ?? null,
    masterKey: e.HIBIKI_MASTER_KEY ?? null,
    production: e.HIBIKI_ENV === "production" || onDeploy,
    allowPrivateNetworks: e.HIBIKI_ALLOW_PRIVATE_NETWORKS,
    catchUpDeadlineMs: e.HIBIKI_CATCHUP_DEADLINE_SECONDS * 1000,
    runRetention: {
      count: e.HIBIKI_RUN_RETENTION_COUNT,
      maxAgeMs: e.HIBIKI_RUN_RETENTION_DAYS * 86_400_000,
    },
    maxConcurrency: e.HIBIKI_MAX_CONCURRENCY,
  };
}

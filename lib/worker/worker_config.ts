/**
 * A probe worker's configuration, exactly the seed's `.env` (`WORKER_ID`, `SUPABASE_URL`,
 * `PINGMON_WORKER_API_KEY`) plus a few optional knobs, and `SUPABASE_ANON_KEY` (the seed's
 * setup step 1) for a worker that calls a Supabase project through its gateway.
 */
import { z } from "zod";
import { flag, int as seconds } from "../config.ts";

const schema = z.object({
  WORKER_ID: z.string({ error: "is required" }).regex(
    /^[A-Za-z0-9_.-]{1,64}$/,
    "must be 1-64 letters, digits or _.-",
  ),
  // z.string().url() admits "localhost:8000" (scheme "localhost:"): the worker then retries a
  // request that can never go out, forever.
  SUPABASE_URL: z.string({ error: "is required (Hibiki's or the Supabase project's URL)" }).pipe(
    z.url({ protocol: /^https?$/, error: "must be an http or https URL" }),
  ),
  PINGMON_WORKER_API_KEY: z.string({ error: "is required" }).min(
    16,
    "must be at least 16 characters",
  ),
  // The legacy anon key is a JWT, a publishable key `sb_publishable_…`: either is one word.
  SUPABASE_ANON_KEY: z.string().regex(/^\S+$/, "must be the project's anon key, one word")
    .optional(),
  WORKER_DATA_PATH: z.string().min(1).optional(),
  WORKER_REFRESH_SECONDS: seconds(1, 3600).default(60),
  WORKER_FLUSH_SECONDS: seconds(1, 300).default(5),
  WORKER_RETRY_MAX_SECONDS: seconds(1, 3600).default(60),
  HIBIKI_ALLOW_PRIVATE_NETWORKS: flag.default(false),
});

export interface WorkerConfig {
  workerId: string;
  /** SUPABASE_URL without trailing slashes. */
  supabaseUrl: string;
  /** Where the edge functions live: `${SUPABASE_URL}/functions/v1`. */
  functionsUrl: string;
  apiKey: string;
  /** Set: call the functions through supabase-js with this key; null: plain HTTP. */
  anonKey: string | null;
  dataPath: string;
  refreshMs: number;
  flushMs: number;
  /** The longest wait between sends while Hibiki is unreachable (before jitter). */
  retryMaxMs: number;
  allowPrivateNetworks: boolean;
}

export class WorkerConfigError extends Error {
  override name = "WorkerConfigError";
}

/** Where the values came from, so a bad one from a `.env` file is reported with the file. */
export interface WorkerEnvSource {
  file: string | null;
  fromFile: ReadonlySet<string>;
}

export function parseWorkerConfig(
  env: Record<string, string | undefined>,
  source?: WorkerEnvSource,
): WorkerConfig {
  const present = Object.fromEntries(
    Object.keys(schema.shape).map((name) => [name, env[name] === "" ? undefined : env[name]]),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const where = source?.fromFile.has(String(i.path[0])) ? ` (in ${source.file})` : "";
      return `${i.path.join(".")} ${i.message}${where}`;
    });
    throw new WorkerConfigError(`Cannot start the worker: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const supabaseUrl = e.SUPABASE_URL.replace(/\/+$/, "");
  return {
    workerId: e.WORKER_ID,
    supabaseUrl,
    functionsUrl: supabaseUrl + "/functions/v1",
    apiKey: e.PINGMON_WORKER_API_KEY,
    anonKey: e.SUPABASE_ANON_KEY ?? null,
    dataPath: e.WORKER_DATA_PATH ?? `./data/worker-${e.WORKER_ID}.kv`,
    refreshMs: e.WORKER_REFRESH_SECONDS * 1000,
    flushMs: e.WORKER_FLUSH_SECONDS * 1000,
    retryMaxMs: e.WORKER_RETRY_MAX_SECONDS * 1000,
    allowPrivateNetworks: e.HIBIKI_ALLOW_PRIVATE_NETWORKS,
  };
}

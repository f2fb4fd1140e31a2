/**
 * What each of seed 002's two Supabase function files serves: Hibiki's own handler
 * (lib/edge/functions.ts, the one Hibiki's server mounts at /functions/v1) over the Postgres
 * store on the project's database. Supabase gives every function `SUPABASE_DB_URL`; the worker
 * key is the project secret `PINGMON_WORKER_API_KEY` (the seed's setup step 2), and
 * `HIBIKI_RUN_RETENTION_DAYS` may match the Hibiki server's (results older than it are not
 * stored). Accepted results go into the seed's `check_results` and, in the same transaction,
 * the results lane, which a Hibiki process on the same database turns into runs.
 *
 * A missing or bad setting is logged once at boot; calls then answer as a database failure
 * does (the seed's 500s), naming the setting in the log, rather than failing to boot, which
 * Supabase reports only as a bare 503.
 */
import { z } from "zod";
import { systemClock } from "../../../lib/clock.ts";
import { int } from "../../../lib/config.ts";
import { EdgeService } from "../../../lib/edge/edge_service.ts";
import {
  type EdgeFunctionName,
  edgeFunctions,
  type EdgeHandler,
} from "../../../lib/edge/functions.ts";
import { connectPostgres, createPostgresStores } from "../../../lib/store/postgres/mod.ts";
import type { WorkerStore } from "../../../lib/store/workers.ts";

const schema = z.object({
  SUPABASE_DB_URL: z.string({ error: "is not set (Supabase sets it for every function)" })
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL"),
  PINGMON_WORKER_API_KEY: z.string().min(16, "must be at least 16 characters").optional(),
  HIBIKI_RUN_RETENTION_DAYS: int(1, 3650).default(30),
});

/** Connections per function instance: a call makes a few queries, some at once. */
const POOL_SIZE = 3;

export function pingmonFunction(
  name: EdgeFunctionName,
  env: { get(name: string): string | undefined } = Deno.env,
): EdgeHandler {
  const present = Object.fromEntries(
    Object.keys(schema.shape).map((key) => [key, env.get(key) || undefined]),
  );
  const parsed = schema.safeParse(present);
  let workers: WorkerStore;
  let workerApiKey: string | null = null;
  let maxAgeMs = 30 * 86_400_000;
  if (parsed.success) {
    // Prepared statements off: SUPABASE_DB_URL may go through Supavisor in transaction mode,
    // which does not keep them.
    const sql = connectPostgres(parsed.data.SUPABASE_DB_URL, { max: POOL_SIZE, prepare: false });
    workers = createPostgresStores(sql).workers;
    workerApiKey = parsed.data.PINGMON_WORKER_API_KEY ?? null;
    maxAgeMs = parsed.data.HIBIKI_RUN_RETENTION_DAYS * 86_400_000;
  } else {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`);
    const reason = `Cannot start ${name}: ${problems.join("; ")}`;
    console.error(reason);
    workers = unavailable(reason);
    const key = env.get("PINGMON_WORKER_API_KEY");
    if (key && key.length >= 16) workerApiKey = key;
  }
  const edge = new EdgeService({
    workers,
    clock: systemClock,
    maxAgeMs,
    // The results lane is run by Hibiki's processes, not by a function call.
    onAccepted: () => {},
  });
  const handle = edgeFunctions({ edge, workerApiKey })[name];
  return (request) =>
    // The seed's functions are POST only; anything else answers as Hibiki's server does.
    request.method === "POST" ? handle(request) : Promise.resolve(notFound());
}

function notFound(): Response {
  return new Response("404 Not Found", {
    status: 404,
    headers: { "Content-Type": "text/plain; charset=UTF-8" },
  });
}

/** A store whose every call fails with `reason`, for a function started without its settings. */
function unavailable(reason: string): WorkerStore {
  return new Proxy({} as WorkerStore, {
    get: () => () => Promise.reject(new Error(reason)),
  });
}

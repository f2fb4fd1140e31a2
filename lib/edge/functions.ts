/**
 * Seed 002's two edge functions as plain `Request → Response` handlers, so that Hibiki's server
 * (routes/functions/v1.ts, at `/functions/v1/<name>`) and the Supabase function files
 * (supabase/functions/<name>/index.ts) run one implementation: the same status codes, error
 * codes, bodies and log lines, the seed's word for word.
 */
import { secretsEqual } from "../crypto.ts";
import { readCapped } from "../request_body.ts";
import { EdgeError, type EdgeService } from "./edge_service.ts";
import { parseResults } from "./results_input.ts";

const BODY_LIMIT = 8 * 1024 * 1024;

export const EDGE_FUNCTIONS = ["get-monitors-to-check", "batch-save-results"] as const;
export type EdgeFunctionName = typeof EDGE_FUNCTIONS[number];
export type EdgeHandler = (request: Request) => Promise<Response>;

export interface EdgeFunctionDeps {
  edge: EdgeService;
  /** The shared worker key (PINGMON_WORKER_API_KEY); null answers every call 401. */
  workerApiKey: string | null;
}

export function edgeFunctions(deps: EdgeFunctionDeps): Record<EdgeFunctionName, EdgeHandler> {
  const authorized = (request: Request) => {
    const key = request.headers.get("x-pingmon-api-key");
    return key !== null && deps.workerApiKey !== null && secretsEqual(key, deps.workerApiKey);
  };

  return {
    async "get-monitors-to-check"(request) {
      if (!authorized(request)) return envelopeError(401, "UNAUTHORIZED", "Invalid API key");
      const body = await readJson(request);
      const workerId = (body as { worker_id?: unknown } | null)?.worker_id;
      if (typeof workerId !== "string" || workerId === "") {
        return envelopeError(400, "INVALID_REQUEST", "worker_id is required");
      }
      try {
        const monitors = await deps.edge.monitorsFor(workerId);
        console.log(`[${workerId}] Returned ${monitors.length} monitors`);
        return Response.json({ success: true, data: { worker_id: workerId, monitors } });
      } catch (error) {
        if (error instanceof EdgeError) {
          return envelopeError(error.status, error.code, error.message);
        }
        console.error(`[${workerId}] get-monitors-to-check failed:`, error);
        return envelopeError(500, "INTERNAL_ERROR", "Database connection failed");
      }
    },

    async "batch-save-results"(request) {
      if (!authorized(request)) return Response.json({ error: "Unauthorized" }, { status: 401 });
      const parsed = parseResults(await readJson(request));
      if (!parsed.ok) return Response.json(parsed.body, { status: parsed.status });
      const workerId = parsed.results[0].worker_id;
      try {
        const { inserted, monitors, dropped } = await deps.edge.accept(parsed.results);
        if (dropped) console.warn(`[${workerId}] ${dropped}`);
        console.log(
          `[${workerId}] Successfully inserted ${inserted} check results (monitors: ${monitors})`,
        );
        return Response.json({ success: true, inserted });
      } catch (error) {
        if (error instanceof EdgeError) {
          return envelopeError(error.status, error.code, error.message);
        }
        console.error(`[${workerId}] batch-save-results failed:`, error);
        return Response.json(
          { error: "Database insert failed", details: (error as Error).message },
          { status: 500 },
        );
      }
    },
  };
}

function envelopeError(status: 400 | 401 | 403 | 404 | 500, code: string, message: string) {
  return Response.json({ success: false, error: { code, message } }, { status });
}

/**
 * The body as JSON, or null when it is not JSON or over the limit (then validation answers).
 * Read with a cap, so a body without a Content-Length cannot run past it either.
 */
async function readJson(request: Request): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readCapped(request, BODY_LIMIT)));
  } catch {
    return null;
  }
}

/**
 * Seed 002's edge functions, at the paths a Pingmon worker calls, so a worker's
 * `SUPABASE_URL` can point at Hibiki unchanged. Status codes, error codes, bodies and log
 * lines are the seed's, word for word.
 */
import { readCapped } from "../../lib/request_body.ts";
import { Hono } from "hono";
import type { Context } from "hono";
import { secretsEqual } from "../../lib/crypto.ts";
import { EdgeError, type EdgeService } from "../../lib/edge/edge_service.ts";
import { parseResults } from "../../lib/edge/results_input.ts";

const BODY_LIMIT = 8 * 1024 * 1024;

export function edgeRoutes(deps: { edge: EdgeService; workerApiKey: string | null }): Hono {
  const app = new Hono();
  const authorized = (c: Context) => {
    const key = c.req.header("x-pingmon-api-key");
    return key !== undefined && deps.workerApiKey !== null &&
      secretsEqual(key, deps.workerApiKey);
  };

  app.post("/get-monitors-to-check", async (c) => {
    if (!authorized(c)) return envelopeError(c, 401, "UNAUTHORIZED", "Invalid API key");
    const body = await readJson(c);
    const workerId = (body as { worker_id?: unknown } | null)?.worker_id;
    if (typeof workerId !== "string" || workerId === "") {
      return envelopeError(c, 400, "INVALID_REQUEST", "worker_id is required");
    }
    try {
      const monitors = await deps.edge.monitorsFor(workerId);
      console.log(`[${workerId}] Returned ${monitors.length} monitors`);
      return c.json({ success: true, data: { worker_id: workerId, monitors } });
    } catch (error) {
      if (error instanceof EdgeError) {
        return envelopeError(c, error.status, error.code, error.message);
      }
      console.error(`[${workerId}] get-monitors-to-check failed:`, error);
      return envelopeError(c, 500, "INTERNAL_ERROR", "Database connection failed");
    }
  });

  app.post("/batch-save-results", async (c) => {
    if (!authorized(c)) return c.json({ error: "Unauthorized" }, 401);
    const parsed = parseResults(await readJson(c));
    if (!parsed.ok) return c.json(parsed.body, parsed.status);
    const workerId = parsed.results[0].worker_id;
    try {
      const { inserted, monitors, dropped } = await deps.edge.accept(parsed.results);
      if (dropped) console.warn(`[${workerId}] ${dropped}`);
      console.log(
        `[${workerId}] Successfully inserted ${inserted} check results (monitors: ${monitors})`,
      );
      return c.json({ success: true, inserted });
    } catch (error) {
      if (error instanceof EdgeError) {
        return envelopeError(c, error.status, error.code, error.message);
      }
      console.error(`[${workerId}] batch-save-results failed:`, error);
      return c.json({ error: "Database insert failed", details: (error as Error).message }, 500);
    }
  });
  return app;
}

function envelopeError(
  c: Context,
  status: 400 | 401 | 403 | 404 | 500,
  code: string,
  message: string,
) {
  return c.json({ success: false, error: { code, message } }, status);
}

/**
 * The body as JSON, or null when it is not JSON or over the limit (then validation answers).
 * Read with a cap, so a body without a Content-Length cannot run past it either.
 */
async function readJson(c: Context): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readCapped(c.req.raw, BODY_LIMIT)));
  } catch {
    return null;
  }
}

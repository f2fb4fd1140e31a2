/**
 * Seed 002's edge functions, at the paths a Pingmon worker calls, so a worker's
 * `SUPABASE_URL` can point at Hibiki unchanged. The handlers are lib/edge/functions.ts, the
 * same the Supabase function files in supabase/functions/ serve.
 */
import { Hono } from "hono";
import { EDGE_FUNCTIONS, type EdgeFunctionDeps, edgeFunctions } from "../../lib/edge/functions.ts";

export function edgeRoutes(deps: EdgeFunctionDeps): Hono {
  const app = new Hono();
  const handlers = edgeFunctions(deps);
  for (const name of EDGE_FUNCTIONS) app.post(`/${name}`, (c) => handlers[name](c.req.raw));
  return app;
}

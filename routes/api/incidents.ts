/**
 * `/api/incidents`: a tenant's incidents, newest first, their acknowledgement, and the
 * operator's updates that status pages show.
 */
import { Hono } from "hono";
import type { IncidentService } from "../../lib/alerts/incidents.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

export function incidentRoutes(deps: { incidents: IncidentService }): Hono<AuthEnv> {
  const { incidents } = deps;
  const app = new Hono<AuthEnv>();

  app.get("/", scope("read:jobs"), async (c) => {
    const query = { ...pageParams(c), state: c.req.query("state"), jobId: c.req.query("jobId") };
    return okPage(c, await incidents.list(userOf(c), query));
  });
  app.get(
    "/:id",
    scope("read:jobs"),
    async (c) => ok(c, await incidents.get(userOf(c), c.req.param("id"))),
  );
  app.post("/:id/acknowledge", scope("write:jobs"), async (c) => {
    const principal = c.get("principal");
    return ok(c, await incidents.acknowledge(principal.userId, c.req.param("id"), principal.name));
  });
  app.post(
    "/:id/updates",
    scope("write:jobs"),
    async (c) =>
      ok(c, await incidents.addUpdate(userOf(c), c.req.param("id"), await jsonBody(c)), 201),
  );
  return app;
}

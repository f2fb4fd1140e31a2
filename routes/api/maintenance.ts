/** `/api/maintenance`: maintenance windows, with the jobs' scopes (they silence jobs' alerts). */
import { Hono } from "hono";
import type { MaintenanceService } from "../../lib/alerts/maintenance.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

export function maintenanceRoutes(deps: { maintenance: MaintenanceService }): Hono<AuthEnv> {
  const { maintenance } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    "/",
    scope("read:jobs"),
    async (c) => okPage(c, await maintenance.list(userOf(c), pageParams(c))),
  );
  app.post(
    "/",
    scope("write:jobs"),
    async (c) => ok(c, await maintenance.create(userOf(c), await jsonBody(c)), 201),
  );
  app.get(
    "/:id",
    scope("read:jobs"),
    async (c) => ok(c, await maintenance.get(userOf(c), c.req.param("id"))),
  );
  app.patch(
    "/:id",
    scope("write:jobs"),
    async (c) => ok(c, await maintenance.update(userOf(c), c.req.param("id"), await jsonBody(c))),
  );
  app.delete("/:id", scope("write:jobs"), async (c) => {
    await maintenance.delete(userOf(c), c.req.param("id"));
    return ok(c, { message: "Maintenance window deleted" });
  });
  app.post(
    "/:id/end",
    scope("write:jobs"),
    async (c) => ok(c, await maintenance.end(userOf(c), c.req.param("id"))),
  );
  return app;
}

/**
 * `/api/status-pages`: an owner's public status pages (issue 13). They publish jobs' states,
 * so they go with the jobs' scopes: reading needs read:jobs, changing write:jobs.
 */
import { Hono } from "hono";
import type { StatusPageService } from "../../lib/status/status_pages.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, pageParams } from "../http.ts";

export function statusPageRoutes(deps: { statusPages: StatusPageService }): Hono<AuthEnv> {
  const { statusPages: pages } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    "/",
    scope("read:jobs"),
    async (c) => okPage(c, await pages.list(userOf(c), pageParams(c))),
  );
  app.post(
    "/",
    scope("write:jobs"),
    async (c) => ok(c, await pages.create(userOf(c), await jsonBody(c)), 201),
  );
  app.get(
    "/:id",
    scope("read:jobs"),
    async (c) => ok(c, await pages.get(userOf(c), c.req.param("id"))),
  );
  app.patch(
    "/:id",
    scope("write:jobs"),
    async (c) => ok(c, await pages.update(userOf(c), c.req.param("id"), await jsonBody(c))),
  );
  app.delete("/:id", scope("write:jobs"), async (c) => {
    await pages.delete(userOf(c), c.req.param("id"));
    return ok(c, { message: "Status page deleted" });
  });
  return app;
}

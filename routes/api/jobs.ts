/** `/api/jobs`: jobs, their runs, manual runs, fire-time previews, alert state and uptime. */
import { Hono } from "hono";
import { NotFoundError } from "../../lib/errors.ts";
import type { IncidentService } from "../../lib/alerts/incidents.ts";
import type { JobService } from "../../lib/jobs/jobs.ts";
import type { Store } from "../../lib/store/store.ts";
import { type AuthEnv, scope, userOf } from "../middleware/auth.ts";
import { jsonBody, ok, okPage, originOf, pageParams } from "../http.ts";

export function jobRoutes(
  deps: { jobs: JobService; store: Store; incidents: IncidentService },
): Hono<AuthEnv> {
  const { jobs, store, incidents } = deps;
  const app = new Hono<AuthEnv>();

  app.get(
    "/",
    scope("read:jobs"),
    async (c) => okPage(c, await jobs.list(userOf(c), pageParams(c), { origin: originOf(c) })),
  );
  app.post(
    "/",
    scope("write:jobs"),
    async (c) =>
      ok(c, await jobs.create(userOf(c), await jsonBody(c), { origin: originOf(c) }), 201),
  );
  app.get(
    "/:id",
    scope("read:jobs"),
    async (c) => ok(c, await jobs.get(userOf(c), c.req.param("id"), { origin: originOf(c) })),
  );
  app.patch(
    "/:id",
    scope("write:jobs"),
    async (c) => {
      const body = await jsonBody(c);
      return ok(c, await jobs.update(userOf(c), c.req.param("id"), body, { origin: originOf(c) }));
    },
  );
  app.delete("/:id", scope("write:jobs"), async (c) => {
    await jobs.delete(userOf(c), c.req.param("id"));
    return ok(c, { message: "Job deleted" });
  });
  app.post(
    "/:id/run",
    scope("write:jobs"),
    async (c) => ok(c, await jobs.runNow(userOf(c), c.req.param("id")), 202),
  );
  app.get("/:id/next", scope("read:jobs"), async (c) => {
    const count = Number(c.req.query("count") ?? "5");
    return ok(c, await jobs.nextTimes(userOf(c), c.req.param("id"), count));
  });
  app.get(
    "/:id/state",
    scope("read:jobs"),
    async (c) => ok(c, await incidents.stateOf(userOf(c), c.req.param("id"))),
  );
  app.get(
    "/:id/uptime",
    scope("read:jobs"),
    async (c) => ok(c, await incidents.uptime(userOf(c), c.req.param("id"))),
  );
  app.get("/:id/runs", scope("read:logs"), async (c) => {
    const jobId = c.req.param("id");
    await jobs.get(userOf(c), jobId); // 404 for a job that is not the caller's
    return okPage(c, await store.listRuns(userOf(c), jobId, pageParams(c)));
  });
  app.get("/:id/runs/:runId", scope("read:logs"), async (c) => {
    const { id, runId } = c.req.param();
    await jobs.get(userOf(c), id);
    const run = await store.getRun(userOf(c), id, runId);
    if (!run) throw new NotFoundError(`Run "${runId}" not found`);
    return ok(c, run);
  });
  return app;
}

/**
 * `/admin`: counts by state and one page of jobs with state, latest results, uptime and
 * 24-hour figures; search and filters.
 */
import { Hono } from "hono";
import { DashboardPage } from "../../components/dashboard_page.tsx";
import { ValidationError } from "../../lib/errors.ts";
import { loadDashboard } from "../../lib/jobs/dashboard.ts";
import { JOB_STATES, type JobQuery, type JobState } from "../../lib/store/types.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

const PAGE_SIZE = 50;
const REFRESH_MS = 5000;

export function dashboardRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => {
    const t = c.get("t");
    const query = queryOf(c);
    const { rows, cursor, counts } = await loadDashboard(deps, c.get("user").id, query);
    return renderPage(
      c,
      deps.assets,
      { title: t("Dashboard"), section: "dashboard" },
      <DashboardPage
        t={t}
        query={query}
        rows={rows}
        counts={counts}
        cursor={cursor}
        refreshMs={deps.refreshMs ?? REFRESH_MS}
      />,
    );
  });

  app.get("/dashboard.json", async (c) => {
    c.header("Cache-Control", "no-store");
    return c.json(await loadDashboard(deps, c.get("user").id, queryOf(c)));
  });
  return app;
}

function queryOf(c: AdminContext): JobQuery {
  const q = (c.req.query("q") ?? "").trim().slice(0, 100);
  const state = c.req.query("state") || undefined;
  if (state !== undefined && !JOB_STATES.includes(state as JobState)) {
    throw new ValidationError(`state must be one of ${JOB_STATES.join(", ")}`, "state");
  }
  const cursor = c.req.query("cursor") || undefined;
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,1024}={0,2}$/.test(cursor)) {
    throw new ValidationError("cursor is not a cursor this page returned", "cursor");
  }
  return { q: q || undefined, state: state as JobState | undefined, cursor, limit: PAGE_SIZE };
}

/** `/admin`: one page of jobs with state, last run and 24-hour figures; search and filters. */
import { Hono } from "hono";
import { Island } from "../../components/island.tsx";
import { ValidationError } from "../../lib/errors.ts";
import { loadDashboard } from "../../lib/jobs/dashboard.ts";
import { JOB_STATES, type JobQuery, type JobState } from "../../lib/store/types.ts";
import DashboardTable from "../../islands/dashboard_table.tsx";
import type { AdminContext, AdminEnv } from "./context.ts";
import type { AdminDeps } from "./mod.ts";
import { renderPage } from "./render.tsx";

const PAGE_SIZE = 50;
const REFRESH_MS = 5000;

export function dashboardRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get("/", async (c) => {
    const t = c.get("t");
    const query = queryOf(c);
    const { rows, cursor } = await loadDashboard(deps, c.get("user").id, query);
    const params = (extra: Record<string, string>) => {
      const p = new URLSearchParams();
      if (query.q) p.set("q", query.q);
      if (query.state) p.set("state", query.state);
      for (const [k, v] of Object.entries(extra)) p.set(k, v);
      return p.toString();
    };
    const stateNames: Record<string, string> = {
      up: t("Up"),
      down: t("Down"),
      paused: t("Paused"),
      pending: t("No runs yet"),
    };
    return renderPage(
      c,
      deps.assets,
      { title: t("Dashboard"), section: "dashboard" },
      (
        <section>
          <div class="heading">
            <h1>{t("Jobs")}</h1>
            <a class="button primary" href="/admin/jobs/new">{t("New job")}</a>
          </div>
          <form method="get" action="/admin" class="filters" role="search">
            <label for="q">{t("Search")}</label>
            <input id="q" name="q" type="search" value={query.q ?? ""} placeholder={t("Name")} />
            <label for="state">{t("State")}</label>
            <select id="state" name="state">
              <option value="">{t("All")}</option>
              {JOB_STATES.map((s) => (
                <option value={s} selected={query.state === s}>{stateNames[s]}</option>
              ))}
            </select>
            <button type="submit">{t("Filter")}</button>
          </form>
          <Island
            name="dashboard_table"
            component={DashboardTable}
            props={{
              rows,
              refreshUrl: `/admin/dashboard.json?${
                params(query.cursor ? { cursor: query.cursor } : {})
              }`,
              intervalMs: deps.refreshMs ?? REFRESH_MS,
              text: {
                ...stateNames,
                empty: t("No jobs here yet."),
                state: t("State"),
                name: t("Name"),
                schedule: t("Schedule"),
                lastRun: t("Last run"),
                success: t("Success (24 h)"),
                p95: t("p95 latency"),
                lateness: t("p95 lateness"),
                runs: t("Runs"),
              },
            }}
          />
          <nav class="pager" aria-label={t("Pages")}>
            {query.cursor && <a href={`/admin?${params({})}`}>{t("First page")}</a>}
            {cursor && <a href={`/admin?${params({ cursor })}`} rel="next">{t("Next page")}</a>}
          </nav>
        </section>
      ),
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

/**
 * `/admin`: counts by state, the search and state filter over one page of jobs, in the live
 * dashboard table.
 */
import { useContext } from "preact/hooks";
import DashboardTable from "../islands/dashboard_table.tsx";
import type { Translate } from "../lib/i18n/i18n.ts";
import { type Dashboard, type DashboardRow, packRows } from "../lib/jobs/dashboard.ts";
import { JOB_STATES, type JobQuery } from "../lib/store/types.ts";
import { Island } from "./island.tsx";
import { PageClockContext } from "./page_clock.tsx";

export interface DashboardPageProps {
  t: Translate;
  query: JobQuery;
  rows: DashboardRow[];
  counts: Dashboard["counts"];
  /** The next page's cursor, if there is one. */
  cursor: string | null;
  /** How often the table asks for fresh rows. */
  refreshMs: number;
}

export function DashboardPage(
  { t, query, rows, counts, cursor, refreshMs }: DashboardPageProps,
) {
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
    degraded: t("Degraded"),
    paused: t("Paused"),
    maintenance: t("Maintenance"),
    pending: t("Pending"),
  };
  return (
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
          rows: packRows(rows),
          counts,
          state: query.state ?? null,
          refreshUrl: `/admin/dashboard.json?${
            params(query.cursor ? { cursor: query.cursor } : {})
          }`,
          intervalMs: refreshMs,
          clock: useContext(PageClockContext),
          text: {
            ...stateNames,
            missed: t("Missed"),
            counts: t("Jobs by state"),
            empty: t("No jobs here yet."),
            state: t("State"),
            name: t("Name"),
            beats: t("Latest results"),
            noResults: t("No results yet"),
            uptime: t("Uptime 24 h / 30 d"),
            latency: t("Latency"),
            schedule: t("Schedule"),
            lastRun: t("Last run"),
            p95: t("p95"),
            runs: t("Runs"),
          },
        }}
      />
      <nav class="pager" aria-label={t("Pages")}>
        {query.cursor && <a href={`/admin?${params({})}`}>{t("First page")}</a>}
        {cursor && <a href={`/admin?${params({ cursor })}`} rel="next">{t("Next page")}</a>}
      </nav>
    </section>
  );
}

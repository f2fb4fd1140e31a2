/**
 * `/admin/incidents`: the incidents list (open first, then resolved, paged), one incident with
 * its timeline, and Acknowledge, which records the signed-in user and comes back where it was
 * pressed.
 */
import { Hono } from "hono";
import { ALERTS_SECTION } from "../../components/alerts_nav.tsx";
import { IncidentPage } from "../../components/incident_page.tsx";
import { type IncidentFilters, IncidentsPage } from "../../components/incidents_page.tsx";
import { incidentPath } from "../../components/paths.ts";
import type { Incident } from "../../lib/alerts/types.ts";
import { NotFoundError, ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";
import { safeNext } from "./safe_next.ts";

/** Open incidents shown at once (more would be a page nobody reads). */
const OPEN_SHOWN = 100;
const PAGE_SIZE = 25;
/** The jobs the filter offers (as the maintenance form offers them). */
const JOBS_OFFERED = 200;

export function incidentRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const section = ALERTS_SECTION;

  app.get("/", async (c) => {
    const t = c.get("t");
    const userId = userOf(c);
    const filters = filtersOf(c);
    const cursor = c.req.query("cursor") || undefined;
    const jobId = filters.jobId ?? undefined;
    const [open, resolved, jobs] = await Promise.all([
      filters.state === "resolved" ? null : deps.incidents.list(userId, {
        state: "open",
        jobId,
        limit: filters.state === "open" ? PAGE_SIZE : OPEN_SHOWN,
        cursor: filters.state === "open" ? cursor : undefined,
      }),
      filters.state === "open"
        ? null
        : deps.incidents.list(userId, { state: "resolved", jobId, limit: PAGE_SIZE, cursor }),
      deps.jobs.list(userId, { limit: JOBS_OFFERED }),
    ]);
    const jobNames = await namesOf(deps, userId, [
      ...open?.values ?? [],
      ...resolved?.values ?? [],
    ]);
    for (const job of jobs.values) jobNames.set(job.id, job.name);
    const url = new URL(c.req.url);
    return renderPage(
      c,
      deps.assets,
      { title: t("Incidents"), section },
      <IncidentsPage
        t={t}
        csrf={c.get("csrf")}
        filters={filters}
        open={open?.values ?? null}
        resolved={resolved?.values ?? null}
        cursor={(filters.state === "open" ? open : resolved)?.cursor ?? null}
        jobs={jobs.values.map((job) => ({ id: job.id, name: job.name }))}
        jobNames={jobNames}
        here={url.pathname + url.search}
        now={deps.clock.now()}
      />,
    );
  });

  app.get("/:id", async (c) => {
    const userId = userOf(c);
    const incident = await deps.incidents.get(userId, c.req.param("id"));
    const [job, runs, channels] = await Promise.all([
      deps.store.getJob(userId, incident.jobId),
      Promise.all(incident.runIds.map((id) => deps.store.getRun(userId, incident.jobId, id))),
      Promise.all(
        [...new Set(incident.notifications.map((n) => n.channelId))].map((id) =>
          deps.channels.get(userId, id).catch((e) => {
            if (e instanceof NotFoundError) return null;
            throw e;
          })
        ),
      ),
    ]);
    const channelNames = new Map(
      channels.filter((ch) => ch !== null).map((ch) => [ch.id, ch.name]),
    );
    return renderPage(
      c,
      deps.assets,
      { title: job?.job.name ?? incident.id, section },
      <IncidentPage
        t={c.get("t")}
        csrf={c.get("csrf")}
        incident={incident}
        jobName={job?.job.name ?? null}
        runs={runs}
        channelNames={channelNames}
        now={deps.clock.now()}
      />,
    );
  });

  app.post("/:id/acknowledge", async (c) => {
    const id = c.req.param("id");
    const form = await formOf(c);
    await deps.incidents.acknowledge(userOf(c), id, userOf(c));
    const back = safeNext(form.next);
    return c.redirect(back === "/admin" ? incidentPath(id) : back, 303);
  });
  return app;
}

function filtersOf(c: AdminContext): IncidentFilters {
  const state = c.req.query("state") || null;
  if (state !== null && state !== "open" && state !== "resolved") {
    throw new ValidationError('state must be "open" or "resolved"', "state");
  }
  return { state, jobId: c.req.query("job") || null };
}

/** Names of the jobs the incidents name (a job deleted since shows its id). */
async function namesOf(
  deps: AdminDeps,
  userId: string,
  incidents: Incident[],
): Promise<Map<string, string>> {
  const ids = [...new Set(incidents.map((i) => i.jobId))];
  const jobs = await Promise.all(ids.map((id) => deps.store.getJob(userId, id)));
  return new Map(jobs.filter((s) => s !== null).map((s) => [s.job.id, s.job.name]));
}

/**
 * Gathers what the job page shows (state, figures, runs, uptime and incidents, webhook,
 * workers) and renders it. The job routes answer with it, and so do the webhook panel's actions
 * that reveal a secret or refuse.
 */
import { JobPage, type JobPageProps } from "../../components/job_page.tsx";
import { NotFoundError } from "../../lib/errors.ts";
import { loadJobLive } from "../../lib/jobs/job_live.ts";
import type { AdminContext } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";
import { originOf } from "../http.ts";

const CHART_RUNS = 120;
const TABLE_RUNS = 25;
const DELIVERIES = 10;
const INCIDENTS = 10;
const REFRESH_MS = 3000;

export interface JobPageExtras {
  notice?: string | null;
  webhook?: JobPageProps["webhookExtras"];
  status?: 200 | 400 | 409;
}

export async function renderJobPage(
  c: AdminContext,
  deps: AdminDeps,
  jobId: string,
  extras: JobPageExtras = {},
): Promise<Response> {
  const userId = c.get("user").id;
  const [live, webhook, uptime, incidents] = await Promise.all([
    // The origin is the base of a heartbeat's ping URL when HIBIKI_PUBLIC_URL is unset.
    loadJobLive(deps, userId, jobId, { runs: CHART_RUNS, origin: originOf(c) }),
    deps.webhooks.get(userId, jobId).catch((e) => {
      if (e instanceof NotFoundError) return null;
      throw e;
    }),
    deps.incidents.uptime(userId, jobId),
    deps.incidents.list(userId, { jobId, limit: INCIDENTS }),
  ]);
  const { job } = live;
  const [workers, deliveries] = await Promise.all([
    job.workers.length > 0 ? deps.workers.list() : Promise.resolve([]),
    webhook
      ? deps.webhooks.listDeliveries(userId, jobId, { limit: DELIVERIES }).then((p) => p.values)
      : Promise.resolve([]),
  ]);
  return renderPage(
    c,
    deps.assets,
    { title: job.name, section: "dashboard", status: extras.status },
    <JobPage
      t={c.get("t")}
      csrf={c.get("csrf")}
      job={job}
      state={live.state}
      figures={live.figures}
      runs={live.runs}
      tableSize={TABLE_RUNS}
      workers={workers}
      webhook={webhook}
      deliveries={deliveries}
      refreshMs={deps.refreshMs ?? REFRESH_MS}
      notice={extras.notice}
      alerts={live.alert ? { state: live.alert, uptime, incidents: incidents.values } : undefined}
      webhookExtras={extras.webhook}
    />,
  );
}

/**
 * Gathers what the job page shows (runs, figures, alert state, uptime and incidents, webhook,
 * workers) and renders it. The job routes answer with it, and so do the webhook panel's actions
 * that reveal a secret or refuse.
 */
import { JobPage, type JobPageProps } from "../../components/job_page.tsx";
import { NotFoundError } from "../../lib/errors.ts";
import type { AdminContext } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

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
  const job = await deps.jobs.get(userId, jobId);
  const [runs, stats, webhook, workers, state, uptime, incidents] = await Promise.all([
    deps.store.listRuns(userId, jobId, { limit: CHART_RUNS }),
    deps.stats.summaries(userId, [jobId]),
    deps.webhooks.get(userId, jobId).catch((e) => {
      if (e instanceof NotFoundError) return null;
      throw e;
    }),
    job.workers.length > 0 ? deps.workers.list() : Promise.resolve([]),
    deps.incidents.stateOf(userId, jobId),
    deps.incidents.uptime(userId, jobId),
    deps.incidents.list(userId, { jobId, limit: INCIDENTS }),
  ]);
  const deliveries = webhook
    ? (await deps.webhooks.listDeliveries(userId, jobId, { limit: DELIVERIES })).values
    : [];
  return renderPage(
    c,
    deps.assets,
    { title: job.name, section: "dashboard", status: extras.status },
    <JobPage
      t={c.get("t")}
      csrf={c.get("csrf")}
      job={job}
      runs={runs.values}
      tableSize={TABLE_RUNS}
      summary={stats.get(jobId)}
      workers={workers}
      webhook={webhook}
      deliveries={deliveries}
      refreshMs={deps.refreshMs ?? REFRESH_MS}
      notice={extras.notice}
      alerts={{ state, uptime, incidents: incidents.values }}
      webhookExtras={extras.webhook}
    />,
  );
}

/** The job page: details, figures, live activity, workers, webhook panel. */
import {
  formatMs,
  formatP95,
  formatRate,
  formatTime,
  stateClass,
} from "../../components/format.ts";
import { Csrf } from "../../components/field.tsx";
import { Island } from "../../components/island.tsx";
import { Flash } from "../../components/layout.tsx";
import { WebhookPanel, type WebhookPanelProps } from "../../components/webhook_panel.tsx";
import JobActivity, { runRow } from "../../islands/job_activity.tsx";
import { NotFoundError } from "../../lib/errors.ts";
import type { CloudRunSpec } from "../../lib/gcp/cloud_run_spec.ts";
import type { Run } from "../../lib/store/types.ts";
import type { AdminContext } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import { renderPage } from "./render.tsx";

const CHART_RUNS = 120;
const TABLE_RUNS = 25;
const DELIVERIES = 10;
const REFRESH_MS = 3000;

export interface JobPageExtras {
  notice?: string | null;
  webhook?: Partial<
    Pick<WebhookPanelProps, "revealedSecret" | "endpointValue" | "error" | "notice">
  >;
  status?: 200 | 400 | 409;
}

export async function renderJobPage(
  c: AdminContext,
  deps: AdminDeps,
  jobId: string,
  extras: JobPageExtras = {},
): Promise<Response> {
  const t = c.get("t");
  const userId = c.get("user").id;
  const job = await deps.jobs.get(userId, jobId);
  const [runs, stats, webhook, workers] = await Promise.all([
    deps.store.listRuns(userId, jobId, { limit: CHART_RUNS }),
    deps.stats.summaries(userId, [jobId]),
    deps.webhooks.get(userId, jobId).catch((e) => {
      if (e instanceof NotFoundError) return null;
      throw e;
    }),
    job.workers.length > 0 ? deps.workers.list() : Promise.resolve([]),
  ]);
  const deliveries = webhook
    ? (await deps.webhooks.listDeliveries(userId, jobId, { limit: DELIVERIES })).values
    : [];
  const summary = stats.get(jobId);
  const latestByWhere = new Map<string, Run>();
  for (const run of runs.values) {
    if (!latestByWhere.has(run.where)) latestByWhere.set(run.where, run);
  }
  const places = [...(job.local ? ["local"] : []), ...job.workers.map((w) => w.workerId)];
  const base = `/admin/jobs/${encodeURIComponent(job.id)}`;
  const state = !job.enabled
    ? "paused"
    : runs.values[0]?.status === "failure"
    ? "down"
    : runs.values[0]
    ? "up"
    : "pending";
  const statusNames: Record<string, string> = {
    success: t("Success"),
    failure: t("Failure"),
    missed: t("Missed"),
  };

  return renderPage(
    c,
    deps.assets,
    { title: job.name, section: "dashboard", status: extras.status },
    (
      <>
        <div class="heading">
          <h1>
            {job.name} <span class={stateClass(state)}>{t(stateLabel(state))}</span>
          </h1>
          <div class="actions">
            <form method="post" action={`${base}/run`} class="inline">
              <Csrf token={c.get("csrf")} />
              <button type="submit" class="primary">{t("Run now")}</button>
            </form>
            <a class="button" href={`${base}/edit`}>{t("Edit")}</a>
            <form
              method="post"
              action={`${base}/${job.enabled ? "pause" : "resume"}`}
              class="inline"
            >
              <Csrf token={c.get("csrf")} />
              <button type="submit">{job.enabled ? t("Pause") : t("Resume")}</button>
            </form>
          </div>
        </div>
        {extras.notice && <Flash kind="ok">{extras.notice}</Flash>}
        <div class="columns">
          <dl class="details">
            {job.cloudRun
              ? (
                <>
                  <dt>{t("Cloud Run job")}</dt>
                  <dd data-testid="cloud-run-target">
                    <code>
                      projects/{job.cloudRun.project}/locations/{job.cloudRun.region}/jobs/{job
                        .cloudRun.job}
                    </code>
                  </dd>
                  <dt>{t("Credential")}</dt>
                  <dd>
                    <code>{job.cloudRun.credentialId}</code>
                  </dd>
                  <dt>{t("Overrides")}</dt>
                  <dd>
                    {overridesText(job.cloudRun.overrides) || t("None")}
                  </dd>
                </>
              )
              : (
                <>
                  <dt>{t("Request")}</dt>
                  <dd>
                    <code>{job.method} {job.url}</code>
                  </dd>
                </>
              )}
            <dt>{t("Schedule")}</dt>
            <dd>
              <code>{job.schedule}</code> ({job.timezone})
            </dd>
            <dt>{t("Next run")}</dt>
            <dd>{formatTime(job.nextRunAt)} UTC</dd>
            <dt>{t("Last run")}</dt>
            <dd>{formatTime(job.lastRunAt)} UTC</dd>
            <dt>{t("Timeout")}</dt>
            <dd>{formatMs(job.timeoutMs)}</dd>
            {!job.cloudRun && (
              <>
                <dt>{t("Checks")}</dt>
                <dd>
                  {job.expect ? <code>{JSON.stringify(job.expect)}</code> : t("Any 2xx answer")}
                </dd>
              </>
            )}
            {job.headers && (
              <>
                <dt>{t("Headers")}</dt>
                <dd>
                  {Object.keys(job.headers).map((name) => (
                    <code key={name} class="tag">{name}</code>
                  ))}
                </dd>
              </>
            )}
          </dl>
          <dl class="figures">
            <div>
              <dt>{t("Success (24 h)")}</dt>
              <dd>{formatRate(summary?.successRate ?? null)}</dd>
            </div>
            <div>
              <dt>{t("p95 latency")}</dt>
              <dd>{formatP95(summary?.p95LatencyMs ?? null)}</dd>
            </div>
            <div>
              <dt>{t("p95 lateness")}</dt>
              <dd>{formatP95(summary?.p95LateMs ?? null)}</dd>
            </div>
            <div>
              <dt>{t("Runs")}</dt>
              <dd>{job.count}</dd>
            </div>
          </dl>
        </div>
        <section class="panel" aria-labelledby="activity-title">
          <h2 id="activity-title">{t("Recent runs")}</h2>
          <Island
            name="job_activity"
            component={JobActivity}
            props={{
              jobId: job.id,
              runs: runs.values.map(runRow),
              tableSize: TABLE_RUNS,
              intervalMs: deps.refreshMs ?? REFRESH_MS,
              executions: job.type === "cloud_run_job",
              text: {
                execution: t("Execution"),
                logs: t("Logs"),
                ...statusNames,
                scheduled: t("Scheduled (UTC)"),
                status: t("Status"),
                latency: t("Latency"),
                lateness: t("Lateness"),
                where: t("Where"),
                detail: t("Detail"),
                manual: t("manual"),
                noRuns: t("No runs yet."),
                failures: t("Failures"),
                chart: t("Latency of recent runs; failures in red"),
              },
            }}
          />
        </section>
        <section class="panel" aria-labelledby="where-title">
          <h2 id="where-title">{t("Where it runs")}</h2>
          {places.length === 0 ? <p class="empty">{t("Nowhere: the job is not run.")}</p> : (
            <table>
              <thead>
                <tr>
                  <th>{t("Where")}</th>
                  <th>{t("Offset")}</th>
                  <th>{t("Worker")}</th>
                  <th>{t("Latest result")}</th>
                </tr>
              </thead>
              <tbody>
                {places.map((place) => {
                  const assignment = job.workers.find((w) => w.workerId === place);
                  const worker = workers.find((w) => w.id === place);
                  const run = latestByWhere.get(place);
                  return (
                    <tr>
                      <td>{place === "local" ? t("Here (local)") : place}</td>
                      <td>
                        {assignment
                          ? `${assignment.checkMinute} min ${assignment.checkSecond} s`
                          : "—"}
                      </td>
                      <td>
                        {place === "local"
                          ? "—"
                          : worker
                          ? `${worker.is_active ? t("Active") : t("Inactive")}, ${t("last seen")} ${
                            formatTime(worker.last_seen_at)
                          }`
                          : t("Unknown worker")}
                      </td>
                      <td>
                        {run
                          ? (
                            <>
                              <span class={stateClass(run.status)}>{statusNames[run.status]}</span>
                              {" "}
                              {run.code > 0 ? run.code : ""} {formatTime(run.scheduledAt)}
                            </>
                          )
                          : "—"}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
        <WebhookPanel
          t={t}
          csrf={c.get("csrf")}
          jobId={job.id}
          webhook={webhook}
          deliveries={deliveries}
          {...extras.webhook}
        />
      </>
    ),
  );
}

export function stateLabel(state: string): string {
  return ({ up: "Up", down: "Down", paused: "Paused", pending: "No runs yet" } as Record<
    string,
    string
  >)[state] ?? state;
}

/** `env: A=1, B=2 · args: x y · 3 tasks · timeout 3600s`, with values as text. */
function overridesText(overrides: CloudRunSpec["overrides"]): string {
  const parts: string[] = [];
  if (overrides.env?.length) {
    parts.push(`env: ${overrides.env.map((e) => `${e.name}=${e.value}`).join(", ")}`);
  }
  if (overrides.args?.length) parts.push(`args: ${overrides.args.join(" ")}`);
  if (overrides.taskCount !== undefined) parts.push(`taskCount: ${overrides.taskCount}`);
  if (overrides.timeout !== undefined) parts.push(`timeout: ${overrides.timeout}`);
  return parts.join(" · ");
}

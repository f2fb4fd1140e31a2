/** The job page: actions, settings, figures, live activity, where it runs, the webhook panel. */
import JobActivity, { runRow } from "../islands/job_activity.tsx";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { JobStatsSummary } from "../lib/stats/job_stats.ts";
import type { JobView, Run, Worker } from "../lib/store/types.ts";
import type { DeliveryView, WebhookView } from "../lib/webhooks/types.ts";
import { Csrf } from "./field.tsx";
import { stateClass } from "./format.ts";
import { Island } from "./island.tsx";
import { Flash } from "./layout.tsx";
import { jobPath } from "./paths.ts";
import { WebhookPanel, type WebhookPanelProps } from "./webhook_panel.tsx";
import { JobDetails, JobFigures } from "./job_details.tsx";
import { AlertStateBadge, JobAlerts, type JobAlertsView } from "./job_alerts.tsx";
import { JobPlaces } from "./job_places.tsx";

export interface JobPageProps {
  t: Translate;
  csrf: string;
  job: JobView;
  /** Recent runs, newest first, for the chart and the table. */
  runs: Run[];
  /** Rows in the runs table; the chart shows every run given. */
  tableSize: number;
  summary: JobStatsSummary | undefined;
  workers: Worker[];
  webhook: WebhookView | null;
  deliveries: DeliveryView[];
  /** How often the activity island asks for new runs. */
  refreshMs: number;
  notice?: string | null;
  /** The job's alert state, uptime and latest incidents. */
  alerts?: JobAlertsView;
  /** What the webhook panel shows after one of its actions: a new secret, an error. */
  webhookExtras?: Partial<
    Pick<WebhookPanelProps, "revealedSecret" | "endpointValue" | "error" | "notice">
  >;
}

export function JobPage(props: JobPageProps) {
  const { t, csrf, job, runs } = props;
  const base = jobPath(job.id);
  const state = !job.enabled
    ? "paused"
    : runs[0]?.status === "failure"
    ? "down"
    : runs[0]
    ? "up"
    : "pending";
  const statusNames: Record<string, string> = {
    success: t("Success"),
    failure: t("Failure"),
    missed: t("Missed"),
  };
  return (
    <>
      <div class="heading">
        <h1>
          {job.name} {props.alerts
            ? <AlertStateBadge t={t} state={props.alerts.state.state} />
            : <span class={stateClass(state)}>{t(stateLabel(state))}</span>}
        </h1>
        <div class="actions">
          <form method="post" action={`${base}/run`} class="inline">
            <Csrf token={csrf} />
            <button type="submit" class="primary">{t("Run now")}</button>
          </form>
          <a class="button" href={`${base}/edit`}>{t("Edit")}</a>
          <form method="post" action={`${base}/${job.enabled ? "pause" : "resume"}`} class="inline">
            <Csrf token={csrf} />
            <button type="submit">{job.enabled ? t("Pause") : t("Resume")}</button>
          </form>
        </div>
      </div>
      {props.notice && <Flash kind="ok">{props.notice}</Flash>}
      <div class="columns">
        <JobDetails t={t} job={job} />
        <JobFigures t={t} job={job} summary={props.summary} />
      </div>
      {props.alerts && (
        <JobAlerts t={t} jobId={job.id} alerts={props.alerts} settings={job.alerts} />
      )}
      <section class="panel" aria-labelledby="activity-title">
        <h2 id="activity-title">{t("Recent runs")}</h2>
        <Island
          name="job_activity"
          component={JobActivity}
          props={{
            jobId: job.id,
            runs: runs.map(runRow),
            tableSize: props.tableSize,
            intervalMs: props.refreshMs,
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
      <JobPlaces t={t} job={job} runs={runs} workers={props.workers} statusNames={statusNames} />
      <WebhookPanel
        t={t}
        csrf={csrf}
        jobId={job.id}
        webhook={props.webhook}
        deliveries={props.deliveries}
        {...props.webhookExtras}
      />
    </>
  );
}

function stateLabel(state: string): string {
  return ({ up: "Up", down: "Down", paused: "Paused", pending: "No runs yet" } as Record<
    string,
    string
  >)[state] ?? state;
}

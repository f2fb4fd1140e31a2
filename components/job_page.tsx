/**
 * The job page: actions, settings, live figures and activity, where it runs, the webhook
 * panel. The state badge, the figures and the runs are islands fed by one live feed.
 */
import { useContext } from "preact/hooks";
import JobActivity, { runRow } from "../islands/job_activity.tsx";
import JobFigures from "../islands/job_figures.tsx";
import JobState from "../islands/job_state.tsx";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { JobFigures as Figures } from "../lib/jobs/job_live.ts";
import type { JobView, Run, Worker } from "../lib/store/types.ts";
import type { DeliveryView, WebhookView } from "../lib/webhooks/types.ts";
import { Csrf } from "./field.tsx";
import { Island } from "./island.tsx";
import { Flash } from "./layout.tsx";
import { jobPath } from "./paths.ts";
import { WebhookPanel, type WebhookPanelProps } from "./webhook_panel.tsx";
import { JobDetails } from "./job_details.tsx";
import { JobAlerts, type JobAlertsView } from "./job_alerts.tsx";
import { JobPlaces } from "./job_places.tsx";
import { PageClockContext } from "./page_clock.tsx";
import { PingPanel } from "./ping_panel.tsx";

export interface JobPageProps {
  t: Translate;
  csrf: string;
  job: JobView;
  /** Recent runs, newest first, for the chart and the table. */
  runs: Run[];
  /** Rows in the runs table; the chart shows every run given. */
  tableSize: number;
  state: string;
  figures: Figures;
  workers: Worker[];
  webhook: WebhookView | null;
  deliveries: DeliveryView[];
  /** How often the live parts ask for fresh figures and runs. */
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
  const clock = useContext(PageClockContext);
  const feed = { url: `${base}/live.json`, intervalMs: props.refreshMs };
  // The badge shows the alert state (lib/alerts), or the last run's where none is decided.
  const stateNames = {
    up: t("Up"),
    down: t("Down"),
    paused: t("Paused"),
    degraded: t("Degraded"),
    maintenance: t("In maintenance"),
    pending: t("No result yet"),
  };
  const statusNames: Record<string, string> = {
    success: t("Success"),
    failure: t("Failure"),
    missed: t("Missed"),
  };
  return (
    <>
      <div class="heading">
        <h1>
          {job.name}{" "}
          <Island
            name="job_state"
            bundle="job_activity"
            inline
            component={JobState}
            props={{ feed, state: props.state, names: stateNames }}
          />
        </h1>
        <div class="actions">
          {job.type !== "heartbeat" && (
            <form method="post" action={`${base}/run`} class="inline">
              <Csrf token={csrf} />
              <button type="submit" class="primary">{t("Run now")}</button>
            </form>
          )}
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
        <Island
          name="job_figures"
          bundle="job_activity"
          component={JobFigures}
          props={{
            feed,
            figures: props.figures,
            clock,
            text: {
              success: t("Success (24 h)"),
              p95: t("p95 latency"),
              lateness: t("p95 lateness"),
              runs: t("Runs"),
              lastRun: job.type === "heartbeat" ? t("Last ping or check") : t("Last run"),
              nextRun: job.type === "heartbeat" ? t("Next ping expected") : t("Next run"),
            },
          }}
        />
      </div>
      {job.type === "heartbeat" && <PingPanel t={t} job={job} />}
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
            feed,
            clock,
            executions: job.type === "cloud_run_job",
            text: {
              execution: t("Execution"),
              logs: t("Logs"),
              ...statusNames,
              scheduled: t("Scheduled"),
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

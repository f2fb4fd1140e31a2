/**
 * The job page's alerting section: the job's alert state as decided (not the last run's
 * status: one failure below the threshold leaves a job up), its uptime over 24 h, 7 d, 30 d and
 * 90 d, and its latest incidents with a link to all of them.
 */
import type { AlertStateView, UptimeView } from "../lib/alerts/incidents.ts";
import type { AlertSettings, AlertState, Incident } from "../lib/alerts/types.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { formatDuration } from "./duration.ts";
import { formatTime, stateClass } from "./format.ts";
import { incidentPath } from "./paths.ts";

export interface JobAlertsView {
  state: AlertStateView;
  uptime: UptimeView;
  /** The newest incidents, newest first. */
  incidents: Incident[];
}

const STATE_LABELS: Record<AlertState, string> = {
  up: "Up",
  down: "Down",
  degraded: "Degraded",
  paused: "Paused",
  maintenance: "In maintenance",
  pending: "No result yet",
};

const WINDOW_LABELS: Record<keyof UptimeView["windows"], string> = {
  "24h": "24 hours",
  "7d": "7 days",
  "30d": "30 days",
  "90d": "90 days",
};

/** The state as a badge, for the page heading. */
export function AlertStateBadge({ t, state }: { t: Translate; state: AlertState }) {
  return (
    <span class={stateClass(state)} data-testid="alert-state">
      {t(STATE_LABELS[state])}
    </span>
  );
}

/** `99.95 %`: two decimals, since 99.9 and 99.99 are different promises. */
export function formatUptime(uptime: number | null): string {
  if (uptime === null) return "—";
  const percent = uptime * 100;
  return `${percent === 100 ? "100" : (Math.floor(percent * 100) / 100).toFixed(2)} %`;
}

export function JobAlerts(
  props: { t: Translate; jobId: string; alerts: JobAlertsView; settings: AlertSettings },
) {
  const { t, alerts, settings } = props;
  const { state } = alerts;
  return (
    <section class="panel" aria-labelledby="alerts-title" data-testid="job-alerts">
      <h2 id="alerts-title">{t("Alerts")}</h2>
      <p>
        <AlertStateBadge t={t} state={state.state} />{" "}
        <small>{t("since {time} UTC", { time: formatTime(state.since) })}</small>
        {state.incidentId && (
          <>
            {" · "}
            <a href={incidentPath(state.incidentId)}>{t("Open incident")}</a>
          </>
        )}
      </p>
      <p class="hint" data-testid="alert-rule">
        {t(
          "Failing checks in a row before down: {failures}; passing ones before up: {successes}.",
          {
            failures: settings.failureThreshold,
            successes: settings.successThreshold,
          },
        )} {settings.channels.length === 0
          ? t("No channel is told.")
          : t("Channels told: {n}.", { n: settings.channels.length })}
      </p>
      <dl class="figures uptime" data-testid="uptime">
        {(Object.keys(WINDOW_LABELS) as (keyof UptimeView["windows"])[]).map((name) => (
          <div key={name}>
            <dt>{t("Uptime, {range}", { range: t(WINDOW_LABELS[name]) })}</dt>
            <dd>{formatUptime(alerts.uptime.windows[name].uptime)}</dd>
          </div>
        ))}
      </dl>
      <h3>{t("Incidents")}</h3>
      {alerts.incidents.length === 0
        ? <p class="empty">{t("No incidents yet.")}</p>
        : (
          <ol class="timeline" data-testid="job-incidents">
            {alerts.incidents.map((incident) => (
              <li key={incident.id} data-event={incident.state === "open" ? "opened" : "resolved"}>
                <time datetime={incident.startedAt}>
                  {formatTime(incident.startedAt)}
                  {incident.endedAt && ` → ${formatTime(incident.endedAt)}`}
                </time>
                <a href={incidentPath(incident.id)}>
                  {incident.state === "open"
                    ? t("Down, still open")
                    : t("Down for {duration}", { duration: formatDuration(incident.durationMs) })}
                </a>
                {incident.cause && <small>{incident.cause}</small>}
              </li>
            ))}
          </ol>
        )}
      <p>
        <a href={`/admin/incidents?job=${encodeURIComponent(props.jobId)}`}>
          {t("All incidents of this job")}
        </a>
      </p>
    </section>
  );
}

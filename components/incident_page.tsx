/**
 * One incident: its facts, its timeline (opened, every notification and attempt, acknowledged,
 * operator updates, resolved), the runs that caused it, and its notifications with their state.
 */
import type { IncidentDetail } from "../lib/alerts/incidents.ts";
import type { Notification } from "../lib/alerts/types.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { Run } from "../lib/store/types.ts";
import { AlertTabs } from "./alerts_nav.tsx";
import { formatDuration } from "./duration.ts";
import { formatMs, formatTime, stateClass } from "./format.ts";
import { incidentTimeline, type TimelineEvent } from "./incident_timeline.ts";
import { Acknowledgement, IncidentBadge, IncidentDuration } from "./incidents_page.tsx";
import { channelPath, incidentPath, jobPath } from "./paths.ts";

/** At most this much of a receiver's answer is shown in the timeline. */
const RESPONSE_SHOWN = 300;

export interface IncidentPageProps {
  t: Translate;
  csrf: string;
  incident: IncidentDetail;
  /** The job's name; null when the job is gone. */
  jobName: string | null;
  /** The runs named by `runIds`, in that order; null where the run is gone. */
  runs: (Run | null)[];
  /** Channel names by id (a deleted channel shows its id). */
  channelNames: ReadonlyMap<string, string>;
  now: number;
}

const KIND_LABELS: Record<Notification["kind"], string> = {
  "incident.opened": "Down",
  "incident.resolved": "Resolved",
  "incident.reminder": "Reminder",
  "incidents.grouped": "Grouped",
  "test": "Test",
  "certificate.expiring": "Certificate expiring",
};

const NOTIFICATION_STATES: Record<Notification["state"], string> = {
  pending: "Waiting",
  sent: "Sent",
  dead: "Gave up",
  cancelled: "Cancelled",
};

export function IncidentPage(props: IncidentPageProps) {
  const { t, incident } = props;
  const job = props.jobName ?? incident.jobId;
  return (
    <section>
      <AlertTabs t={t} current="incidents" />
      <p class="crumbs">
        <a href="/admin/incidents">{t("Incidents")}</a>
      </p>
      <div class="heading">
        <h1>
          {job} <IncidentBadge t={t} incident={incident} />
        </h1>
        <div class="actions">
          {incident.state === "open" && incident.acknowledgedAt === null && (
            <Acknowledgement
              t={t}
              csrf={props.csrf}
              here={incidentPath(incident.id)}
              incident={incident}
            />
          )}
        </div>
      </div>
      <dl class="details">
        <dt>{t("Job")}</dt>
        <dd>
          <a href={jobPath(incident.jobId)}>{job}</a>
        </dd>
        <dt>{t("Started (UTC)")}</dt>
        <dd>{formatTime(incident.startedAt)}</dd>
        <dt>{t("Ended (UTC)")}</dt>
        <dd>{formatTime(incident.endedAt)}</dd>
        <dt>{t("Duration")}</dt>
        <dd>
          <IncidentDuration incident={incident} now={props.now} />
        </dd>
        <dt>{t("Cause")}</dt>
        <dd>{incident.cause || "—"}</dd>
        <dt>{t("Failed at")}</dt>
        <dd>{incident.locations.map((where) => <span key={where} class="tag">{where}</span>)}</dd>
        <dt>{t("Acknowledged")}</dt>
        <dd>
          {incident.acknowledgedAt === null ? "—" : (
            <span data-testid="acknowledged">
              {incident.acknowledgedBy} <small>{formatTime(incident.acknowledgedAt)}</small>
            </span>
          )}
        </dd>
      </dl>
      <section class="panel" aria-labelledby="timeline-title">
        <h2 id="timeline-title">{t("Timeline")}</h2>
        <ol class="timeline" data-testid="timeline">
          {incidentTimeline(incident).map((event, i) => (
            <li key={i} data-event={event.kind}>
              <time datetime={event.at}>{formatTime(event.at)}</time>
              <Event t={t} event={event} channelNames={props.channelNames} />
            </li>
          ))}
        </ol>
      </section>
      <section class="panel" aria-labelledby="runs-title">
        <h2 id="runs-title">{t("Runs that caused it")}</h2>
        <Runs {...props} />
      </section>
      <section class="panel" aria-labelledby="notifications-title">
        <h2 id="notifications-title">{t("Notifications")}</h2>
        <Notifications {...props} />
      </section>
    </section>
  );
}

function Event(
  { t, event, channelNames }: {
    t: Translate;
    event: TimelineEvent;
    channelNames: ReadonlyMap<string, string>;
  },
) {
  switch (event.kind) {
    case "opened":
      return (
        <span>
          <strong>{t("Opened")}</strong>: {event.cause || "—"}{" "}
          {event.locations.map((where) => <span key={where} class="tag">{where}</span>)}
        </span>
      );
    case "queued": {
      const channel = channelNames.get(event.channelId) ?? event.channelId;
      return (
        <span>
          {t("{kind} message queued for {channel}", {
            kind: t(KIND_LABELS[event.notification as Notification["kind"]] ?? event.notification),
            channel,
          })}
          {event.waitsUntil && (
            <small>
              {t("escalation: not before {time}", { time: formatTime(event.waitsUntil) })}
            </small>
          )}
        </span>
      );
    }
    case "sent":
    case "failed": {
      const channel = channelNames.get(event.channelId) ?? event.channelId;
      return (
        <span class={event.kind === "failed" ? "problem" : undefined}>
          <span class={stateClass(event.kind === "sent" ? "success" : "failure")}>
            {event.kind === "sent" ? t("Sent") : t("Failed")}
          </span>{" "}
          {t("{channel}, attempt {n}", { channel, n: event.attempt })}
          {event.status > 0 && <>· {t("Status {code}", { code: event.status })}</>}
          {" · "}
          {formatMs(event.durationMs)}
          {event.error && <small>{event.error}</small>}
          {event.response && <small>{event.response.slice(0, RESPONSE_SHOWN)}</small>}
        </span>
      );
    }
    case "acknowledged":
      return <span>{t("Acknowledged by {who}", { who: event.by })}</span>;
    case "update":
      return (
        <span>
          <strong>{t("Update")}</strong>: {event.message}
        </span>
      );
    case "resolved":
      return (
        <span>
          <strong>{t("Resolved")}</strong>{" "}
          <small>{t("after {duration}", { duration: formatDuration(event.durationMs) })}</small>
        </span>
      );
  }
}

function Runs({ t, incident, runs }: IncidentPageProps) {
  if (incident.runIds.length === 0) return <p class="empty">—</p>;
  return (
    <div class="scroll-x">
      <table class="runs" data-testid="incident-runs">
        <thead>
          <tr>
            <th>{t("Scheduled (UTC)")}</th>
            <th>{t("Where")}</th>
            <th>{t("Status")}</th>
            <th>{t("Detail")}</th>
          </tr>
        </thead>
        <tbody>
          {incident.runIds.map((runId, i) => {
            const run = runs[i];
            return (
              <tr key={runId}>
                <td class="time">
                  <a href={`${jobPath(incident.jobId)}/runs/${encodeURIComponent(runId)}`}>
                    {run ? formatTime(run.scheduledAt) : runId}
                  </a>
                </td>
                <td>{run?.where ?? "—"}</td>
                <td>
                  {run
                    ? (
                      <span class={stateClass(run.status)}>
                        {run.code > 0 ? `${run.status} ${run.code}` : run.status}
                      </span>
                    )
                    : t("Run no longer kept")}
                </td>
                <td>{run?.failure ?? run?.error?.message ?? ""}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function Notifications({ t, incident, channelNames }: IncidentPageProps) {
  if (incident.notifications.length === 0) {
    return (
      <p class="empty">{t("No notifications for this incident: the job names no channel.")}</p>
    );
  }
  return (
    <div class="scroll-x">
      <table class="notifications" data-testid="incident-notifications">
        <thead>
          <tr>
            <th>{t("Channel")}</th>
            <th>{t("Message")}</th>
            <th>{t("State")}</th>
            <th>{t("Attempts")}</th>
            <th>{t("Next attempt (UTC)")}</th>
          </tr>
        </thead>
        <tbody>
          {incident.notifications.map((n) => (
            <tr key={n.id} data-notification={n.id}>
              <td>
                <a href={channelPath(n.channelId)}>
                  {channelNames.get(n.channelId) ?? n.channelId}
                </a>
              </td>
              <td>{t(KIND_LABELS[n.kind])}</td>
              <td>
                <span class={stateClass(n.state === "sent" ? "success" : n.state)}>
                  {t(NOTIFICATION_STATES[n.state])}
                </span>
              </td>
              <td>{n.attempts.length}</td>
              <td class="time">{formatTime(n.nextAttemptAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

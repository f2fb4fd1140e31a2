/**
 * `/admin/incidents`: what is down now first (each with an Acknowledge button), then the
 * incidents that ended, newest first, a page at a time; filtered by state and job.
 */
import type { Incident } from "../lib/alerts/types.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import LiveDuration from "../islands/live_duration.tsx";
import { AlertTabs } from "./alerts_nav.tsx";
import { formatDuration } from "./duration.ts";
import { Csrf } from "./field.tsx";
import { formatTime, stateClass } from "./format.ts";
import { Island } from "./island.tsx";
import { incidentPath, jobPath } from "./paths.ts";

export interface IncidentFilters {
  state: "open" | "resolved" | null;
  jobId: string | null;
}

export interface IncidentsPageProps {
  t: Translate;
  csrf: string;
  filters: IncidentFilters;
  /** Open incidents; null when the filter leaves them out. */
  open: Incident[] | null;
  /** Resolved ones, newest first; null when the filter leaves them out. */
  resolved: Incident[] | null;
  /** The next page of the paged list (the resolved ones, or the open ones when filtered). */
  cursor: string | null;
  /** The user's jobs for the filter, and names for the rows (a job not in it shows its id). */
  jobs: { id: string; name: string }[];
  jobNames: ReadonlyMap<string, string>;
  /** This page's address, where Acknowledge comes back to. */
  here: string;
  now: number;
}

export function IncidentsPage(props: IncidentsPageProps) {
  const { t, filters } = props;
  const next = props.cursor && `/admin/incidents?${new URLSearchParams({
    ...(filters.state ? { state: filters.state } : {}),
    ...(filters.jobId ? { job: filters.jobId } : {}),
    cursor: props.cursor,
  })}`;
  return (
    <section>
      <AlertTabs t={t} current="incidents" />
      <div class="heading">
        <h1>{t("Incidents")}</h1>
      </div>
      <form method="get" action="/admin/incidents" class="filters" role="search">
        <label for="incident-state">{t("State")}</label>
        <select id="incident-state" name="state">
          <option value="">{t("All")}</option>
          <option value="open" selected={filters.state === "open"}>{t("Open")}</option>
          <option value="resolved" selected={filters.state === "resolved"}>{t("Resolved")}</option>
        </select>
        <label for="incident-job">{t("Job")}</label>
        <select id="incident-job" name="job">
          <option value="">{t("All jobs")}</option>
          {props.jobs.map((job) => (
            <option key={job.id} value={job.id} selected={filters.jobId === job.id}>
              {job.name}
            </option>
          ))}
        </select>
        <button type="submit">{t("Filter")}</button>
      </form>
      {props.open && (
        <section aria-labelledby="open-title">
          <h2 id="open-title">{t("Open")}</h2>
          {props.open.length === 0
            ? <p class="empty" data-testid="no-open">{t("Nothing is down.")}</p>
            : <IncidentTable {...props} incidents={props.open} live />}
        </section>
      )}
      {props.resolved && (
        <section aria-labelledby="resolved-title">
          <h2 id="resolved-title">{t("Resolved")}</h2>
          {props.resolved.length === 0
            ? <p class="empty">{t("No resolved incidents.")}</p>
            : <IncidentTable {...props} incidents={props.resolved} live={false} />}
        </section>
      )}
      {next && (
        <nav class="pager">
          <a href={next} rel="next">{t("Next page")}</a>
        </nav>
      )}
    </section>
  );
}

function IncidentTable(
  props: Omit<IncidentsPageProps, "open"> & { incidents: Incident[]; live: boolean },
) {
  const { t } = props;
  return (
    <div class="scroll-x">
      <table class="incidents" data-testid={props.live ? "open-incidents" : "resolved-incidents"}>
        <thead>
          <tr>
            <th>{t("Job")}</th>
            <th>{t("Started (UTC)")}</th>
            <th>{t("Duration")}</th>
            <th>{t("Cause")}</th>
            <th>{t("Failed at")}</th>
            <th>{t("Acknowledged")}</th>
          </tr>
        </thead>
        <tbody>
          {props.incidents.map((incident) => (
            <tr key={incident.id} data-incident={incident.id}>
              <td class="name">
                <a href={jobPath(incident.jobId)}>
                  {props.jobNames.get(incident.jobId) ?? incident.jobId}
                </a>
                <small>
                  <a href={incidentPath(incident.id)}>{t("Details")}</a>
                </small>
              </td>
              <td class="time">{formatTime(incident.startedAt)}</td>
              <td class="time">
                <IncidentDuration incident={incident} now={props.now} />
              </td>
              <td class="cause">{incident.cause || "—"}</td>
              <td>
                {incident.locations.map((where) => <span key={where} class="tag">{where}</span>)}
              </td>
              <td>
                <Acknowledgement {...props} incident={incident} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A resolved incident's length, or an open one's so far, counting on in the browser. */
export function IncidentDuration({ incident, now }: { incident: Incident; now: number }) {
  if (incident.state === "resolved") return <>{formatDuration(incident.durationMs)}</>;
  return (
    <Island
      name="live_duration"
      component={LiveDuration}
      props={{ elapsedMs: Math.max(0, now - Date.parse(incident.startedAt)) }}
    />
  );
}

/** Who acknowledged and when, or (open and not yet) the button that does it. */
export function Acknowledgement(
  props: { t: Translate; csrf: string; here: string; incident: Incident },
) {
  const { t, incident } = props;
  if (incident.acknowledgedAt !== null) {
    return (
      <span data-testid="acknowledged">
        {incident.acknowledgedBy}
        <small>{formatTime(incident.acknowledgedAt)}</small>
      </span>
    );
  }
  if (incident.state !== "open") return <>—</>;
  return (
    <form method="post" action={`${incidentPath(incident.id)}/acknowledge`} class="inline">
      <Csrf token={props.csrf} />
      <input type="hidden" name="next" value={props.here} />
      <button type="submit" class="small">{t("Acknowledge")}</button>
    </form>
  );
}

/** The state of an incident as a badge: open reads as down. */
export function IncidentBadge({ t, incident }: { t: Translate; incident: Incident }) {
  return (
    <span
      class={stateClass(incident.state === "open" ? "down" : "up")}
      data-testid="incident-state"
    >
      {incident.state === "open" ? t("Open") : t("Resolved")}
    </span>
  );
}

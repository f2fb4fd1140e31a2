/**
 * The public status page (issue 13): overall state, each group's jobs with their state and a
 * 90-day bar of daily uptime, open incidents first, then those resolved in the last 14 days
 * with the operator's updates. Plain HTML and one stylesheet: no scripts, and hover text is
 * the elements' `title`, so it works without JavaScript. Everything shown comes from the
 * `StatusView` the JSON gives too.
 */
import type { Lang, Translate } from "../lib/i18n/i18n.ts";
import { band, type DayFigures } from "../lib/status/daily_uptime.ts";
import type { PublicIncident, PublicJob, StatusView } from "../lib/status/status_board.ts";

export interface StatusPageProps {
  view: StatusView;
  lang: Lang;
  t: Translate;
  stylesheet: string;
}

const OVERALL_TEXT = {
  operational: "All systems operational",
  degraded: "Degraded performance",
  partial_outage: "Partial outage",
  major_outage: "Major outage",
  maintenance: "Under maintenance",
} as const;

export function StatusPage({ view, lang, t, stylesheet }: StatusPageProps) {
  const other: Lang = lang === "ja" ? "en" : "ja";
  const open = view.incidents.filter((i) => i.state === "open");
  const resolved = view.incidents.filter((i) => i.state === "resolved");
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${view.title} · ${t("Status")}`}</title>
        <link rel="stylesheet" href={stylesheet} />
        <link rel="alternate" type="application/json" href={`/status/${view.slug}.json`} />
      </head>
      <body class="status-page">
        <header class="sp-header">
          <h1>{view.title}</h1>
          <a class="sp-lang" href={`?lang=${other}`} hreflang={other} lang={other}>
            {other === "ja" ? "日本語" : "English"}
          </a>
        </header>
        {view.description && <p class="sp-description">{view.description}</p>}
        <section class={`sp-overall sp-overall-${view.overall}`} data-testid="overall">
          <p class="sp-overall-text">{t(OVERALL_TEXT[view.overall])}</p>
          <p class="sp-updated">
            {t("Updated {time}", { time: formatUtc(view.generatedAt) })}
          </p>
        </section>
        {open.length > 0 && (
          <section class="sp-incidents sp-open">
            <h2>{t("Current incidents")}</h2>
            {open.map((incident, i) => <IncidentItem key={i} incident={incident} t={t} />)}
          </section>
        )}
        {view.groups.map((group) => (
          <section class="sp-group">
            <h2>{group.name}</h2>
            {group.jobs.length === 0
              ? <p class="sp-empty">{t("Nothing to show here yet.")}</p>
              : (
                <ul class="sp-jobs">
                  {group.jobs.map((job) => <JobItem key={job.id} job={job} t={t} lang={lang} />)}
                </ul>
              )}
          </section>
        ))}
        <section class="sp-incidents sp-resolved">
          <h2>{t("Past incidents (14 days)")}</h2>
          {resolved.length === 0
            ? <p class="sp-empty">{t("No incidents in the last 14 days.")}</p>
            : resolved.map((incident, i) => <IncidentItem key={i} incident={incident} t={t} />)}
        </section>
        <footer class="sp-footer">
          <p>
            {t("Days are UTC days, {from} to {to}.", { from: view.days.from, to: view.days.to })}
            {" "}
            <a href={`/status/${view.slug}.json`}>JSON</a>
            {" · "}
            <a href={`/status/${view.slug}/badge.svg`}>{t("Badge")}</a>
          </p>
          <p class="sp-powered">{t("Powered by Hibiki")}</p>
        </footer>
      </body>
    </html>
  );
}

const STATE_TEXT = {
  up: "Operational",
  degraded: "Degraded",
  down: "Down",
  maintenance: "Maintenance",
  paused: "Paused",
  pending: "No data yet",
} as const;

function JobItem({ job, t, lang }: { job: PublicJob; t: Translate; lang: Lang }) {
  return (
    <li class="sp-job" data-job={job.id}>
      <div class="sp-job-head">
        <span class="sp-job-name">{job.name}</span>
        <span class={`sp-state sp-state-${job.state}`}>{t(STATE_TEXT[job.state])}</span>
      </div>
      <ol class="sp-bar" aria-label={t("Daily uptime, last 90 days")}>
        {job.days.map((day) => (
          <li
            class={`sp-day sp-${band(day)}`}
            title={dayText(day, t, lang)}
          />
        ))}
      </ol>
      <div class="sp-bar-legend">
        <span>{t("90 days ago")}</span>
        <span class="sp-uptime">
          {t("{figure} uptime", { figure: percent(job.uptime["90d"], t) })}
        </span>
        <span>{t("Today")}</span>
      </div>
    </li>
  );
}

function IncidentItem({ incident, t }: { incident: PublicIncident; t: Translate }) {
  const open = incident.state === "open";
  return (
    <article class={`sp-incident sp-incident-${incident.state}`}>
      <h3>
        <span class="sp-incident-job">{incident.jobName}</span>
        {" · "}
        <span class="sp-incident-kind">
          {open ? t(incident.acknowledged ? "Down, being investigated" : "Down") : t("Resolved")}
        </span>
      </h3>
      <p class="sp-incident-times">
        {open
          ? t("Since {start}", { start: formatUtc(incident.startedAt) })
          : t("{start} to {end} ({duration})", {
            start: formatUtc(incident.startedAt),
            end: formatUtc(incident.endedAt!),
            duration: formatDuration(incident.durationMs ?? 0, t),
          })}
      </p>
      {incident.updates.length > 0 && (
        <ol class="sp-updates">
          {[...incident.updates].reverse().map((update) => (
            <li>
              <time datetime={update.at}>{formatUtc(update.at)}</time>
              <p>{update.message}</p>
            </li>
          ))}
        </ol>
      )}
    </article>
  );
}

/** A day's hover text: its figure, incidents and maintenance. */
export function dayText(day: DayFigures, t: Translate, _lang: Lang): string {
  if (day.uptime === null) {
    return day.maintenanceMs > 0
      ? t("{date}: maintenance", { date: day.date })
      : t("{date}: no data", { date: day.date });
  }
  const parts = [t("{date}: {figure} up", { date: day.date, figure: percent(day.uptime, t) })];
  if (day.incidents > 0) {
    parts.push(
      t(day.incidents === 1 ? "1 incident, {down} down" : "{n} incidents, {down} down", {
        n: day.incidents,
        down: formatDuration(day.downMs, t),
      }),
    );
  }
  if (day.maintenanceMs > 0) {
    parts.push(t("{time} maintenance", { time: formatDuration(day.maintenanceMs, t) }));
  }
  return parts.join(t(", "));
}

/** Down to the hundredth, never rounded up: 99.999 % shows as 99.99 %, not 100 %. */
export function percent(uptime: number | null, t: Translate): string {
  if (uptime === null) return t("no data");
  if (uptime >= 1) return "100%";
  return hundredths(uptime);
}

/**
 * `uptime` as a percentage down to the hundredth, never rounded up; the small allowance keeps
 * 1 - 8/10 (0.19999999999999996 in floating point) at 20.00 %.
 */
export function hundredths(uptime: number): string {
  return `${(Math.floor(uptime * 10_000 + 1e-6) / 100).toFixed(2)}%`;
}

export function formatDuration(ms: number, t: Translate): string {
  const minutes = Math.round(ms / 60_000);
  if (ms > 0 && minutes === 0) return t("{n} s", { n: Math.round(ms / 1000) });
  if (minutes < 60) return t("{n} min", { n: minutes });
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return minutes % 60 === 0
      ? t("{h} h", { h: hours })
      : t("{h} h {m} min", { h: hours, m: minutes % 60 });
  }
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? t("{d} d", { d: days }) : t("{d} d {h} h", { d: days, h: hours % 24 });
}

function formatUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** The page at an address where no status page is. */
export function StatusNotFound({ lang, t, stylesheet }: Omit<StatusPageProps, "view">) {
  return (
    <html lang={lang}>
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{t("Status page not found")}</title>
        <link rel="stylesheet" href={stylesheet} />
      </head>
      <body class="status-page">
        <h1>{t("Status page not found")}</h1>
        <p>{t("There is no status page at this address.")}</p>
      </body>
    </html>
  );
}

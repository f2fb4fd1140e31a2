/**
 * `/admin/maintenance`: the user's maintenance windows: which jobs each covers, when, whether
 * it is on now, to come or over, its next occurrence, and a button to end it now.
 */
import type { MaintenanceView } from "../lib/alerts/maintenance.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { AlertTabs } from "./alerts_nav.tsx";
import { Csrf } from "./field.tsx";
import { stateClass } from "./format.ts";
import { maintenancePath } from "./paths.ts";
import { formatInZone } from "./zone_time.ts";

/** Jobs named in the list before "and n more". */
const NAMES_SHOWN = 3;

export interface MaintenancePageProps {
  t: Translate;
  csrf: string;
  windows: MaintenanceView[];
  /** Names of the user's jobs by id (a job not in it shows its id). */
  jobNames: ReadonlyMap<string, string>;
  cursor: string | null;
}

const STATUS_LABELS: Record<MaintenanceView["status"], string> = {
  active: "In progress",
  scheduled: "Upcoming",
  ended: "Ended",
};

/** `2026-03-29 01:00 +09:00`: a time on the window's own clock (UTC for a one-off window). */
export function windowTime(iso: string, timeZone: string | null): string {
  const text = formatInZone(Date.parse(iso), timeZone ?? "UTC");
  return `${text.slice(0, 16)}${text.slice(19)}`;
}

export function MaintenancePage(props: MaintenancePageProps) {
  const { t, windows } = props;
  return (
    <section>
      <AlertTabs t={t} current="maintenance" />
      <div class="heading">
        <h1>{t("Maintenance windows")}</h1>
        <div class="actions">
          <a class="button primary" href="/admin/maintenance/new">{t("New window")}</a>
        </div>
      </div>
      <p class="hint">
        {t(
          "While a window covers a job, the job still runs and records results, but opens no incident and sends nothing.",
        )}
      </p>
      {windows.length === 0
        ? <p class="empty">{t("No maintenance windows yet.")}</p>
        : (
          <div class="scroll-x">
            <table class="windows">
              <thead>
                <tr>
                  <th>{t("Name")}</th>
                  <th>{t("Jobs")}</th>
                  <th>{t("When")}</th>
                  <th>{t("State")}</th>
                  <th>{t("Now or next")}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                {windows.map((w) => (
                  <tr key={w.id} data-window={w.id}>
                    <td class="name">
                      <a href={`${maintenancePath(w.id)}/edit`}>{w.name}</a>
                    </td>
                    <td>
                      <Covered t={t} window={w} names={props.jobNames} />
                    </td>
                    <td class="time">
                      <When t={t} window={w} />
                    </td>
                    <td>
                      <span class={stateClass(`window-${w.status}`)} data-testid="window-status">
                        {t(STATUS_LABELS[w.status])}
                      </span>
                    </td>
                    <td class="time" data-testid="window-next">
                      <Occurrence t={t} window={w} />
                    </td>
                    <td>
                      {w.status !== "ended" && (
                        <form method="post" action={`${maintenancePath(w.id)}/end`} class="inline">
                          <Csrf token={props.csrf} />
                          <button type="submit" class="small">{t("End now")}</button>
                        </form>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      {props.cursor && (
        <nav class="pager">
          <a href={`/admin/maintenance?cursor=${encodeURIComponent(props.cursor)}`} rel="next">
            {t("Next page")}
          </a>
        </nav>
      )}
    </section>
  );
}

function Covered(
  { t, window, names }: {
    t: Translate;
    window: MaintenanceView;
    names: ReadonlyMap<string, string>;
  },
) {
  if (window.all) return <>{t("All jobs")}</>;
  const shown = window.jobIds.slice(0, NAMES_SHOWN);
  const more = window.jobIds.length - shown.length;
  return (
    <>
      {shown.map((id) => <span key={id} class="tag">{names.get(id) ?? id}</span>)}
      {more > 0 && <small>{t("and {n} more", { n: more })}</small>}
    </>
  );
}

function When({ t, window }: { t: Translate; window: MaintenanceView }) {
  if (window.schedule !== null) {
    return (
      <>
        <code>{window.schedule}</code> {t("for {n} min", { n: window.durationMinutes ?? 0 })}
        <small>{window.timezone}</small>
      </>
    );
  }
  return (
    <>
      {windowTime(window.start!, null)}
      <small>{t("until {time}", { time: windowTime(window.end!, null) })}</small>
    </>
  );
}

function Occurrence({ t, window }: { t: Translate; window: MaintenanceView }) {
  const occurrence = window.occurrence;
  if (occurrence === null) {
    return <>{window.endedAt ? t("Ended early") : "—"}</>;
  }
  if (window.status === "active") {
    return <>{t("On until {time}", { time: windowTime(occurrence.end, window.timezone) })}</>;
  }
  return <>{windowTime(occurrence.start, window.timezone)}</>;
}

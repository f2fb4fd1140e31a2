/**
 * The maintenance window form (new and edit): which jobs (all, or those ticked), and when:
 * once (start and end in a zone, the viewer's own where the browser says it), or repeating (a
 * cron schedule, how long each occurrence lasts, its zone). The stylesheet hides the part the
 * radio buttons did not choose (`:has()`, no script needed); a window's kind is fixed once
 * created, so editing shows only its own.
 */
import type { Translate } from "../lib/i18n/i18n.ts";
import ScheduleFields from "../islands/schedule_fields.tsx";
import WindowSpan from "../islands/window_span.tsx";
import { Csrf, TextField } from "./field.tsx";
import { Island } from "./island.tsx";
import { timeZones } from "./job_form.tsx";

export type WindowKind = "once" | "recurring";

/** What the form shows: strings as typed, so a rejected form comes back as it was sent. */
export interface MaintenanceFormValues {
  name: string;
  all: boolean;
  jobIds: string[];
  kind: WindowKind;
  /** Once: wall clock times (`2026-03-29T01:00`) in `zone`. */
  start: string;
  end: string;
  zone: string;
  /** Once: the zone is a default nobody chose; the browser puts the viewer's in. */
  guessZone: boolean;
  /** Repeating. */
  schedule: string;
  durationMinutes: string;
  timezone: string;
}

export interface MaintenanceFormProps {
  t: Translate;
  csrf: string;
  action: string;
  values: MaintenanceFormValues;
  /** Messages by API field (name, jobIds, start, end, schedule, durationMinutes, timezone, zone). */
  errors: Record<string, string>;
  formError?: string | null;
  /** The user's jobs to choose from. */
  jobs: { id: string; name: string }[];
  /** Editing: the window's `updatedAt` when the form was made (a later change wins: 409). */
  version?: string;
  /** Editing: the window's kind, which cannot change. */
  fixedKind?: WindowKind;
  windowKey: string;
  now: number;
  submitLabel: string;
}

export function MaintenanceForm(props: MaintenanceFormProps) {
  const { t, values, errors } = props;
  const jobs = [...props.jobs];
  for (const id of values.jobIds) {
    if (!jobs.some((job) => job.id === id)) jobs.push({ id, name: id });
  }
  const chosen = new Set(values.jobIds);
  const kinds = props.fixedKind ? [props.fixedKind] : ["once", "recurring"] as const;
  return (
    <form method="post" action={props.action} class="job-form maintenance-form" novalidate>
      <Csrf token={props.csrf} />
      {props.version && <input type="hidden" name="version" value={props.version} />}
      {props.formError && <p class="error form-error" role="alert">{props.formError}</p>}
      <TextField
        id="mw-name"
        name="name"
        label={t("Name")}
        value={values.name}
        error={errors.name}
        placeholder={t("e.g. Database upgrade")}
        required
      />
      <fieldset
        id="mw-jobs"
        class={errors.jobIds ? "field-error" : undefined}
        aria-describedby={errors.jobIds ? "mw-jobs-error" : undefined}
      >
        <legend>{t("Jobs")}</legend>
        {errors.jobIds && <p class="error" id="mw-jobs-error" role="alert">{errors.jobIds}</p>}
        <label class="check">
          <input type="radio" id="mw-all" name="coverage" value="all" checked={values.all} />{" "}
          {t("All jobs, also ones added later")}
        </label>
        <label class="check">
          <input type="radio" id="mw-some" name="coverage" value="jobs" checked={!values.all} />
          {" "}
          {t("Only the jobs ticked below")}
        </label>
        {jobs.length === 0
          ? <p class="empty">{t("No jobs yet.")}</p>
          : (
            <div class="job-list" id="mw-job-list" role="group" aria-label={t("Jobs")}>
              {jobs.map((job) => (
                <label key={job.id} class="check">
                  <input
                    type="checkbox"
                    name="jobIds"
                    value={job.id}
                    checked={chosen.has(job.id)}
                  />{" "}
                  {job.name}
                </label>
              ))}
            </div>
          )}
      </fieldset>
      <fieldset id="mw-when">
        <legend>{t("When")}</legend>
        {props.fixedKind ? <input type="hidden" name="kind" value={props.fixedKind} /> : (
          <>
            <label class="check">
              <input
                type="radio"
                id="mw-kind-once"
                name="kind"
                value="once"
                checked={values.kind === "once"}
              />{" "}
              {t("Once")}
            </label>
            <label class="check">
              <input
                type="radio"
                id="mw-kind-recurring"
                name="kind"
                value="recurring"
                checked={values.kind === "recurring"}
              />{" "}
              {t("Repeating, on a schedule")}
            </label>
          </>
        )}
        {kinds.includes("once") && (
          <div class="mw-once">
            <Island
              name="window_span"
              component={WindowSpan}
              props={{
                start: values.start,
                end: values.end,
                timezone: values.zone,
                guessZone: values.guessZone,
                errors: { start: errors.start, end: errors.end, zone: errors.zone },
                zonesListId: "time-zones",
                text: {
                  zone: t("Time zone of start and end"),
                  zoneHint: t("Your browser's zone; without JavaScript, UTC unless you change it"),
                  start: t("Start"),
                  end: t("End"),
                  utc: t("In UTC"),
                },
              }}
            />
          </div>
        )}
        {kinds.includes("recurring") && (
          <div class="mw-recurring">
            <Island
              name="schedule_fields"
              component={ScheduleFields}
              props={{
                schedule: values.schedule,
                timezone: values.timezone,
                errors: { schedule: errors.schedule, timezone: errors.timezone },
                jobKey: props.windowKey,
                now: props.now,
                zonesListId: "time-zones",
                text: {
                  schedule: t("Schedule"),
                  timezone: t("Timezone"),
                  next: t("Next 5 starts"),
                  hint: t(
                    "Cron with 5 or 6 fields, or a nickname like @weekly: each time starts the window",
                  ),
                },
              }}
            />
            <TextField
              id="mw-duration"
              name="durationMinutes"
              label={t("Duration (minutes)")}
              type="number"
              value={values.durationMinutes}
              error={errors.durationMinutes}
              hint={t("How long each time lasts: up to 10080 (7 days)")}
            />
          </div>
        )}
        <datalist id="time-zones">{timeZones().map((z) => <option key={z} value={z} />)}</datalist>
      </fieldset>
      <button type="submit" class="primary">{props.submitLabel}</button>
    </form>
  );
}

/**
 * The job form (new and edit). The target is a fieldset of its own: HTTP today; a Cloud Run
 * job target will be a second fieldset chosen by `target`, with the same schedule part.
 */
import type { Translate } from "../lib/i18n/i18n.ts";
import ScheduleFields from "../islands/schedule_fields.tsx";
import { Csrf, Field, TextField } from "./field.tsx";
import { Island } from "./island.tsx";

export const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"];

/** What the form shows: strings as typed, so a rejected form comes back as it was sent. */
export interface JobFormValues {
  name: string;
  url: string;
  method: string;
  schedule: string;
  timezone: string;
  headers: string;
  body: string;
  timeoutSeconds: string;
  expectStatus: string;
  expectBody: string;
  enabled: boolean;
  local: boolean;
  workers: string;
}

export const EMPTY_JOB_FORM: JobFormValues = {
  name: "",
  url: "",
  method: "GET",
  schedule: "*/5 * * * *",
  timezone: "UTC",
  headers: "",
  body: "",
  timeoutSeconds: "30",
  expectStatus: "",
  expectBody: "",
  enabled: true,
  local: true,
  workers: "",
};

export interface JobFormProps {
  t: Translate;
  csrf: string;
  action: string;
  values: JobFormValues;
  /** Messages by form field. */
  errors: Record<string, string>;
  /** A message that names no field. */
  formError?: string | null;
  jobKey: string;
  now: number;
  submitLabel: string;
}

let zones: string[] | null = null;
function timeZones(): string[] {
  zones ??= ["UTC", ...Intl.supportedValuesOf("timeZone").filter((z) => z !== "UTC")];
  return zones;
}

export function JobForm(props: JobFormProps) {
  const { t, values, errors } = props;
  return (
    <form method="post" action={props.action} class="job-form" novalidate>
      <Csrf token={props.csrf} />
      {props.formError && <p class="error form-error" role="alert">{props.formError}</p>}
      <TextField
        id="job-name"
        name="name"
        label={t("Name")}
        value={values.name}
        error={errors.name}
        required
      />
      <fieldset>
        <legend>{t("Target")}</legend>
        <input type="hidden" name="target" value="http" />
        <TextField
          id="job-url"
          name="url"
          label={t("URL")}
          type="url"
          value={values.url}
          error={errors.url}
          placeholder="https://example.com/health"
          required
        />
        <Field id="job-method" label={t("Method")} error={errors.method}>
          <select id="job-method" name="method">
            {METHODS.map((m) => (
              <option key={m} value={m} selected={values.method === m}>{m}</option>
            ))}
          </select>
        </Field>
        <Field
          id="job-headers"
          label={t("Headers")}
          error={errors.headers}
          hint={t("One per line: Name: value")}
        >
          <textarea id="job-headers" name="headers" rows={3} spellcheck={false}>
            {values.headers}
          </textarea>
        </Field>
        <Field id="job-body" label={t("Body")} error={errors.body}>
          <textarea id="job-body" name="body" rows={3} spellcheck={false}>{values.body}</textarea>
        </Field>
        <TextField
          id="job-timeout"
          name="timeoutSeconds"
          label={t("Timeout (seconds)")}
          type="number"
          value={values.timeoutSeconds}
          error={errors.timeoutMs}
        />
      </fieldset>
      <fieldset>
        <legend>{t("When")}</legend>
        <Island
          name="schedule_fields"
          component={ScheduleFields}
          props={{
            schedule: values.schedule,
            timezone: values.timezone,
            errors: { schedule: errors.schedule, timezone: errors.timezone },
            jobKey: props.jobKey,
            now: props.now,
            zonesListId: "time-zones",
            text: {
              schedule: t("Schedule"),
              timezone: t("Timezone"),
              next: t("Next 5 fire times"),
              hint: t("Cron with 5 or 6 fields, a nickname like @daily, or @every 30s"),
            },
          }}
        />
        <datalist id="time-zones">{timeZones().map((z) => <option key={z} value={z} />)}</datalist>
      </fieldset>
      <fieldset>
        <legend>{t("Checks")}</legend>
        <TextField
          id="job-expect-status"
          name="expectStatus"
          label={t("Expected status")}
          value={values.expectStatus}
          error={errors.expect}
          hint={t("Codes separated by commas; empty means any 2xx")}
        />
        <TextField
          id="job-expect-body"
          name="expectBody"
          label={t("Body contains")}
          value={values.expectBody}
        />
      </fieldset>
      <fieldset>
        <legend>{t("Where it runs")}</legend>
        <label class="check">
          <input type="checkbox" name="local" value="1" checked={values.local} /> {t("Run here")}
        </label>
        <TextField
          id="job-workers"
          name="workers"
          label={t("Probe workers")}
          value={values.workers}
          error={errors.workers}
          hint={t("Worker ids separated by commas, e.g. aws-tyo1a")}
        />
        <label class="check">
          <input type="checkbox" name="enabled" value="1" checked={values.enabled} /> {t("Enabled")}
        </label>
      </fieldset>
      <button type="submit" class="primary">{props.submitLabel}</button>
    </form>
  );
}

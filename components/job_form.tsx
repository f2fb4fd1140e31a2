/**
 * The job form (new and edit). The target is chosen by `target`: an HTTP request, a Cloud Run
 * job or a heartbeat (a job that pings Hibiki), each with fieldsets of its own (`data-target`)
 * and the same schedule part. The stylesheet shows only the chosen target's fieldsets (`:has()`,
 * no script needed, as on the channel form); a browser without `:has()` shows them all and the
 * choice decides which is used. A job's type is fixed once created, so editing renders only its
 * own.
 */
import { DEFAULT_GRACE_SECONDS, MAX_GRACE_SECONDS } from "../lib/heartbeat/window.ts";
import { METHODS } from "../lib/jobs/job_input.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import ScheduleFields from "../islands/schedule_fields.tsx";
import {
  type AlertFormValues,
  AlertsFieldset,
  type ChannelOption,
  EMPTY_ALERT_FORM,
} from "./alerts_fieldset.tsx";
import { Csrf, Field, TextField } from "./field.tsx";
import { Island } from "./island.tsx";

export const TARGETS = ["http", "cloud_run_job", "heartbeat"] as const;
export type JobTarget = (typeof TARGETS)[number];

/** A credential as the form offers it (never the key). */
export interface CredentialOption {
  id: string;
  client_email: string;
}

/** What the form shows: strings as typed, so a rejected form comes back as it was sent. */
export interface JobFormValues {
  target: JobTarget;
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
  /** The Cloud Run target: empty project, region and job use the server's GCP_* defaults. */
  crProject: string;
  crRegion: string;
  crJob: string;
  crCredential: string;
  /** `NAME=value` lines. */
  crEnv: string;
  /** One argument a line. */
  crArgs: string;
  crTaskCount: string;
  /** Cloud Run's task timeout, e.g. `3600s`. */
  crTimeout: string;
  /** A heartbeat's grace, in seconds. */
  graceSeconds: string;
  alerts: AlertFormValues;
}

export const EMPTY_JOB_FORM: JobFormValues = {
  target: "http",
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
  crProject: "",
  crRegion: "",
  crJob: "",
  crCredential: "",
  crEnv: "",
  crArgs: "",
  crTaskCount: "",
  crTimeout: "",
  graceSeconds: String(DEFAULT_GRACE_SECONDS),
  alerts: EMPTY_ALERT_FORM,
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
  /** The user's credentials for the Cloud Run target's select. */
  credentials: CredentialOption[];
  /** Editing: the job's type, which cannot change (only its fieldset shows). */
  fixedTarget?: JobTarget;
  /** The user's notification channels, for the Alerts part. */
  channels?: ChannelOption[];
}

let zones: string[] | null = null;
export function timeZones(): string[] {
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
      {props.fixedTarget ? <input type="hidden" name="target" value={props.fixedTarget} /> : (
        <Field
          id="job-target"
          label={t("Target")}
          error={errors.type}
          hint={t("Only the settings of the chosen target are saved.")}
        >
          <select id="job-target" name="target">
            <option value="http" selected={values.target === "http"}>{t("HTTP request")}</option>
            <option value="cloud_run_job" selected={values.target === "cloud_run_job"}>
              {t("Cloud Run job")}
            </option>
            <option value="heartbeat" selected={values.target === "heartbeat"}>
              {t("Heartbeat (the job pings Hibiki)")}
            </option>
          </select>
        </Field>
      )}
      {shows(props, "http") && <HttpTarget {...props} />}
      {shows(props, "cloud_run_job") && <CloudRunTarget {...props} />}
      {shows(props, "heartbeat") && <HeartbeatTarget {...props} />}
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
      {shows(props, "http") && (
        <fieldset id="http-checks" data-target="http">
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
      )}
      <fieldset>
        <legend>{t("Where it runs")}</legend>
        {props.fixedTarget !== "heartbeat" && (
          <div id="job-places">
            <label class="check">
              <input type="checkbox" name="local" value="1" checked={values.local} />{" "}
              {t("Run here")}
            </label>
            <TextField
              id="job-workers"
              name="workers"
              label={t("Probe workers")}
              value={values.workers}
              error={errors.workers}
              hint={t("Worker ids separated by commas, e.g. aws-tyo1a")}
            />
          </div>
        )}
        <label class="check">
          <input type="checkbox" name="enabled" value="1" checked={values.enabled} /> {t("Enabled")}
        </label>
      </fieldset>
      <AlertsFieldset
        t={t}
        values={values.alerts}
        error={errors.alerts}
        channels={props.channels ?? []}
      />
      <button type="submit" class="primary">{props.submitLabel}</button>
    </form>
  );
}

/** Whether the form renders `target`'s fieldsets: all of them on a new job, else its own. */
function shows(props: JobFormProps, target: JobTarget): boolean {
  return props.fixedTarget === undefined || props.fixedTarget === target;
}

function HeartbeatTarget(props: JobFormProps) {
  const { t, values, errors } = props;
  return (
    <fieldset id="target-heartbeat" data-target="heartbeat">
      <legend>{t("Heartbeat")}</legend>
      <p class="hint">
        {t(
          "The job sends a request to its ping URL each time it runs; the URL shows on the job's page once it is created.",
        )}
      </p>
      <TextField
        id="job-grace"
        name="graceSeconds"
        label={t("Grace (seconds)")}
        type="number"
        value={values.graceSeconds}
        error={errors.graceSeconds}
        hint={t("How long after each scheduled time a ping may still come: 1 to {max}", {
          max: MAX_GRACE_SECONDS,
        })}
      />
    </fieldset>
  );
}

function HttpTarget(props: JobFormProps) {
  const { t, values, errors } = props;
  return (
    <fieldset id="target-http" data-target="http">
      <legend>{t("HTTP request")}</legend>
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
          {METHODS.map((m) => <option key={m} value={m} selected={values.method === m}>{m}
          </option>)}
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
  );
}

function CloudRunTarget(props: JobFormProps) {
  const { t, values } = props;
  const error = props.errors.cloudRun;
  const credentials = [...props.credentials];
  if (values.crCredential && !credentials.some((c) => c.id === values.crCredential)) {
    credentials.push({ id: values.crCredential, client_email: t("unknown credential") });
  }
  return (
    <fieldset
      id="target-cloud-run"
      class={error ? "field-error" : undefined}
      aria-describedby={error ? "job-cloudrun-error" : undefined}
      data-target="cloud_run_job"
    >
      <legend>{t("Cloud Run job")}</legend>
      {error && <p class="error" id="job-cloudrun-error" role="alert">{error}</p>}
      <p class="hint">
        {t("Empty project, region or job use GCP_PROJECT_ID, GCP_REGION and GCP_JOB_NAME.")}
      </p>
      <TextField
        id="job-cr-project"
        name="crProject"
        label={t("Project")}
        value={values.crProject}
        placeholder="my-project"
      />
      <TextField
        id="job-cr-region"
        name="crRegion"
        label={t("Region")}
        value={values.crRegion}
        placeholder="asia-northeast1"
      />
      <TextField
        id="job-cr-job"
        name="crJob"
        label={t("Job")}
        value={values.crJob}
        placeholder="resume-job"
      />
      <Field
        id="job-cr-credential"
        label={t("Credential")}
        hint={credentials.length === 0
          ? t("No credentials yet: add a service account key on the Credentials page.")
          : undefined}
      >
        <select id="job-cr-credential" name="crCredential">
          <option value="" selected={values.crCredential === ""}>{t("Choose a credential")}</option>
          {credentials.map((c) => (
            <option key={c.id} value={c.id} selected={values.crCredential === c.id}>
              {c.client_email} ({c.id})
            </option>
          ))}
        </select>
      </Field>
      <Field
        id="job-cr-env"
        label={t("Environment overrides")}
        hint={t("One per line: NAME=value")}
      >
        <textarea id="job-cr-env" name="crEnv" rows={3} spellcheck={false}>
          {values.crEnv}
        </textarea>
      </Field>
      <Field id="job-cr-args" label={t("Arguments")} hint={t("One argument per line")}>
        <textarea id="job-cr-args" name="crArgs" rows={2} spellcheck={false}>
          {values.crArgs}
        </textarea>
      </Field>
      <TextField
        id="job-cr-task-count"
        name="crTaskCount"
        label={t("Task count")}
        type="number"
        value={values.crTaskCount}
        hint={t("Empty: as the job is deployed")}
      />
      <TextField
        id="job-cr-timeout"
        name="crTimeout"
        label={t("Task timeout")}
        value={values.crTimeout}
        placeholder="3600s"
        hint={t("Seconds with an s, e.g. 3600s; empty: as the job is deployed")}
      />
    </fieldset>
  );
}

/** Between the job form's strings and the API's JSON body, both ways. */
import { headerLines, parseHeaderLines } from "./header_lines.ts";
import type { JobFormValues } from "../../components/job_form.tsx";
import { ValidationError } from "../../lib/errors.ts";
import type { JobView } from "../../lib/store/types.ts";
import type { AlertSettings } from "../../lib/alerts/types.ts";
import { alertFormValues, alertsBody, alertValues } from "./alerts_form_data.ts";

export function formValues(form: Record<string, string>): JobFormValues {
  return {
    target: form.target === "cloud_run_job" || form.target === "heartbeat" ? form.target : "http",
    name: form.name ?? "",
    url: form.url ?? "",
    method: form.method ?? "GET",
    schedule: form.schedule ?? "",
    timezone: form.timezone ?? "",
    headers: form.headers ?? "",
    body: form.body ?? "",
    timeoutSeconds: form.timeoutSeconds ?? "",
    expectStatus: form.expectStatus ?? "",
    expectBody: form.expectBody ?? "",
    enabled: form.enabled === "1",
    local: form.local === "1",
    workers: form.workers ?? "",
    crProject: form.crProject ?? "",
    crRegion: form.crRegion ?? "",
    crJob: form.crJob ?? "",
    crCredential: form.crCredential ?? "",
    crEnv: form.crEnv ?? "",
    crArgs: form.crArgs ?? "",
    crTaskCount: form.crTaskCount ?? "",
    crTimeout: form.crTimeout ?? "",
    graceSeconds: form.graceSeconds ?? "",
    alerts: alertFormValues(form),
  };
}

export function jobValues(job: JobView): JobFormValues {
  const status = job.expect?.status;
  const cloudRun = job.cloudRun;
  const overrides = cloudRun?.overrides ?? {};
  return {
    target: job.type,
    name: job.name,
    url: job.url,
    method: job.method,
    schedule: job.schedule,
    timezone: job.timezone,
    headers: headerLines(job.headers),
    body: job.body ?? "",
    timeoutSeconds: String(job.timeoutMs / 1000),
    expectStatus: status === undefined ? "" : [status].flat().join(", "),
    expectBody: job.expect?.bodyContains ?? "",
    enabled: job.enabled,
    local: job.local,
    workers: job.workers.map((w) => w.workerId).join(", "),
    crProject: cloudRun?.project ?? "",
    crRegion: cloudRun?.region ?? "",
    crJob: cloudRun?.job ?? "",
    crCredential: cloudRun?.credentialId ?? "",
    crEnv: (overrides.env ?? []).map((e) => `${e.name}=${e.value}`).join("\n"),
    crArgs: (overrides.args ?? []).join("\n"),
    crTaskCount: overrides.taskCount === undefined ? "" : String(overrides.taskCount),
    crTimeout: overrides.timeout ?? "",
    graceSeconds: job.graceSeconds === undefined ? "" : String(job.graceSeconds),
    alerts: alertValues(job.alerts),
  };
}

/**
 * The API body for the values; a value that cannot be read fails naming its API field.
 * `alertDefaults` (an edit) is what an emptied alert threshold goes back to.
 */
export function jobBody(
  values: JobFormValues,
  alertDefaults?: Pick<AlertSettings, "failureThreshold" | "successThreshold">,
): Record<string, unknown> {
  const alerts = alertsBody(values.alerts, alertDefaults);
  if (values.target === "cloud_run_job") return { ...cloudRunJobBody(values), alerts };
  if (values.target === "heartbeat") return { ...heartbeatJobBody(values), alerts };
  const headers = parseHeaderLines(values.headers, "headers", "headers");
  const timeout = Number(values.timeoutSeconds || "30");
  if (!Number.isFinite(timeout)) throw new ValidationError("timeout must be a number", "timeoutMs");
  const statuses = values.expectStatus.split(/[\s,]+/).filter(Boolean).map(Number);
  if (statuses.some((s) => !Number.isInteger(s))) {
    throw new ValidationError("expected status must be whole numbers", "expect");
  }
  const expect: Record<string, unknown> = {};
  if (statuses.length > 0) expect.status = statuses.length === 1 ? statuses[0] : statuses;
  if (values.expectBody) expect.bodyContains = values.expectBody;
  return {
    name: values.name,
    url: values.url.trim(),
    method: values.method,
    schedule: values.schedule,
    timezone: values.timezone || "UTC",
    headers: Object.keys(headers).length > 0 ? headers : null,
    body: values.body === "" ? null : values.body,
    timeoutMs: Math.round(timeout * 1000),
    expect: Object.keys(expect).length > 0 ? expect : null,
    enabled: values.enabled,
    local: values.local,
    workers: values.workers.split(/[\s,]+/).filter(Boolean).map((workerId) => ({ workerId })),
    alerts,
  };
}

/** A heartbeat job's API body: no request, a grace. */
function heartbeatJobBody(values: JobFormValues): Record<string, unknown> {
  const grace = values.graceSeconds.trim();
  if (grace !== "" && !/^\d+$/.test(grace)) {
    throw new ValidationError("graceSeconds must be a whole number of seconds", "graceSeconds");
  }
  return {
    type: "heartbeat",
    name: values.name,
    schedule: values.schedule,
    timezone: values.timezone || "UTC",
    enabled: values.enabled,
    ...(grace === "" ? {} : { graceSeconds: Number(grace) }),
  };
}

/**
 * A Cloud Run job's API body. `cloudRun.overrides` is always sent whole, so emptying a field
 * on the edit form removes that override; empty project, region, job and credential are left
 * out, falling back to the server's defaults (or, when editing, to what the job has).
 */
function cloudRunJobBody(values: JobFormValues): Record<string, unknown> {
  const env: { name: string; value: string }[] = [];
  for (const line of values.crEnv.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const equals = line.indexOf("=");
    if (equals <= 0) {
      throw new ValidationError(
        `cloudRun.overrides.env line "${line.slice(0, 60)}" is not "NAME=value"`,
        "cloudRun",
      );
    }
    env.push({ name: line.slice(0, equals).trim(), value: line.slice(equals + 1) });
  }
  const args = values.crArgs.split(/\r?\n/).filter((line) => line !== "");
  const overrides: Record<string, unknown> = {};
  if (env.length > 0) overrides.env = env;
  if (args.length > 0) overrides.args = args;
  const taskCount = values.crTaskCount.trim();
  if (taskCount !== "") {
    if (!/^\d+$/.test(taskCount)) {
      throw new ValidationError("cloudRun.overrides.taskCount must be a whole number", "cloudRun");
    }
    overrides.taskCount = Number(taskCount);
  }
  const timeout = values.crTimeout.trim();
  if (timeout !== "") overrides.timeout = /^\d+$/.test(timeout) ? `${timeout}s` : timeout;
  const cloudRun: Record<string, unknown> = { overrides };
  for (
    const [key, value] of [
      ["project", values.crProject],
      ["region", values.crRegion],
      ["job", values.crJob],
      ["credentialId", values.crCredential],
    ] as const
  ) {
    if (value.trim() !== "") cloudRun[key] = value.trim();
  }
  return {
    type: "cloud_run_job",
    name: values.name,
    schedule: values.schedule,
    timezone: values.timezone || "UTC",
    enabled: values.enabled,
    local: values.local,
    workers: values.workers.split(/[\s,]+/).filter(Boolean).map((workerId) => ({ workerId })),
    cloudRun,
  };
}

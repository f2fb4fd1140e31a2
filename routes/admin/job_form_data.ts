/** Between the job form's strings and the API's JSON body, both ways. */
import type { JobFormValues } from "../../components/job_form.tsx";
import { ValidationError } from "../../lib/errors.ts";
import type { JobView } from "../../lib/store/types.ts";

export function formValues(form: Record<string, string>): JobFormValues {
  return {
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
  };
}

export function jobValues(job: JobView): JobFormValues {
  const status = job.expect?.status;
  return {
    name: job.name,
    url: job.url,
    method: job.method,
    schedule: job.schedule,
    timezone: job.timezone,
    headers: Object.entries(job.headers ?? {}).map(([k, v]) => `${k}: ${v}`).join("\n"),
    body: job.body ?? "",
    timeoutSeconds: String(job.timeoutMs / 1000),
    expectStatus: status === undefined ? "" : [status].flat().join(", "),
    expectBody: job.expect?.bodyContains ?? "",
    enabled: job.enabled,
    local: job.local,
    workers: job.workers.map((w) => w.workerId).join(", "),
  };
}

/** The API body for the values; a value that cannot be read fails naming its API field. */
export function jobBody(values: JobFormValues): Record<string, unknown> {
  const headers: Record<string, string> = {};
  for (const line of values.headers.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) {
      throw new ValidationError(
        `headers line "${line.slice(0, 60)}" is not "Name: value"`,
        "headers",
      );
    }
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  }
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
  };
}

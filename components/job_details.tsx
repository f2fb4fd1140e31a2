/**
 * A job's settings, beside its live figures (islands/job_figures.tsx) at the top of the job
 * page.
 */
import type { CloudRunSpec } from "../lib/gcp/cloud_run_spec.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { Expectation, JobView } from "../lib/store/types.ts";
import { formatMs } from "./format.ts";

export function JobDetails({ t, job }: { t: Translate; job: JobView }) {
  return (
    <dl class="details">
      {job.cloudRun
        ? (
          <>
            <dt>{t("Cloud Run job")}</dt>
            <dd data-testid="cloud-run-target">
              <code>
                projects/{job.cloudRun.project}/locations/{job.cloudRun.region}/jobs/{job.cloudRun
                  .job}
              </code>
            </dd>
            <dt>{t("Credential")}</dt>
            <dd>
              <code>{job.cloudRun.credentialId}</code>
            </dd>
            <dt>{t("Overrides")}</dt>
            <dd>
              {overridesText(job.cloudRun.overrides) || t("None")}
            </dd>
          </>
        )
        : job.type === "heartbeat"
        ? (
          <>
            <dt>{t("Heartbeat")}</dt>
            <dd>
              {t("Pinged by the job; checked {grace} after each scheduled time", {
                grace: formatGrace(job.graceSeconds ?? 0),
              })}
            </dd>
          </>
        )
        : (
          <>
            <dt>{t("Request")}</dt>
            <dd>
              <code>{job.method} {job.url}</code>
            </dd>
          </>
        )}
      <dt>{t("Schedule")}</dt>
      <dd>
        <code>{job.schedule}</code> ({job.timezone})
      </dd>
      {job.type !== "heartbeat" && (
        <>
          <dt>{t("Timeout")}</dt>
          <dd>{formatMs(job.timeoutMs)}</dd>
        </>
      )}
      {!job.cloudRun && job.type !== "heartbeat" && (
        <>
          <dt>{t("Checks")}</dt>
          <dd>{checksText(t, job.expect)}</dd>
        </>
      )}
      {job.headers && (
        <>
          <dt>{t("Headers")}</dt>
          <dd>
            {Object.keys(job.headers).map((name) => <code key={name} class="tag">{name}</code>)}
          </dd>
        </>
      )}
    </dl>
  );
}

/**
 * What a run must see to succeed, in words: `Status 200 or 204 · body contains “ok” · answers
 * within 500 ms`; without a status, any 2xx answer.
 */
export function checksText(t: Translate, expect: Expectation | null): string {
  const codes = expect?.status === undefined ? [] : [expect.status].flat().map(String);
  const parts = [
    codes.length === 0 ? t("Any 2xx answer") : t("Status {codes}", {
      codes: codes.length === 1
        ? codes[0]
        : t("{list} or {last}", { list: codes.slice(0, -1).join(", "), last: codes.at(-1)! }),
    }),
  ];
  if (expect?.bodyContains !== undefined) {
    parts.push(t("body contains “{text}”", { text: expect.bodyContains }));
  }
  if (expect?.maxLatencyMs !== undefined) {
    parts.push(t("answers within {time}", { time: formatMs(expect.maxLatencyMs) }));
  }
  return parts.join(" · ");
}

/** `300 s`, `1 h`, `1 h 30 min`, `2 d`: a grace as people say it. */
function formatGrace(seconds: number): string {
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3600], ["min", 60], ["s", 1]] as const) {
    const n = Math.floor(seconds / size);
    seconds -= n * size;
    if (n > 0) parts.push(`${n} ${unit}`);
  }
  return parts.join(" ") || "0 s";
}

/** `env: A=1, B=2 · args: x y · 3 tasks · timeout 3600s`, with values as text. */
function overridesText(overrides: CloudRunSpec["overrides"]): string {
  const parts: string[] = [];
  if (overrides.env?.length) {
    parts.push(`env: ${overrides.env.map((e) => `${e.name}=${e.value}`).join(", ")}`);
  }
  if (overrides.args?.length) parts.push(`args: ${overrides.args.join(" ")}`);
  if (overrides.taskCount !== undefined) parts.push(`taskCount: ${overrides.taskCount}`);
  if (overrides.timeout !== undefined) parts.push(`timeout: ${overrides.timeout}`);
  return parts.join(" · ");
}

/** A job's settings and its 24-hour figures, side by side at the top of the job page. */
import type { CloudRunSpec } from "../lib/gcp/cloud_run_spec.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { JobStatsSummary } from "../lib/stats/job_stats.ts";
import type { JobView } from "../lib/store/types.ts";
import { formatMs, formatP95, formatRate, formatTime } from "./format.ts";

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
      <dt>{job.type === "heartbeat" ? t("Next ping expected") : t("Next run")}</dt>
      <dd>{formatTime(job.nextRunAt)} UTC</dd>
      <dt>{job.type === "heartbeat" ? t("Last ping or check") : t("Last run")}</dt>
      <dd>{formatTime(job.lastRunAt)} UTC</dd>
      {job.type !== "heartbeat" && (
        <>
          <dt>{t("Timeout")}</dt>
          <dd>{formatMs(job.timeoutMs)}</dd>
        </>
      )}
      {!job.cloudRun && job.type !== "heartbeat" && (
        <>
          <dt>{t("Checks")}</dt>
          <dd>
            {job.expect ? <code>{JSON.stringify(job.expect)}</code> : t("Any 2xx answer")}
          </dd>
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

export function JobFigures(
  { t, job, summary }: { t: Translate; job: JobView; summary: JobStatsSummary | undefined },
) {
  return (
    <dl class="figures">
      <div>
        <dt>{t("Success (24 h)")}</dt>
        <dd>{formatRate(summary?.successRate ?? null)}</dd>
      </div>
      <div>
        <dt>{t("p95 latency")}</dt>
        <dd>{formatP95(summary?.p95LatencyMs ?? null)}</dd>
      </div>
      <div>
        <dt>{t("p95 lateness")}</dt>
        <dd>{formatP95(summary?.p95LateMs ?? null)}</dd>
      </div>
      <div>
        <dt>{t("Runs")}</dt>
        <dd>{job.count}</dd>
      </div>
    </dl>
  );
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

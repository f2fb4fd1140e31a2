/**
 * One run: when and where it ran, how it ended, an https target's certificate, its Cloud Run
 * execution, the response kept.
 */
import { LogLink } from "../islands/job_activity.tsx";
import type { Translate } from "../lib/i18n/i18n.ts";
import type { JobView, Run } from "../lib/store/types.ts";
import { HeadersTable } from "./field.tsx";
import { formatMs, stateClass } from "./format.ts";
import { jobPath } from "./paths.ts";
import { ExactTime } from "./page_clock.tsx";
import { PingDetailsView } from "./ping_details.tsx";

export function RunPage({ t, job, run }: { t: Translate; job: JobView; run: Run }) {
  return (
    <section>
      <p class="crumbs">
        <a href={jobPath(job.id)}>{job.name}</a>
      </p>
      <h1>
        {t("Run")} <code>{run.id}</code> <span class={stateClass(run.status)}>{run.status}</span>
      </h1>
      <dl class="details">
        <dt>{t("Scheduled")}</dt>
        <dd>
          <ExactTime at={run.scheduledAt} />
        </dd>
        <dt>{t("Started")}</dt>
        <dd>
          <ExactTime at={run.startedAt} />
        </dd>
        <dt>{t("Finished")}</dt>
        <dd>
          <ExactTime at={run.finishedAt} />
        </dd>
        <dt>{t("Latency")}</dt>
        <dd>{formatMs(run.durationMs)}</dd>
        <dt>{t("Lateness")}</dt>
        <dd>{formatMs(run.lateMs)}</dd>
        <dt>{t("Where")}</dt>
        <dd>{run.where} ({run.trigger})</dd>
        {!run.ping && (
          <>
            <dt>{t("HTTP status")}</dt>
            <dd>{run.code || "—"}</dd>
          </>
        )}
        {run.error && (
          <>
            <dt>{t("Error")}</dt>
            <dd class="problem">{run.error.category}: {run.error.message}</dd>
          </>
        )}
        {run.failure && (
          <>
            <dt>{t("Check failed")}</dt>
            <dd class="problem">{run.failure}</dd>
          </>
        )}
        {run.missedCount && (
          <>
            <dt>{t("Missed fires")}</dt>
            <dd>{run.missedCount}</dd>
          </>
        )}
        {run.tls && (
          <>
            <dt>{t("Certificate expires")}</dt>
            <dd
              class={run.tls.daysLeft < 0 ? "problem" : undefined}
              data-testid="certificate-expiry"
            >
              <ExactTime at={run.tls.validTo} /> ({run.tls.daysLeft < 0
                ? t("expired")
                : t("{days} days left", { days: run.tls.daysLeft })})
            </dd>
            <dt>{t("Issued to")}</dt>
            <dd>{run.tls.subject}</dd>
            <dt>{t("Issued by")}</dt>
            <dd>{run.tls.issuer}</dd>
          </>
        )}
        {run.execution && (
          <>
            <dt>{t("Execution")}</dt>
            <dd>
              <code data-testid="execution-name">{run.execution.name}</code>{" "}
              <span class={stateClass(run.execution.status.toLowerCase())}>
                {run.execution.status}
              </span>
            </dd>
            <dt>{t("Tasks")}</dt>
            <dd>
              {t("{ok} succeeded, {failed} failed", {
                ok: run.execution.succeededCount,
                failed: run.execution.failedCount,
              })}
            </dd>
            <dt>{t("Logs")}</dt>
            <dd>
              <LogLink uri={run.execution.logUri} label={t("Open in Cloud Logging")} />
            </dd>
          </>
        )}
      </dl>
      {run.ping && <PingDetailsView t={t} ping={run.ping} />}
      {run.response && (
        <>
          {Object.keys(run.response.headers).length > 0 && (
            <>
              <h2>{t("Response headers")}</h2>
              <HeadersTable headers={run.response.headers} />
            </>
          )}
          <h2>{t("Response body")}</h2>
          {run.response.bodyTruncated && <p class="hint">{t("Only the first 16 KiB are kept.")}</p>}
          {run.response.body === ""
            ? <p class="empty">{t("The response had no body.")}</p>
            : <pre class="body" data-testid="response-body">{run.response.body}</pre>}
        </>
      )}
    </section>
  );
}

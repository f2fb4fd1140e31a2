/**
 * A heartbeat job's ping URL and how to call it: `curl` lines for success, start and exit
 * code, and a crontab line with the job's own schedule. Each example is a block of text the
 * reader selects with one click (`user-select: all`): no script needed to copy it.
 */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { JobView } from "../lib/store/types.ts";

const CURL = "curl -fsS -m 10 --retry 5 -o /dev/null";

export function PingPanel({ t, job }: { t: Translate; job: JobView }) {
  const url = job.pingUrl ?? "";
  const crontab = crontabSchedule(job.schedule);
  return (
    <section class="panel" aria-labelledby="ping-title">
      <h2 id="ping-title">{t("Ping URL")}</h2>
      <p>
        <code class="copy" data-testid="ping-url">{url}</code>
      </p>
      <p class="hint">
        {t(
          "Keep this URL secret: anyone who has it can ping this job. GET, POST and HEAD all work; the first 10 KiB of a body are kept with the run.",
        )}
      </p>
      <h3>{t("When the job succeeds")}</h3>
      <pre class="copy" data-testid="ping-curl">{`${CURL} ${url}`}</pre>
      <h3>{t("With its start and exit code")}</h3>
      <p class="hint">
        {t(
          "The start records how long the job ran; exit code 0 is a success, any other a failure.",
        )}
      </p>
      <pre
        class="copy"
        data-testid="ping-exit"
      >{`${CURL} ${url}/start\nyour-command\n${CURL} ${url}/$?`}</pre>
      <h3>{t("In a crontab")}</h3>
      {crontab
        ? (
          <pre class="copy" data-testid="ping-crontab">
            {`${job.timezone === "UTC" ? "" : `CRON_TZ=${job.timezone}\n`}${crontab} your-command && ${CURL} ${url}`}
          </pre>
        )
        : (
          <p class="hint">
            {t("This schedule has no crontab form: send the ping at the end of each run.")}
          </p>
        )}
    </section>
  );
}

/** The schedule as crontab reads it, or null (`@every`, or cron with seconds). */
function crontabSchedule(schedule: string): string | null {
  const text = schedule.trim();
  if (/^@every\b/i.test(text)) return null;
  if (text.startsWith("@")) return text;
  return text.split(/\s+/).length === 5 ? text : null;
}

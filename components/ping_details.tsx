/** What a heartbeat ping carried, on its run's page: kind, sender and the body's first 10 KiB. */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { PingDetails } from "../lib/store/types.ts";

export function PingDetailsView({ t, ping }: { t: Translate; ping: PingDetails }) {
  const kinds: Record<PingDetails["kind"], string> = {
    success: t("Success"),
    fail: t("Failure reported"),
    exit: t("Exit code {code}", { code: ping.exitCode ?? "—" }),
  };
  return (
    <>
      <h2>{t("Ping")}</h2>
      <dl class="details">
        <dt>{t("Signal")}</dt>
        <dd>
          {kinds[ping.kind]}
          {ping.ignored && ` (${t("ignored: the job was paused")})`}
        </dd>
        <dt>{t("Method")}</dt>
        <dd>{ping.method}</dd>
        <dt>{t("Source address")}</dt>
        <dd>{ping.source ?? "—"}</dd>
        {ping.forwardedFor && (
          <>
            <dt>X-Forwarded-For</dt>
            <dd>{ping.forwardedFor}</dd>
          </>
        )}
        <dt>{t("User agent")}</dt>
        <dd>{ping.userAgent ?? "—"}</dd>
      </dl>
      {ping.body !== "" && (
        <>
          <h2>{t("Request body")}</h2>
          {ping.bodyTruncated && <p class="hint">{t("Only the first 10 KiB are kept.")}</p>}
          <pre class="body" data-testid="ping-body">{ping.body}</pre>
        </>
      )}
    </>
  );
}

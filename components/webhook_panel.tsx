/** A job's webhook: endpoint, masked secret, rotate, test, and every delivery with its attempts. */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { DeliveryView, WebhookView } from "../lib/webhooks/types.ts";
import { Csrf, TextField } from "./field.tsx";
import { formatMs, stateClass } from "./format.ts";
import { Flash } from "./layout.tsx";
import { PageTime } from "./page_clock.tsx";

export interface WebhookPanelProps {
  t: Translate;
  csrf: string;
  jobId: string;
  webhook: WebhookView | null;
  deliveries: DeliveryView[];
  /** A secret just created or rotated: shown this once. */
  revealedSecret?: string | null;
  endpointValue?: string;
  error?: string | null;
  notice?: string | null;
}

export function WebhookPanel(props: WebhookPanelProps) {
  const { t, webhook, jobId } = props;
  const base = `/admin/jobs/${encodeURIComponent(jobId)}/webhook`;
  return (
    <section class="panel" id="webhook" aria-labelledby="webhook-title">
      <h2 id="webhook-title">{t("Webhook")}</h2>
      {props.notice && <Flash kind="ok">{props.notice}</Flash>}
      {props.revealedSecret && (
        <Flash kind="ok">
          <p>{t("The signing secret. It is shown only this once: copy it now.")}</p>
          <p>
            <code class="secret" data-testid="revealed-secret">{props.revealedSecret}</code>
          </p>
        </Flash>
      )}
      {!webhook
        ? (
          <form method="post" action={base} class="row-form">
            <Csrf token={props.csrf} />
            <p>{t("After every run, Hibiki can POST the result, signed, to your endpoint.")}</p>
            <TextField
              id="webhook-endpoint"
              name="endpoint"
              label={t("Endpoint")}
              type="url"
              value={props.endpointValue ?? ""}
              error={props.error}
              placeholder="https://your-server.example/webhook"
              required
            />
            <button type="submit" class="primary">{t("Add webhook")}</button>
          </form>
        )
        : (
          <>
            <dl class="details">
              <dt>{t("Endpoint")}</dt>
              <dd>
                <code>{webhook.endpoint}</code>
              </dd>
              <dt>{t("Secret")}</dt>
              <dd>
                <code data-testid="masked-secret">{webhook.secret}</code>
              </dd>
              <dt>{t("State")}</dt>
              <dd>
                {webhook.enabled
                  ? t("Enabled")
                  : `${t("Disabled")}: ${webhook.disabledReason ?? ""}`}
              </dd>
            </dl>
            {props.error && <p class="error" role="alert">{props.error}</p>}
            <div class="actions">
              <form method="post" action={`${base}/rotate`} class="inline">
                <Csrf token={props.csrf} />
                <button type="submit">{t("Rotate secret")}</button>
              </form>
              <form method="post" action={`${base}/test`} class="inline">
                <Csrf token={props.csrf} />
                <button type="submit">{t("Send test")}</button>
              </form>
              {!webhook.enabled && (
                <form method="post" action={`${base}/enable`} class="inline">
                  <Csrf token={props.csrf} />
                  <button type="submit">{t("Enable")}</button>
                </form>
              )}
              <form method="post" action={`${base}/delete`} class="inline">
                <Csrf token={props.csrf} />
                <button type="submit" class="danger">{t("Remove webhook")}</button>
              </form>
            </div>
            <h3>{t("Deliveries")}</h3>
            {props.deliveries.length === 0
              ? <p class="empty">{t("No deliveries yet.")}</p>
              : (
                <ul class="deliveries">
                  {props.deliveries.map((d) => (
                    <li data-delivery={d.id}>
                      <div class="delivery-head">
                        <span class={stateClass(d.state)}>{t(d.state)}</span>
                        <code>{d.id}</code>
                        <span>
                          <PageTime at={d.createdAt} />
                        </span>
                        {d.test && <small>{t("test")}</small>}
                        {d.state !== "succeeded"
                          ? (
                            <form
                              method="post"
                              action={`/admin/jobs/${encodeURIComponent(jobId)}/deliveries/${
                                encodeURIComponent(d.id)
                              }/redeliver`}
                              class="inline"
                            >
                              <Csrf token={props.csrf} />
                              <button type="submit" class="small">{t("Redeliver")}</button>
                            </form>
                          )
                          : null}
                      </div>
                      <table class="attempts">
                        <thead>
                          <tr>
                            <th>#</th>
                            <th>{t("Time")}</th>
                            <th>{t("Status")}</th>
                            <th class="num">{t("Duration")}</th>
                            <th>{t("Error or answer")}</th>
                          </tr>
                        </thead>
                        <tbody>
                          {d.attempts.map((a) => (
                            <tr>
                              <td>{a.n}</td>
                              <td>
                                <PageTime at={a.at} />
                              </td>
                              <td>
                                <span class={stateClass(a.success ? "success" : "failure")}>
                                  {a.status || "—"}
                                </span>
                              </td>
                              <td class="num">{formatMs(a.durationMs)}</td>
                              <td class={a.success ? "" : "problem"}>
                                {a.error ?? a.response.slice(0, 200)}
                              </td>
                            </tr>
                          ))}
                        </tbody>
                      </table>
                    </li>
                  ))}
                </ul>
              )}
          </>
        )}
    </section>
  );
}

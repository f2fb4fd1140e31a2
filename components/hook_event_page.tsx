/** One received event: how it was verified, its headers and payload, each attempt, replay. */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { InboundEventView } from "../lib/inbound/types.ts";
import { Csrf, HeadersTable } from "./field.tsx";
import { stateClass } from "./format.ts";
import { hookPath } from "./paths.ts";
import { PageTime } from "./page_clock.tsx";

export interface HookEventPageProps {
  t: Translate;
  csrf: string;
  hookId: string;
  event: InboundEventView;
}

export function HookEventPage({ t, csrf, hookId, event }: HookEventPageProps) {
  const eventPath = (id: string) => `${hookPath(hookId)}/events/${encodeURIComponent(id)}`;
  return (
    <section>
      <p class="crumbs">
        <a href={hookPath(hookId)}>{t("Events")}</a>
      </p>
      <h1>
        {t("Event")} <code>{event.id}</code>
      </h1>
      <form method="post" action={`${eventPath(event.id)}/replay`}>
        <Csrf token={csrf} />
        <button type="submit" class="primary">{t("Replay")}</button>
      </form>
      <dl class="details">
        <dt>{t("Received")}</dt>
        <dd>
          <PageTime at={event.receivedAt} />
        </dd>
        <dt>{t("Verification")}</dt>
        <dd>{event.verification.mode} ({event.verification.verified ? "✓" : "—"})</dd>
        {event.conflictOf && (
          <>
            <dt>{t("Conflicts with")}</dt>
            <dd>
              <span class={stateClass("conflict")}>{t("conflict")}</span>{" "}
              <a href={eventPath(event.conflictOf)}>
                <code>{event.conflictOf}</code>
              </a>{" "}
              {t("came first with the same delivery id and another body; replay to run this one")}
            </dd>
          </>
        )}
        <dt>{t("Action")}</dt>
        <dd>
          <span class={stateClass(event.action.state)}>{event.action.state}</span>
        </dd>
      </dl>
      <h2>{t("Headers")}</h2>
      <HeadersTable headers={event.headers} />
      <h2>{t("Payload")}</h2>
      {event.bodyTruncated && <p class="hint">{t("Only the first part of the body is shown.")}</p>}
      {event.body === ""
        ? <p class="empty">{t("The request had no body.")}</p>
        : <pre class="body">{pretty(event.body, event.contentType)}</pre>}
      <h2>{t("Attempts")}</h2>
      {event.action.attempts.length === 0
        ? <p class="empty">{t("No attempts yet.")}</p>
        : (
          <div class="scroll-x">
            <table>
              <tbody>
                {event.action.attempts.map((a) => (
                  <tr>
                    <td>{a.n}</td>
                    <td>
                      <PageTime at={a.at} />
                    </td>
                    <td>
                      <span class={stateClass(a.success ? "success" : "failure")}>{a.type}</span>
                    </td>
                    <td class="problem">{a.error ?? a.detail ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
    </section>
  );
}

/** JSON bodies indented for reading; anything else as it came. */
function pretty(body: string, contentType: string | null): string {
  if (!contentType?.includes("json")) return body;
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

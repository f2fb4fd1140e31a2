/**
 * One inbound hook: its URL, verification and action, secrets Hibiki just made (shown in the
 * answer to the form and never again), a page of its events, and the delete box.
 */
import type { Translate } from "../lib/i18n/i18n.ts";
import type { HookView, InboundEventView } from "../lib/inbound/types.ts";
import type { Page } from "../lib/store/types.ts";
import { DangerZone } from "./field.tsx";
import { stateClass } from "./format.ts";
import { Flash } from "./layout.tsx";
import { hookPath } from "./paths.ts";
import { PageTime } from "./page_clock.tsx";

/** Secrets Hibiki just made, shown in the answer to the form and never again. */
export interface NewSecrets {
  verification?: string;
  relay?: string;
}

export interface HookPageProps {
  t: Translate;
  csrf: string;
  hook: HookView;
  events: Page<InboundEventView>;
  /** This server's origin, in front of the hook's path. */
  origin: string;
  secrets: NewSecrets;
  notice?: string;
}

export function HookPage({ t, csrf, hook, events, origin, secrets, notice }: HookPageProps) {
  const action = hook.action;
  return (
    <section>
      <p class="crumbs">
        <a href="/admin/hooks">{t("Inbound hooks")}</a>
      </p>
      <div class="heading">
        <h1>
          {hook.name} {!hook.enabled && <span class={stateClass("paused")}>{t("Disabled")}</span>}
        </h1>
        <div class="actions">
          <a class="button" href={`${hookPath(hook.id)}/edit`}>{t("Edit")}</a>
        </div>
      </div>
      {notice && <Flash kind="ok">{notice}</Flash>}
      {(secrets.verification || secrets.relay) && (
        <Flash kind="ok">
          <p>{t("New secrets are shown only this once: copy them now.")}</p>
          {secrets.verification && (
            <p>
              {t("Verification secret")}:{" "}
              <code class="secret" data-testid="new-verification-secret">
                {secrets.verification}
              </code>
            </p>
          )}
          {secrets.relay && (
            <p>
              {t("Relay signing secret")}:{" "}
              <code class="secret" data-testid="new-relay-secret">{secrets.relay}</code>
            </p>
          )}
        </Flash>
      )}
      <dl class="details">
        <dt>{t("URL")}</dt>
        <dd>
          <code data-testid="hook-url">{origin}{hook.path}</code>
        </dd>
        <dt>{t("Verification")}</dt>
        <dd>
          <code>{hook.verification.mode}</code>
          {"header" in hook.verification && <>{" "}{hook.verification.header}</>}
          {hook.verification.secret && !secrets.verification && (
            <>
              {" "}
              <code data-testid="masked-secret">{hook.verification.secret}</code>
            </>
          )}
        </dd>
        <dt>{t("Challenge")}</dt>
        <dd>{hook.challenge ? t("Answered") : t("Not answered")}</dd>
        <dt>{t("Action")}</dt>
        <dd>
          <code>{action.type}</code> {action.type === "relay" && <code>{action.url}</code>}
          {action.type === "run" && (
            <a href={`/admin/jobs/${encodeURIComponent(action.jobId)}`}>{action.jobId}</a>
          )}
        </dd>
      </dl>
      <h2>{t("Events")}</h2>
      <HookEvents t={t} hookId={hook.id} events={events.values} />
      {events.cursor && (
        <nav class="pager">
          <a
            href={`${hookPath(hook.id)}?cursor=${encodeURIComponent(events.cursor)}`}
            rel="next"
          >
            {t("Next page")}
          </a>
        </nav>
      )}
      <DangerZone
        action={`${hookPath(hook.id)}/delete`}
        csrf={csrf}
        title={t("Delete this hook")}
        confirm={t("Also delete its events; senders get 404 from now on")}
        button={t("Delete hook")}
      />
    </section>
  );
}

function HookEvents(
  { t, hookId, events }: { t: Translate; hookId: string; events: InboundEventView[] },
) {
  if (events.length === 0) return <p class="empty">{t("No events yet.")}</p>;
  return (
    <div class="scroll-x">
      <table>
        <thead>
          <tr>
            <th>{t("Received")}</th>
            <th>{t("Event")}</th>
            <th>{t("Content type")}</th>
            <th class="num">{t("Size")}</th>
            <th>{t("Action")}</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr>
              <td>
                <a href={`${hookPath(hookId)}/events/${encodeURIComponent(event.id)}`}>
                  <PageTime at={event.receivedAt} />
                </a>
              </td>
              <td>
                <code>{event.id}</code>{" "}
                {event.conflictOf && <span class={stateClass("conflict")}>{t("conflict")}</span>}
              </td>
              <td>{event.contentType ?? "—"}</td>
              <td class="num">{event.bodySize}</td>
              <td>
                <span class={stateClass(event.action.state)}>{event.action.state}</span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

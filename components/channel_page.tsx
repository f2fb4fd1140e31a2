/**
 * One notification channel: its settings (secrets masked), whether it works, a test send and
 * what the receiver said to it, a webhook channel's signing secret (in full only in the answer
 * that creates the channel), and the delete box.
 */
import { Fragment } from "preact";
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import type { SendOutcome } from "../lib/alerts/types.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { AlertTabs } from "./alerts_nav.tsx";
import { CONFIG_INPUTS, TYPE_LABELS } from "./channel_form.tsx";
import { ChannelState } from "./channels_page.tsx";
import { Csrf, DangerZone } from "./field.tsx";
import { formatMs, stateClass } from "./format.ts";
import { Flash } from "./layout.tsx";
import { channelPath } from "./paths.ts";
import { PageTime } from "./page_clock.tsx";

/** At most this much of a receiver's answer is shown. */
const RESPONSE_SHOWN = 2000;

export interface ChannelPageProps {
  t: Translate;
  csrf: string;
  channel: ChannelView;
  /** A webhook channel's signing secret, just made: shown this once. */
  revealedSecret?: string | null;
  /** What a test send just came to. */
  test?: SendOutcome | null;
  notice?: string | null;
}

export function ChannelPage(props: ChannelPageProps) {
  const { t, channel, csrf } = props;
  const base = channelPath(channel.id);
  return (
    <section>
      <AlertTabs t={t} current="channels" />
      <p class="crumbs">
        <a href="/admin/channels">{t("Notification channels")}</a>
      </p>
      <div class="heading">
        <h1>{channel.name}</h1>
        <div class="actions">
          <form method="post" action={`${base}/test`} class="inline">
            <Csrf token={csrf} />
            <button type="submit">{t("Send test")}</button>
          </form>
          {!channel.enabled && (
            <form method="post" action={`${base}/enable`} class="inline">
              <Csrf token={csrf} />
              <button type="submit">{t("Enable again")}</button>
            </form>
          )}
          <a class="button" href={`${base}/edit`}>{t("Edit")}</a>
        </div>
      </div>
      {props.notice && <Flash kind="ok">{props.notice}</Flash>}
      {props.revealedSecret && (
        <Flash kind="ok">
          <p>{t("The signing secret. It is shown only this once: copy it now.")}</p>
          <p>
            <code class="secret" data-testid="revealed-secret">{props.revealedSecret}</code>
          </p>
        </Flash>
      )}
      {props.test && <TestResult t={t} outcome={props.test} />}
      <dl class="details">
        <dt>{t("Type")}</dt>
        <dd>{t(TYPE_LABELS[channel.type])}</dd>
        <dt>{t("State")}</dt>
        <dd>
          <ChannelState t={t} channel={channel} />
          {channel.disabledAt && (
            <small>
              <PageTime at={channel.disabledAt} />
            </small>
          )}
        </dd>
        <dt>{t("Failing since")}</dt>
        <dd>
          {channel.failingSince
            ? (
              <span class="problem">
                <PageTime at={channel.failingSince} />
              </span>
            )
            : t("Not failing")}
        </dd>
        {CONFIG_INPUTS[channel.type].map((input) => (
          <Fragment key={input.name}>
            <dt>{t(input.label)}</dt>
            <dd data-testid={`config-${input.name}`}>
              <ConfigValue value={channel.config[input.name]} />
            </dd>
          </Fragment>
        ))}
        {channel.secret !== null && !props.revealedSecret && (
          <>
            <dt>{t("Signing secret")}</dt>
            <dd>
              <code data-testid="masked-secret">{channel.secret}</code>
            </dd>
          </>
        )}
        <dt>{t("Created")}</dt>
        <dd>
          <PageTime at={channel.createdAt} />
        </dd>
      </dl>
      <DangerZone
        action={`${base}/delete`}
        csrf={csrf}
        title={t("Delete this channel")}
        confirm={t("Jobs that name it stop telling it of incidents")}
        button={t("Delete channel")}
      />
    </section>
  );
}

function ConfigValue({ value }: { value: unknown }) {
  if (value === null || value === undefined || value === "") return <>—</>;
  if (Array.isArray(value)) return <code>{value.join(", ")}</code>;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return <>—</>;
    return (
      <>
        {entries.map(([name, v]) => <code key={name} class="tag">{name}: {String(v)}</code>)}
      </>
    );
  }
  return <code>{String(value)}</code>;
}

/** What the receiver said to a test send: delivered or not, its status, words and timing. */
function TestResult({ t, outcome }: { t: Translate; outcome: SendOutcome }) {
  const response = outcome.response.length > RESPONSE_SHOWN
    ? `${outcome.response.slice(0, RESPONSE_SHOWN)}…`
    : outcome.response;
  return (
    <section class="panel" id="test-result" aria-labelledby="test-result-title">
      <h2 id="test-result-title">{t("Test message")}</h2>
      <p>
        <span
          class={stateClass(outcome.success ? "succeeded" : "failed")}
          data-testid="test-outcome"
        >
          {outcome.success ? t("Delivered") : t("Not delivered")}
        </span>{" "}
        <span data-testid="test-status">
          {outcome.status === 0 ? t("No answer") : t("Status {status}", {
            status: outcome.status,
          })}
        </span>{" "}
        · {formatMs(outcome.durationMs)}
      </p>
      {outcome.error && <p class="problem" data-testid="test-error">{outcome.error}</p>}
      {response && (
        <>
          <h3>{t("What the receiver said")}</h3>
          <pre class="body" data-testid="test-response">{response}</pre>
        </>
      )}
    </section>
  );
}

/** `/admin/channels`: the user's notification channels, whether each works, and since when not. */
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { AlertTabs } from "./alerts_nav.tsx";
import { TYPE_LABELS } from "./channel_form.tsx";
import { stateClass } from "./format.ts";
import { channelPath } from "./paths.ts";
import { PageTime } from "./page_clock.tsx";

export interface ChannelsPageProps {
  t: Translate;
  channels: ChannelView[];
  /** The next page's cursor, when there is one. */
  cursor: string | null;
}

export function ChannelsPage({ t, channels, cursor }: ChannelsPageProps) {
  return (
    <section>
      <AlertTabs t={t} current="channels" />
      <div class="heading">
        <h1>{t("Notification channels")}</h1>
        <div class="actions">
          <a class="button primary" href="/admin/channels/new">{t("New channel")}</a>
        </div>
      </div>
      <p class="hint">
        {t("Where Hibiki tells of incidents: a job names the channels it alerts.")}
      </p>
      {channels.length === 0 ? <p class="empty">{t("No channels yet.")}</p> : (
        <div class="scroll-x">
          <table class="channels">
            <thead>
              <tr>
                <th>{t("Name")}</th>
                <th>{t("Type")}</th>
                <th>{t("State")}</th>
                <th>{t("Failing since")}</th>
              </tr>
            </thead>
            <tbody>
              {channels.map((channel) => (
                <tr key={channel.id} data-channel={channel.id}>
                  <td class="name">
                    <a href={channelPath(channel.id)}>{channel.name}</a>
                  </td>
                  <td>{t(TYPE_LABELS[channel.type])}</td>
                  <td>
                    <ChannelState t={t} channel={channel} />
                  </td>
                  <td class="time">
                    {channel.failingSince
                      ? (
                        <span class="problem">
                          <PageTime at={channel.failingSince} />
                        </span>
                      )
                      : "—"}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {cursor && (
        <nav class="pager">
          <a href={`/admin/channels?cursor=${encodeURIComponent(cursor)}`} rel="next">
            {t("Next page")}
          </a>
        </nav>
      )}
    </section>
  );
}

/** Enabled, or Disabled with the reason (the owner, or a receiver that stopped answering). */
export function ChannelState({ t, channel }: { t: Translate; channel: ChannelView }) {
  if (channel.enabled) return <span class={stateClass("up")}>{t("Enabled")}</span>;
  return (
    <>
      <span class={stateClass("paused")}>{t("Disabled")}</span>
      {channel.disabledReason && (
        // Hibiki's own reasons are translated; a receiver's words are shown as they are.
        <small data-testid="disabled-reason">{t(channel.disabledReason)}</small>
      )}
    </>
  );
}

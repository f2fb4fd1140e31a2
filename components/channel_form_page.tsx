/** The page around the channel form: a new channel, or an existing one being edited. */
import type { ChannelView } from "../lib/alerts/channel_service.ts";
import { AlertTabs } from "./alerts_nav.tsx";
import { ChannelForm, type ChannelFormProps } from "./channel_form.tsx";
import { channelPath } from "./paths.ts";

export interface ChannelFormPageProps
  extends Pick<ChannelFormProps, "t" | "csrf" | "values" | "errors" | "formError" | "version"> {
  title: string;
  /** The channel being edited, or null for a new one. */
  channel: ChannelView | null;
}

export function ChannelFormPage({ t, title, channel, ...form }: ChannelFormPageProps) {
  return (
    <section class="narrow">
      <AlertTabs t={t} current="channels" />
      <p class="crumbs">
        <a href={channel ? channelPath(channel.id) : "/admin/channels"}>
          {channel ? channel.name : t("Notification channels")}
        </a>
      </p>
      <h1>{title}</h1>
      <ChannelForm
        t={t}
        {...form}
        action={channel ? `${channelPath(channel.id)}/edit` : "/admin/channels/new"}
        fixedType={channel?.type}
        submitLabel={channel ? t("Save") : t("Create channel")}
      />
    </section>
  );
}

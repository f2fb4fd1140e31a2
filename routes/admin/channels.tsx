/**
 * `/admin/channels`: notification channels: list, create (a webhook channel's signing secret is
 * shown once, in the answer to the form), edit (secrets shown masked and kept when the mask
 * comes back), send a test and show what the receiver said, enable again, delete.
 */
import { Hono } from "hono";
import { ChannelFormPage } from "../../components/channel_form_page.tsx";
import { ChannelPage, type ChannelPageProps } from "../../components/channel_page.tsx";
import { ChannelsPage } from "../../components/channels_page.tsx";
import {
  CHANNEL_TYPES,
  type ChannelFormValues,
  CONFIG_INPUTS,
  EMPTY_CHANNEL_FORM,
} from "../../components/channel_form.tsx";
import { ALERTS_SECTION } from "../../components/alerts_nav.tsx";
import { channelPath } from "../../components/paths.ts";
import type { ChannelView } from "../../lib/alerts/channel_service.ts";
import { ValidationError } from "../../lib/errors.ts";
import type { AdminContext, AdminEnv } from "./context.ts";
import { formOf, requireConfirmed, splitFormError } from "./context.ts";
import type { AdminDeps } from "./deps.ts";
import {
  channelConfig,
  channelFormValues,
  channelValues,
  configErrorField,
} from "./channel_form_data.ts";
import { renderPage } from "./render.tsx";

/** Form fields that show an API field's message beside them. */
const FORM_FIELDS = new Set([
  "name",
  "type",
  "config",
  ...CHANNEL_TYPES.flatMap((type) => CONFIG_INPUTS[type].map((i) => `${type}.${i.name}`)),
]);

export function channelRoutes(deps: AdminDeps): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();
  const userOf = (c: AdminContext) => c.get("user").id;
  const section = ALERTS_SECTION;

  app.get("/", async (c) => {
    const t = c.get("t");
    const page = await deps.channels.list(userOf(c), {
      limit: 100,
      cursor: c.req.query("cursor") || undefined,
    });
    return renderPage(
      c,
      deps.assets,
      { title: t("Notification channels"), section },
      <ChannelsPage t={t} channels={page.values} cursor={page.cursor} />,
    );
  });

  const showChannel = (
    c: AdminContext,
    channel: ChannelView,
    extras: Omit<ChannelPageProps, "t" | "csrf" | "channel"> = {},
  ) =>
    renderPage(
      c,
      deps.assets,
      { title: channel.name, section },
      <ChannelPage t={c.get("t")} csrf={c.get("csrf")} channel={channel} {...extras} />,
    );

  const showForm = (
    c: AdminContext,
    options: {
      channel: ChannelView | null;
      values: ChannelFormValues;
      version?: string;
      error?: ValidationError;
    },
  ) => {
    const t = c.get("t");
    const { channel, values, error } = options;
    const placed = error &&
      new ValidationError(error.message, configErrorField(values.type, error));
    const { errors, formError } = splitFormError(placed, FORM_FIELDS);
    const title = channel ? t("Edit {name}", { name: channel.name }) : t("New channel");
    return renderPage(
      c,
      deps.assets,
      { title, section, status: error ? 400 : 200 },
      <ChannelFormPage
        t={t}
        csrf={c.get("csrf")}
        title={title}
        channel={channel}
        values={values}
        version={options.version}
        errors={errors}
        formError={formError}
      />,
    );
  };

  app.get("/new", (c) => {
    const type = c.req.query("type");
    const values = CHANNEL_TYPES.find((known) => known === type)
      ? { ...EMPTY_CHANNEL_FORM, type: type as ChannelFormValues["type"] }
      : EMPTY_CHANNEL_FORM;
    return showForm(c, { channel: null, values });
  });
  app.post("/new", async (c) => {
    const values = channelFormValues(await formOf(c));
    try {
      const channel = await deps.channels.create(userOf(c), {
        name: values.name,
        type: values.type,
        config: channelConfig(values),
      });
      return showChannel(c, channel, {
        revealedSecret: channel.secret,
        notice: c.get("t")("Channel created. Send a test to see that it arrives."),
      });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return showForm(c, { channel: null, values, error });
    }
  });

  app.get(
    "/:id",
    async (c) => showChannel(c, await deps.channels.get(userOf(c), c.req.param("id"))),
  );
  app.get("/:id/edit", async (c) => {
    const channel = await deps.channels.get(userOf(c), c.req.param("id"));
    return showForm(c, { channel, values: channelValues(channel), version: channel.updatedAt });
  });
  app.post("/:id/edit", async (c) => {
    const channel = await deps.channels.get(userOf(c), c.req.param("id"));
    const form = await formOf(c);
    // The type is fixed when a channel is created.
    const values = { ...channelFormValues(form), type: channel.type };
    try {
      await deps.channels.update(userOf(c), channel.id, {
        name: values.name,
        enabled: values.enabled,
        config: channelConfig(values),
      }, { ifUpdatedAt: form.version });
      return c.redirect(channelPath(channel.id), 303);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return showForm(c, { channel, values, version: form.version, error });
    }
  });
  app.post("/:id/test", async (c) => {
    const channel = await deps.channels.get(userOf(c), c.req.param("id"));
    const outcome = await deps.channels.test(userOf(c), channel.id);
    return showChannel(c, channel, { test: outcome });
  });
  app.post("/:id/enable", async (c) => {
    await deps.channels.update(userOf(c), c.req.param("id"), { enabled: true });
    return c.redirect(channelPath(c.req.param("id")), 303);
  });
  app.post("/:id/delete", async (c) => {
    const channel = await deps.channels.get(userOf(c), c.req.param("id"));
    await requireConfirmed(c);
    await deps.channels.delete(userOf(c), channel.id);
    return c.redirect("/admin/channels", 303);
  });
  return app;
}

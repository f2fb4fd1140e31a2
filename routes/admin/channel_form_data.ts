/** Between the channel form's strings and the API's JSON body, both ways. */
import {
  CHANNEL_TYPES,
  type ChannelFormValues,
  type ChannelType,
  CONFIG_INPUTS,
} from "../../components/channel_form.tsx";
import type { ChannelView } from "../../lib/alerts/channel_service.ts";
import { DEFAULT_PORTS } from "../../lib/alerts/channels/email.ts";
import { ValidationError } from "../../lib/errors.ts";
import { headerLines, parseHeaderLines } from "./header_lines.ts";

export function channelFormValues(form: Record<string, string>): ChannelFormValues {
  const config: Record<string, string> = {};
  for (const type of CHANNEL_TYPES) {
    for (const input of CONFIG_INPUTS[type]) {
      const key = `${type}.${input.name}`;
      if (form[key] !== undefined) config[key] = form[key];
    }
  }
  return {
    type: (CHANNEL_TYPES as readonly string[]).includes(form.type)
      ? form.type as ChannelType
      : "webhook",
    name: form.name ?? "",
    enabled: form.enabled === "1",
    config,
  };
}

/** The form as it shows a stored channel: its secrets masked as the API shows them. */
export function channelValues(channel: ChannelView): ChannelFormValues {
  const config: Record<string, string> = {};
  for (const input of CONFIG_INPUTS[channel.type]) {
    const value = channel.config[input.name];
    let text = "";
    if (Array.isArray(value)) text = value.join(", ");
    else if (typeof value === "object" && value !== null) {
      text = headerLines(value as Record<string, string>);
    } else if (value !== null && value !== undefined) text = String(value);
    config[`${channel.type}.${input.name}`] = text;
  }
  return { type: channel.type, name: channel.name, enabled: channel.enabled, config };
}

/**
 * The chosen type's `config` for the API. Empty optional fields are sent as null, so emptying
 * one on the edit form clears it (the API merges a change over the stored config); an empty
 * required field is refused here, in the API's words, since leaving it out would keep the old.
 */
export function channelConfig(values: ChannelFormValues): Record<string, unknown> {
  const type = values.type;
  const raw = (name: string) => values.config[`${type}.${name}`] ?? "";
  const text = (name: string) => raw(name).trim();
  const required = (name: string) => {
    const value = text(name);
    if (value === "") throw new ValidationError(`config.${name} is required`, "config");
    return value;
  };
  const optional = (name: string) => text(name) || null;
  switch (type) {
    case "webhook": {
      const headers = parseHeaderLines(raw("headers"), "config.headers", "config");
      return {
        url: required("url"),
        headers: Object.keys(headers).length > 0 ? headers : null,
      };
    }
    case "slack":
    case "discord":
      return { webhookUrl: required("webhookUrl") };
    case "telegram":
      return { botToken: required("botToken"), chatId: required("chatId") };
    case "pagerduty":
      return { routingKey: required("routingKey") };
    case "ntfy":
      return {
        serverUrl: text("serverUrl") || "https://ntfy.sh",
        topic: required("topic"),
        token: optional("token"),
      };
    case "email": {
      const security = text("security");
      const port = text("port");
      if (port !== "" && !/^\d{1,5}$/.test(port)) {
        throw new ValidationError("config.port must be a whole number", "config");
      }
      return {
        host: required("host"),
        port: port === "" ? DEFAULT_PORTS[security as keyof typeof DEFAULT_PORTS] : Number(port),
        security,
        username: optional("username"),
        // A password is never trimmed: its spaces may be part of it.
        password: raw("password") === "" ? null : raw("password"),
        from: required("from"),
        to: required("to").split(/[\s,;]+/).filter(Boolean),
      };
    }
  }
}

/**
 * Where a config error goes: beside the input it names (`config.webhookUrl …` →
 * `slack.webhookUrl`), else above the type's inputs.
 */
export function configErrorField(type: ChannelType, error: ValidationError): string | null {
  if (error.field !== "config") return error.field;
  const named = /^config\.(\w+)/.exec(error.message)?.[1];
  return named && CONFIG_INPUTS[type].some((input) => input.name === named)
    ? `${type}.${named}`
    : "config";
}

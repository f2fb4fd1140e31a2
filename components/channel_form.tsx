/**
 * The notification channel form (new and edit). Each type has a fieldset of its own; a new
 * channel's Type select decides which one is used. The stylesheet shows only the chosen
 * type's fieldset (`:has()`, no script needed); a browser without `:has()` shows them all,
 * each under its type's name. A channel's type is fixed once created, so editing shows only
 * its own. Secrets come back masked when editing; a mask sent back unchanged keeps the secret.
 */
import { CHANNEL_TYPES, type ChannelType } from "../lib/alerts/types.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { Csrf, Field, TextField } from "./field.tsx";

export { CHANNEL_TYPES, type ChannelType };

/** What the form shows: strings as typed, so a rejected form comes back as it was sent. */
export interface ChannelFormValues {
  type: ChannelType;
  name: string;
  enabled: boolean;
  /** Config fields by `type.field` (`slack.webhookUrl`), as typed or as shown masked. */
  config: Record<string, string>;
}

export const EMPTY_CHANNEL_FORM: ChannelFormValues = {
  type: "webhook",
  name: "",
  enabled: true,
  config: { "ntfy.serverUrl": "https://ntfy.sh", "email.security": "tls" },
};

/** One input of a type's fieldset; `name` is the config field it fills. */
export interface ConfigInput {
  name: string;
  label: string;
  kind?: "text" | "secret" | "password" | "lines" | "security" | "number";
  required?: boolean;
  placeholder?: string;
  hint?: string;
}

export const TYPE_LABELS: Record<ChannelType, string> = {
  webhook: "Webhook",
  slack: "Slack",
  discord: "Discord",
  telegram: "Telegram",
  pagerduty: "PagerDuty",
  ntfy: "ntfy",
  email: "Email",
};

/** Each type's inputs, in the order shown; the labels differ so each names one input. */
export const CONFIG_INPUTS: Record<ChannelType, readonly ConfigInput[]> = {
  webhook: [
    {
      name: "url",
      label: "Receiver URL",
      required: true,
      placeholder: "https://example.com/alerts",
      hint: "Gets JSON, signed like job webhooks (X-Signature and Standard Webhooks headers)",
    },
    {
      name: "headers",
      label: "Extra headers",
      kind: "lines",
      hint: "One per line: Name: value. Values are kept secret.",
    },
  ],
  slack: [{
    name: "webhookUrl",
    label: "Slack webhook URL",
    kind: "secret",
    required: true,
    placeholder: "https://hooks.slack.com/services/…",
    hint: "An incoming webhook of your Slack app",
  }],
  discord: [{
    name: "webhookUrl",
    label: "Discord webhook URL",
    kind: "secret",
    required: true,
    placeholder: "https://discord.com/api/webhooks/…",
    hint: "Server settings → Integrations → Webhooks",
  }],
  telegram: [
    {
      name: "botToken",
      label: "Bot token",
      kind: "secret",
      required: true,
      placeholder: "123456789:AA…",
      hint: "From @BotFather",
    },
    {
      name: "chatId",
      label: "Chat id",
      required: true,
      placeholder: "-1001234567890",
      hint: "A chat id, or a channel's @username",
    },
  ],
  pagerduty: [{
    name: "routingKey",
    label: "Integration key",
    kind: "secret",
    required: true,
    hint: "The 32-character routing key of an Events API v2 integration",
  }],
  ntfy: [
    { name: "serverUrl", label: "ntfy server", placeholder: "https://ntfy.sh" },
    { name: "topic", label: "Topic", required: true, placeholder: "hibiki-alerts" },
    { name: "token", label: "Access token", kind: "secret", hint: "Only for protected topics" },
  ],
  email: [
    { name: "host", label: "SMTP host", required: true, placeholder: "smtp.example.com" },
    { name: "security", label: "Security", kind: "security" },
    {
      name: "port",
      label: "Port",
      kind: "number",
      hint: "Empty: 465 for TLS, 587 for STARTTLS, 25 for none",
    },
    { name: "username", label: "SMTP user", hint: "Empty when the server needs no sign-in" },
    { name: "password", label: "SMTP password", kind: "password" },
    {
      name: "from",
      label: "From",
      required: true,
      placeholder: "hibiki@example.com",
    },
    {
      name: "to",
      label: "To",
      required: true,
      placeholder: "ops@example.com, oncall@example.com",
      hint: "Up to 20 addresses, separated by commas",
    },
  ],
};

export const SECURITY_LABELS: [string, string][] = [
  ["tls", "TLS (port 465)"],
  ["starttls", "STARTTLS (port 587)"],
  ["none", "None: a local relay only"],
];

export interface ChannelFormProps {
  t: Translate;
  csrf: string;
  action: string;
  values: ChannelFormValues;
  /** Messages by form field: name, type, config (the type's fieldset), `type.field`. */
  errors: Record<string, string>;
  formError?: string | null;
  /** Editing: the channel's `updatedAt` when the form was made (a later change wins: 409). */
  version?: string;
  /** Editing: the channel's type, which cannot change (only its fieldset shows). */
  fixedType?: ChannelType;
  submitLabel: string;
}

export function ChannelForm(props: ChannelFormProps) {
  const { t, values, errors } = props;
  const types = props.fixedType ? [props.fixedType] : CHANNEL_TYPES;
  return (
    <form method="post" action={props.action} class="job-form channel-form" novalidate>
      <Csrf token={props.csrf} />
      {props.version && <input type="hidden" name="version" value={props.version} />}
      {props.formError && <p class="error form-error" role="alert">{props.formError}</p>}
      <TextField
        id="channel-name"
        name="name"
        label={t("Name")}
        value={values.name}
        error={errors.name}
        placeholder={t("e.g. Ops on Slack")}
        required
      />
      {props.fixedType ? <input type="hidden" name="type" value={props.fixedType} /> : (
        <Field
          id="channel-type"
          label={t("Type")}
          error={errors.type}
          hint={t("Only the settings of the chosen type are saved.")}
        >
          <select id="channel-type" name="type">
            {CHANNEL_TYPES.map((type) => (
              <option key={type} value={type} selected={values.type === type}>
                {t(TYPE_LABELS[type])}
              </option>
            ))}
          </select>
        </Field>
      )}
      {types.map((type) => (
        <ConfigFieldset
          key={type}
          t={t}
          type={type}
          values={values}
          errors={errors}
          editing={props.fixedType !== undefined}
        />
      ))}
      {props.fixedType && (
        <label class="check">
          <input type="checkbox" name="enabled" value="1" checked={values.enabled} /> {t("Enabled")}
        </label>
      )}
      <button type="submit" class="primary">{props.submitLabel}</button>
    </form>
  );
}

function ConfigFieldset(
  props: {
    t: Translate;
    type: ChannelType;
    values: ChannelFormValues;
    errors: Record<string, string>;
    editing: boolean;
  },
) {
  const { t, type, values, errors, editing } = props;
  // A config error that names no input of this type shows above them, on the chosen type only.
  const error = values.type === type ? errors.config : undefined;
  const errorId = `channel-config-${type}-error`;
  return (
    <fieldset
      id={`channel-config-${type}`}
      class={error ? "channel-config field-error" : "channel-config"}
      data-type={type}
      aria-describedby={error ? errorId : undefined}
    >
      <legend>{t("{type} settings", { type: t(TYPE_LABELS[type]) })}</legend>
      {error && <p class="error" id={errorId} role="alert">{error}</p>}
      {CONFIG_INPUTS[type].map((input) => {
        const key = `${type}.${input.name}`;
        const id = `channel-${type}-${input.name}`;
        const value = values.config[key] ?? "";
        const hint = input.kind === "secret" || input.kind === "password"
          ? [input.hint && t(input.hint), editing ? t("Shown masked: leave it to keep it.") : null]
            .filter(Boolean).join(" ")
          : input.hint && t(input.hint);
        if (input.kind === "lines") {
          return (
            <Field key={key} id={id} label={t(input.label)} error={errors[key]} hint={hint}>
              <textarea id={id} name={key} rows={2} spellcheck={false}>{value}</textarea>
            </Field>
          );
        }
        if (input.kind === "security") {
          return (
            <Field key={key} id={id} label={t(input.label)} error={errors[key]} hint={hint}>
              <select id={id} name={key}>
                {SECURITY_LABELS.map(([option, label]) => (
                  <option key={option} value={option} selected={value === option}>
                    {t(label)}
                  </option>
                ))}
              </select>
            </Field>
          );
        }
        return (
          <TextField
            key={key}
            id={id}
            name={key}
            label={t(input.label)}
            type={input.kind === "password"
              ? "password"
              : input.kind === "number"
              ? "number"
              : "text"}
            value={value}
            error={errors[key]}
            hint={hint || undefined}
            placeholder={input.placeholder}
            autocomplete={input.kind === "secret" || input.kind === "password" ? "off" : undefined}
            required={input.required}
          />
        );
      })}
    </fieldset>
  );
}

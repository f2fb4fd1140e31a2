/**
 * The job form's Alerts part: when the job counts as down and up again, when it is degraded,
 * the quorum for jobs checked from several places, which of the owner's channels hear of its
 * incidents (each with an escalation delay and whether it hears of the end), and reminders.
 * Empty fields take the documented defaults, which the placeholders and hints say. Fields are
 * named `alerts.*` (a channel's with its id), one value each, so the form reads as plain pairs.
 */
import type { ChannelType } from "../lib/alerts/types.ts";
import type { Translate } from "../lib/i18n/i18n.ts";
import { TYPE_LABELS } from "./channel_form.tsx";
import { TextField } from "./field.tsx";
import { channelPath } from "./paths.ts";

/** The alert settings as typed: strings, so a refused form comes back as it was sent. */
export interface AlertFormValues {
  failureThreshold: string;
  successThreshold: string;
  degradedLatencyMs: string;
  quorum: string;
  remindEveryMinutes: string;
  /** The channels chosen, in the form's order. */
  channels: { channelId: string; delayMinutes: string; onResolve: boolean }[];
}

export const EMPTY_ALERT_FORM: AlertFormValues = {
  failureThreshold: "",
  successThreshold: "",
  degradedLatencyMs: "",
  quorum: "",
  remindEveryMinutes: "",
  channels: [],
};

/** A channel as the form offers it. */
export interface ChannelOption {
  id: string;
  name: string;
  type: ChannelType;
  enabled: boolean;
}

/** The settings' inputs, in the order shown (API field, form id, label). */
const NUMBER_INPUTS = [
  "failureThreshold",
  "successThreshold",
  "degradedLatencyMs",
  "quorum",
  "remindEveryMinutes",
] as const;

/**
 * Which part of the fieldset an `alerts` error belongs to: the API names the setting in its
 * message (`alerts.quorum is 3: …`); `channels` for the list, null for the fieldset as a whole.
 */
export function alertErrorPlace(message: string): string | null {
  const setting = /^alerts\.(\w+)/.exec(message)?.[1];
  if (setting === "channels") return "channels";
  return NUMBER_INPUTS.find((name) => name === setting) ?? null;
}

export function AlertsFieldset(
  props: {
    t: Translate;
    values: AlertFormValues;
    /** The API's message about `alerts`, placed beside the setting it names. */
    error?: string | null;
    channels: ChannelOption[];
  },
) {
  const { t, values, error } = props;
  const place = error ? alertErrorPlace(error) : null;
  const errorAt = (name: string) => (error && place === name ? error : undefined);
  const chosen = new Map(values.channels.map((c) => [c.channelId, c]));
  return (
    <fieldset id="job-alerts" class="alerts-fieldset">
      <legend>{t("Alerts")}</legend>
      {error && place === null && <p class="error" id="job-alerts-error" role="alert">{error}</p>}
      <TextField
        id="job-alerts-failure-threshold"
        name="alerts.failureThreshold"
        label={t("Failing checks before down")}
        type="number"
        value={values.failureThreshold}
        error={errorAt("failureThreshold")}
        placeholder={t("default")}
        hint={t(
          "Empty: 3 for a job checked every 5 minutes or more often, 1 for one checked less often.",
        )}
      />
      <TextField
        id="job-alerts-success-threshold"
        name="alerts.successThreshold"
        label={t("Passing checks before up again")}
        type="number"
        value={values.successThreshold}
        error={errorAt("successThreshold")}
        placeholder="1"
        hint={t("Empty: 1.")}
      />
      <TextField
        id="job-alerts-degraded"
        name="alerts.degradedLatencyMs"
        label={t("Degraded above (ms)")}
        type="number"
        value={values.degradedLatencyMs}
        error={errorAt("degradedLatencyMs")}
        placeholder={t("never")}
        hint={t("A check that passes but takes longer than this makes the job degraded, not down.")}
      />
      <TextField
        id="job-alerts-quorum"
        name="alerts.quorum"
        label={t("Quorum")}
        type="number"
        value={values.quorum}
        error={errorAt("quorum")}
        placeholder={t("a majority")}
        hint={t(
          "Only for a job checked from several places (here and probe workers): how many must fail a check for it to count as failing. Empty: a majority.",
        )}
      />
      <div
        class={errorAt("channels") ? "field field-error" : "field"}
        role="group"
        aria-labelledby="job-alerts-channels-label"
      >
        <span class="label" id="job-alerts-channels-label">{t("Channels to tell")}</span>
        {props.channels.length === 0
          ? (
            <small class="hint">
              {t("No channels yet: add one on the Notification channels page.")}{" "}
              <a href="/admin/channels/new">{t("New channel")}</a>
            </small>
          )
          : (
            <ul class="alert-channels">
              {props.channels.map((channel) => {
                const picked = chosen.get(channel.id);
                return (
                  <li key={channel.id} data-channel={channel.id}>
                    <label class="check">
                      <input
                        type="checkbox"
                        name={`alerts.channel.${channel.id}`}
                        value="1"
                        checked={picked !== undefined}
                      />{" "}
                      {channel.name} <small>{t(TYPE_LABELS[channel.type])}</small>
                      {!channel.enabled && <small class="problem">{t("Disabled")}</small>}
                    </label>
                    <label class="inline-field">
                      {t("after (minutes)")}
                      <input
                        type="number"
                        name={`alerts.delay.${channel.id}`}
                        value={picked?.delayMinutes ?? ""}
                        placeholder="0"
                        min="0"
                        aria-label={t("{channel}: tell after (minutes)", { channel: channel.name })}
                      />
                    </label>
                    <label class="check">
                      <input
                        type="checkbox"
                        name={`alerts.onResolve.${channel.id}`}
                        value="1"
                        checked={picked ? picked.onResolve : true}
                        aria-label={t("{channel}: tell when it ends", { channel: channel.name })}
                      />{" "}
                      {t("also when it ends")}
                    </label>
                    <a href={channelPath(channel.id)} class="small">{t("Details")}</a>
                  </li>
                );
              })}
            </ul>
          )}
        <small class="hint">
          {t(
            "A delay escalates: that channel hears of the incident only if it is still open and not acknowledged after that many minutes.",
          )}
        </small>
        {errorAt("channels") && (
          <p class="error" id="job-alerts-channels-error" role="alert">{errorAt("channels")}</p>
        )}
      </div>
      <TextField
        id="job-alerts-remind"
        name="alerts.remindEveryMinutes"
        label={t("Remind every (minutes)")}
        type="number"
        value={values.remindEveryMinutes}
        error={errorAt("remindEveryMinutes")}
        placeholder={t("never")}
        hint={t("While an incident is open and not acknowledged. Empty: no reminders.")}
      />
    </fieldset>
  );
}

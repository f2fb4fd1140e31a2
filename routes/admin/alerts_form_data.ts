/**
 * Between the job form's Alerts fields (`alerts.*`) and the API's `alerts` body, both ways. An
 * empty field means the documented default: left out when creating (the server picks it for the
 * schedule), and on an edit the default passed in, so emptying a field goes back to it.
 */
import type { AlertFormValues, ChannelOption } from "../../components/alerts_fieldset.tsx";
import type { JobFormValues } from "../../components/job_form.tsx";
import { defaultAlertSettings } from "../../lib/alerts/alert_settings.ts";
import type { AlertSettings } from "../../lib/alerts/types.ts";
import { ValidationError } from "../../lib/errors.ts";
import { parseSchedule } from "../../lib/schedule/schedule.ts";
import type { JobView } from "../../lib/store/types.ts";
import type { AdminDeps } from "./deps.ts";

const CHANNEL_FIELD = "alerts.channel.";
const CHANNELS_OFFERED = 100;

export function alertFormValues(form: Record<string, string>): AlertFormValues {
  const channels: AlertFormValues["channels"] = [];
  for (const [name, value] of Object.entries(form)) {
    if (!name.startsWith(CHANNEL_FIELD) || value !== "1") continue;
    const channelId = name.slice(CHANNEL_FIELD.length);
    channels.push({
      channelId,
      delayMinutes: form[`alerts.delay.${channelId}`] ?? "",
      onResolve: form[`alerts.onResolve.${channelId}`] === "1",
    });
  }
  return {
    failureThreshold: form["alerts.failureThreshold"] ?? "",
    successThreshold: form["alerts.successThreshold"] ?? "",
    degradedLatencyMs: form["alerts.degradedLatencyMs"] ?? "",
    quorum: form["alerts.quorum"] ?? "",
    remindEveryMinutes: form["alerts.remindEveryMinutes"] ?? "",
    channels,
  };
}

export function alertValues(alerts: AlertSettings): AlertFormValues {
  const text = (n: number | null) => (n === null ? "" : String(n));
  return {
    failureThreshold: text(alerts.failureThreshold),
    successThreshold: text(alerts.successThreshold),
    degradedLatencyMs: text(alerts.degradedLatencyMs),
    quorum: text(alerts.quorum),
    remindEveryMinutes: text(alerts.remindEveryMinutes),
    channels: alerts.channels.map((c) => ({
      channelId: c.channelId,
      delayMinutes: c.delayMinutes ? String(c.delayMinutes) : "",
      onResolve: c.onResolve ?? true,
    })),
  };
}

/**
 * The API's `alerts`. `defaults` (an edit) fills empty thresholds; without it they are left
 * out. A value that is not a whole number fails naming the setting, as the API's own would.
 */
export function alertsBody(
  values: AlertFormValues,
  defaults?: Pick<AlertSettings, "failureThreshold" | "successThreshold">,
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    degradedLatencyMs: whole(values.degradedLatencyMs, "degradedLatencyMs"),
    quorum: whole(values.quorum, "quorum"),
    remindEveryMinutes: whole(values.remindEveryMinutes, "remindEveryMinutes"),
    channels: values.channels.map((c) => {
      const delay = whole(c.delayMinutes, "channels.delayMinutes");
      return {
        channelId: c.channelId,
        ...(delay ? { delayMinutes: delay } : {}),
        onResolve: c.onResolve,
      };
    }),
  };
  for (const name of ["failureThreshold", "successThreshold"] as const) {
    const value = whole(values[name], name) ?? defaults?.[name];
    if (value !== undefined) body[name] = value;
  }
  return body;
}

/** A whole number, or null when empty. */
function whole(text: string, setting: string): number | null {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  if (!/^-?\d+$/.test(trimmed)) {
    throw new ValidationError(`alerts.${setting} must be a whole number`, "alerts");
  }
  return Number(trimmed);
}

/**
 * What an emptied threshold goes back to on an edit: the defaults for the schedule typed, as a
 * new job on it would get; none when the schedule does not parse (the API says why).
 */
export function alertDefaultsFor(
  job: JobView,
  values: JobFormValues,
): Pick<AlertSettings, "failureThreshold" | "successThreshold"> | undefined {
  try {
    const schedule = parseSchedule(values.schedule, {
      timezone: values.timezone || "UTC",
      key: job.id,
    });
    return defaultAlertSettings(schedule, Date.parse(job.createdAt));
  } catch {
    return undefined;
  }
}

/** The owner's channels as the form offers them (as many as a job may name, and more). */
export async function channelOptions(
  deps: Pick<AdminDeps, "channels">,
  userId: string,
): Promise<ChannelOption[]> {
  const page = await deps.channels.list(userId, { limit: CHANNELS_OFFERED });
  return page.values.map((ch) => ({
    id: ch.id,
    name: ch.name,
    type: ch.type,
    enabled: ch.enabled,
  }));
}

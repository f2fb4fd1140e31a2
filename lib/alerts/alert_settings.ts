/**
 * A job's `alerts`: the input schema, the defaults, and the checks a schema cannot make.
 *
 * Defaults depend on how often the job runs. A monitor checked at least every 5 minutes sees
 * the odd blip (a dropped connection, a deploy), so it goes down after 3 failing intervals in
 * a row (at most 15 minutes) and up again after 1 passing one. A job that runs less often (a
 * nightly cron job) cannot wait for three runs: one failure is an incident, one success ends
 * it. Defaults are chosen when the job is created (and for records written before alerting
 * existed, when read); changing the schedule later keeps them.
 *
 * `certificateDays` has no stored default: absent means "14 days, at most a sixth of the
 * certificate's lifetime" (lib/alerts/certificate_warning.ts), which depends on each
 * certificate, so it cannot be written down as a number. `"default"` in an input removes a
 * number the job had; null turns the warning off.
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { countFireTimes, parseSchedule, type Schedule } from "../schedule/schedule.ts";
import type { Job } from "../store/types.ts";
import { certificateDaysInput } from "./certificate_warning.ts";
import { locationsOf } from "./intervals.ts";
import type { AlertSettings } from "./types.ts";

/** Fires a day at or above which a job counts as a monitor: one every 5 minutes. */
const FREQUENT_PER_DAY = 288;
const DAY_MS = 86_400_000;
const WEEK_MINUTES = 7 * 24 * 60;
/** A channel id as the channels store issues them; existence is checked separately. */
const CHANNEL_ID = /^[A-Za-z0-9_.:-]{1,100}$/;
export const MAX_CHANNELS = 20;

const channelRef = z.object({
  channelId: z.string().regex(CHANNEL_ID, "must be a channel id"),
  delayMinutes: z.number().int("must be a whole number").min(0).max(WEEK_MINUTES).optional(),
  onResolve: z.boolean({ error: "must be true or false" }).optional(),
}).strict();

/** `alerts` in a job's create or change body: any subset; the rest keeps its value. */
export const alertsInput = z.object({
  failureThreshold: z.number().int("must be a whole number").min(1).max(100),
  successThreshold: z.number().int("must be a whole number").min(1).max(100),
  degradedLatencyMs: z.number().int("must be a whole number").min(1).max(300_000).nullable(),
  quorum: z.number().int("must be a whole number").min(1).max(51).nullable(),
  channels: z.array(channelRef).max(MAX_CHANNELS, `must list at most ${MAX_CHANNELS} channels`),
  remindEveryMinutes: z.number().int("must be a whole number").min(1).max(WEEK_MINUTES)
    .nullable(),
  certificateDays: z.union([certificateDaysInput, z.literal("default")], {
    error: 'must be a whole number of days from 1 to 365, null (never), or "default"',
  }),
}).partial().strict();

export type AlertsInput = z.output<typeof alertsInput>;

/** The defaults for a job on `schedule` (see the module comment). */
export function defaultAlertSettings(schedule: Schedule, now: number): AlertSettings {
  const frequent = schedule.kind === "interval"
    ? schedule.everyMs <= 300_000
    // Fires in [now, now + 1 day): `*/5 * * * *` has its 288 wherever the day starts.
    : countFireTimes(schedule, now - 1, now + DAY_MS, FREQUENT_PER_DAY) >= FREQUENT_PER_DAY;
  return {
    failureThreshold: frequent ? 3 : 1,
    successThreshold: 1,
    degradedLatencyMs: null,
    quorum: null,
    channels: [],
    remindEveryMinutes: null,
  };
}

/** A job's settings: its own, or (a record older than alerting) the defaults. */
export function alertSettingsOf(job: Job): AlertSettings {
  if (job.alerts) return job.alerts;
  const schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
  return defaultAlertSettings(schedule, Date.parse(job.createdAt));
}

/** A job's settings: `given` over the current ones (or the defaults). */
export function resolveAlerts(
  given: AlertsInput | undefined,
  current: AlertSettings | undefined,
  defaults: () => AlertSettings,
): AlertSettings {
  const { certificateDays, ...rest } = given ?? {};
  const next: AlertSettings = { ...(current ?? defaults()), ...rest };
  if (certificateDays === "default") delete next.certificateDays;
  else if (certificateDays !== undefined) next.certificateDays = certificateDays;
  return next;
}

/** What a schema cannot check: the quorum against the job's locations, repeated channels. */
export function checkAlerts(job: Job): void {
  const alerts = job.alerts;
  if (!alerts) return;
  const locations = locationsOf(job).length;
  if (alerts.quorum !== null && alerts.quorum > Math.max(1, locations)) {
    throw new ValidationError(
      `alerts.quorum is ${alerts.quorum}: the job is checked from ${locations} location${
        locations === 1 ? "" : "s"
      }`,
      "alerts",
    );
  }
  const seen = new Set<string>();
  for (const { channelId } of alerts.channels) {
    if (seen.has(channelId)) {
      throw new ValidationError(`alerts.channels lists "${channelId}" twice`, "alerts");
    }
    seen.add(channelId);
  }
}

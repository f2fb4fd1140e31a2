/**
 * Validation of maintenance windows from the API: the body's shape with zod, then what a
 * schema cannot say (one-off or recurring, never both; end after start; the schedule and zone
 * as jobs take them). Every rejection names its field.
 */
import { z } from "zod";
import { ValidationError } from "../errors.ts";
import { nextFireTimes, parseSchedule, ScheduleError } from "../schedule/schedule.ts";
import { parseBody } from "../validation.ts";
import type { MaintenanceWindow } from "./types.ts";

/** A recurring occurrence lasts at most a week; a one-off window at most 31 days. */
export const MAX_DURATION_MINUTES = 7 * 24 * 60;
export const MAX_ONE_OFF_MS = 31 * 86_400_000;
/** Beyond this many jobs, `all: true` says it better (and the record stays small). */
export const MAX_JOB_IDS = 500;

const isoTime = z.iso.datetime({
  offset: true,
  error: "must be an ISO 8601 date and time with a zone, like 2026-03-29T01:00:00Z",
});

const fields = {
  name: z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"),
  jobIds: z.array(
    z.string({ error: "must hold job ids" }).min(1, "must not hold an empty id").max(100),
    {
      error: "must be a list of job ids",
    },
  )
    .min(1, "must list at least one job: or give all: true")
    .max(MAX_JOB_IDS, `must list at most ${MAX_JOB_IDS} jobs: give all: true for more`),
  all: z.boolean({ error: "must be true or false" }),
  start: isoTime,
  end: isoTime,
  schedule: z.string().trim().min(1, "must not be empty").max(200),
  durationMinutes: z.number({ error: "must be a number" }).int("must be a whole number")
    .min(1, `must be from 1 to ${MAX_DURATION_MINUTES} (7 days)`)
    .max(MAX_DURATION_MINUTES, `must be from 1 to ${MAX_DURATION_MINUTES} (7 days)`),
  timezone: z.string().trim().min(1, "must not be empty").max(64),
};

const bodySchema = z.object(fields).partial().strict();
type Body = z.output<typeof bodySchema>;

/** What a window's owner may set; the rest of the record is the service's. */
export type WindowFields = Pick<
  MaintenanceWindow,
  "name" | "jobIds" | "all" | "start" | "end" | "schedule" | "durationMinutes" | "timezone"
>;

const ONE_OFF_FIELDS = ["start", "end"] as const;
const RECURRING_FIELDS = ["schedule", "durationMinutes", "timezone"] as const;

/** A new window's fields, checked (except that its jobs exist, which needs the store). */
export function parseWindowInput(
  body: unknown,
  options: { now: number; id: string },
): WindowFields {
  const input = parseBody(bodySchema, body);
  if (input.name === undefined) throw new ValidationError("name is required", "name");
  const recurring = input.schedule !== undefined || input.durationMinutes !== undefined;
  if (!recurring) refuse(input, ["timezone"], "recurring", "start and end carry their offset");
  const fields: WindowFields = {
    name: input.name,
    ...coverage(input, { all: false, jobIds: [] }),
    ...(recurring
      ? {
        start: null,
        end: null,
        schedule: required(input.schedule, "schedule"),
        durationMinutes: required(input.durationMinutes, "durationMinutes"),
        timezone: input.timezone ?? "UTC",
      }
      : {
        start: normalized(required(input.start, "start", "or give schedule and durationMinutes")),
        end: normalized(required(input.end, "end")),
        schedule: null,
        durationMinutes: null,
        timezone: null,
      }),
  };
  if (recurring) refuse(input, ONE_OFF_FIELDS, "one-off", "this window has a schedule");
  checkTiming(fields, options);
  return fields;
}

/** A change to `current`; `timing` tells whether it touches when the window covers. */
export function parseWindowPatch(
  body: unknown,
  current: MaintenanceWindow,
  options: { now: number },
): { fields: WindowFields; timing: boolean } {
  const input = parseBody(bodySchema, body);
  const recurring = current.schedule !== null;
  if (recurring) refuse(input, ONE_OFF_FIELDS, "one-off", "this window is recurring");
  else refuse(input, RECURRING_FIELDS, "recurring", "this window is a one-off");
  const fields: WindowFields = {
    name: input.name ?? current.name,
    ...coverage(input, current),
    start: input.start === undefined ? current.start : normalized(input.start),
    end: input.end === undefined ? current.end : normalized(input.end),
    schedule: input.schedule ?? current.schedule,
    durationMinutes: input.durationMinutes ?? current.durationMinutes,
    timezone: input.timezone ?? current.timezone,
  };
  const timing = [...ONE_OFF_FIELDS, ...RECURRING_FIELDS].some((f) => input[f] !== undefined);
  if (timing) checkTiming(fields, { ...options, id: current.id });
  return { fields, timing };
}

/** `jobIds` or `all: true`, never both; a patch that gives neither keeps `current`'s. */
function coverage(
  input: Body,
  current: Pick<MaintenanceWindow, "all" | "jobIds">,
): Pick<MaintenanceWindow, "all" | "jobIds"> {
  if (input.all === true) {
    if (input.jobIds !== undefined) {
      throw new ValidationError(
        "jobIds cannot be given with all: true: give one of them",
        "jobIds",
      );
    }
    return { all: true, jobIds: [] };
  }
  if (input.jobIds !== undefined) return { all: false, jobIds: [...new Set(input.jobIds)] };
  const all = input.all ?? current.all;
  if (!all && current.jobIds.length === 0) {
    throw new ValidationError("jobIds is required: or give all: true to cover every job", "jobIds");
  }
  return { all, jobIds: all ? [] : current.jobIds };
}

function checkTiming(fields: WindowFields, options: { now: number; id: string }): void {
  if (fields.schedule === null) {
    const start = Date.parse(fields.start!);
    const end = Date.parse(fields.end!);
    if (end <= start) throw new ValidationError("end must be after start", "end");
    if (end - start > MAX_ONE_OFF_MS) {
      throw new ValidationError("end must be at most 31 days after start", "end");
    }
    if (end <= options.now) {
      throw new ValidationError(
        "end must be in the future: a window wholly in the past would rewrite uptime",
        "end",
      );
    }
    return;
  }
  let schedule;
  try {
    schedule = parseSchedule(fields.schedule, { timezone: fields.timezone!, key: options.id });
  } catch (error) {
    if (error instanceof ScheduleError) throw new ValidationError(error.message, error.field);
    throw error;
  }
  if (schedule.kind !== "cron") {
    throw new ValidationError("schedule must be a cron expression: @every is for jobs", "schedule");
  }
  // Occurrences starting every few seconds would be one long window expanded second by second.
  const [first, second] = nextFireTimes(schedule, options.now, { limit: 2 });
  if (second !== undefined && second - first < 60_000) {
    throw new ValidationError(
      "schedule must fire at most once a minute: each fire starts an occurrence",
      "schedule",
    );
  }
}

function required<T>(value: T | undefined, field: string, hint?: string): T {
  if (value === undefined) {
    throw new ValidationError(`${field} is required${hint ? `: ${hint}` : ""}`, field);
  }
  return value;
}

function refuse(input: Body, names: readonly (keyof Body)[], kind: string, why: string): void {
  const given = names.find((name) => input[name] !== undefined);
  if (given) throw new ValidationError(`${given} is for ${kind} windows: ${why}`, given);
}

/** The same instant in UTC, so stored times compare as text and read alike. */
function normalized(iso: string): string {
  return new Date(Date.parse(iso)).toISOString();
}

/** Between the maintenance form's strings and the API's JSON body, both ways. */
import type { MaintenanceFormValues } from "../../components/maintenance_form.tsx";
import { instantOfWallTime, wallTimeInZone } from "../../components/wall_time.ts";
import type { MaintenanceView } from "../../lib/alerts/maintenance.ts";
import { ValidationError } from "../../lib/errors.ts";

const HOUR = 3_600_000;

/** A new window: once, from the next full hour for an hour, in the viewer's zone. */
export function emptyWindowForm(now: number, jobIds: string[] = []): MaintenanceFormValues {
  const start = Math.ceil(now / HOUR) * HOUR;
  return {
    name: "",
    all: false,
    jobIds,
    kind: "once",
    start: wallTimeInZone(start, "UTC"),
    end: wallTimeInZone(start + HOUR, "UTC"),
    zone: "UTC",
    guessZone: true,
    schedule: "0 3 * * 0",
    durationMinutes: "60",
    timezone: "UTC",
  };
}

/** The form as sent (every value of repeated fields, as `formLists` reads them). */
export function windowFormValues(form: Record<string, string[]>): MaintenanceFormValues {
  const one = (name: string) => form[name]?.[0] ?? "";
  return {
    name: one("name"),
    all: one("coverage") === "all",
    jobIds: (form.jobIds ?? []).filter((id) => id !== ""),
    kind: one("kind") === "recurring" ? "recurring" : "once",
    start: one("start"),
    end: one("end"),
    zone: one("zone").trim() || "UTC",
    guessZone: false,
    schedule: one("schedule"),
    durationMinutes: one("durationMinutes"),
    timezone: one("timezone").trim() || "UTC",
  };
}

/** The form as it shows a stored window; a one-off's times in UTC until the browser moves them. */
export function windowValues(window: MaintenanceView): MaintenanceFormValues {
  const once = window.schedule === null;
  return {
    name: window.name,
    all: window.all,
    jobIds: window.jobIds,
    kind: once ? "once" : "recurring",
    start: once ? wallTimeInZone(Date.parse(window.start!), "UTC") : "",
    end: once ? wallTimeInZone(Date.parse(window.end!), "UTC") : "",
    zone: "UTC",
    guessZone: once,
    schedule: window.schedule ?? "",
    durationMinutes: window.durationMinutes === null ? "" : String(window.durationMinutes),
    timezone: window.timezone ?? "UTC",
  };
}

/** The body of `MaintenanceService.create`. */
export function windowCreateBody(values: MaintenanceFormValues): Record<string, unknown> {
  const body: Record<string, unknown> = { name: values.name, ...coverageOf(values) };
  if (values.kind === "once") return { ...body, ...spanOf(values) };
  return {
    ...body,
    schedule: values.schedule,
    durationMinutes: durationOf(values),
    timezone: values.timezone,
  };
}

/**
 * The body of `MaintenanceService.update`: when it covers is sent only if it changed, since a
 * new plan starts an ended window again and must lie in the future.
 */
export function windowPatchBody(
  values: MaintenanceFormValues,
  current: MaintenanceView,
): Record<string, unknown> {
  const body: Record<string, unknown> = { name: values.name, ...coverageOf(values) };
  if (current.schedule === null) {
    const { start, end } = spanOf(values);
    // The form shows whole minutes: a time with seconds sent back unchanged is the same time.
    const minute = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
    if (minute(start) !== minute(current.start!)) body.start = start;
    if (minute(end) !== minute(current.end!)) body.end = end;
    return body;
  }
  const duration = durationOf(values);
  if (values.schedule.trim() !== current.schedule) body.schedule = values.schedule;
  if (duration !== current.durationMinutes) body.durationMinutes = duration;
  if (values.timezone !== current.timezone) body.timezone = values.timezone;
  return body;
}

function coverageOf(values: MaintenanceFormValues): Record<string, unknown> {
  return values.all ? { all: true } : { jobIds: values.jobIds };
}

/** Start and end as ISO 8601 instants, read in the zone the form gave. */
function spanOf(values: MaintenanceFormValues): { start: string; end: string } {
  const read = (field: "start" | "end") => {
    let at: number | null;
    try {
      at = instantOfWallTime(values[field], values.zone);
    } catch {
      throw new ValidationError(`Unknown time zone "${values.zone}"`, "zone");
    }
    if (at === null) {
      throw new ValidationError(
        values[field].trim() === ""
          ? `${field} is required`
          : `${field} must be a date and time, like 2026-03-29T01:00`,
        field,
      );
    }
    return new Date(at).toISOString();
  };
  return { start: read("start"), end: read("end") };
}

function durationOf(values: MaintenanceFormValues): number {
  const text = values.durationMinutes.trim();
  if (text === "") throw new ValidationError("durationMinutes is required", "durationMinutes");
  if (!/^\d{1,6}$/.test(text)) {
    throw new ValidationError(
      "durationMinutes must be a whole number of minutes",
      "durationMinutes",
    );
  }
  return Number(text);
}

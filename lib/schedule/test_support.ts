/** Helpers shared by the schedule tests: times as ISO strings, fire lists, error checks. */
import assert from "node:assert/strict";
import { nextFireTimes, parseSchedule, type Schedule, ScheduleError } from "./schedule.ts";

export function assertEquals<T>(actual: unknown, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

export const at = (iso: string) => Date.parse(iso);
export const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");

/** The first `limit` fire times of `text` in `timezone` after `after`, as ISO strings. */
export function fires(text: string, timezone: string, after: string, limit: number): string[] {
  const schedule = parseSchedule(text, { timezone, key: "job" });
  return nextFireTimes(schedule, at(after), { limit }).map(iso);
}

export function scheduleError(
  fn: () => unknown,
  field: "schedule" | "timezone",
  message: string,
): void {
  let error: unknown;
  try {
    fn();
  } catch (thrown) {
    error = thrown;
  }
  assert(error instanceof ScheduleError, `expected a ScheduleError: ${message}`);
  assert(error instanceof RangeError);
  assertEquals(error.name, "ScheduleError");
  assertEquals(error.field, field);
  assertEquals(error.message, message);
}

/** An interval schedule with a chosen phase (and spread of its fires), in UTC. */
export const interval = (everyMs: number, phaseMs: number, spreadMs = 0): Schedule => ({
  kind: "interval",
  everyMs,
  phaseMs,
  spreadMs,
  timezone: "UTC",
});

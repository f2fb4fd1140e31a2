/**
 * Job schedules: cron expressions evaluated in an IANA time zone (cron.ts for the syntax,
 * dst.ts for daylight saving time, zone.ts for offsets), and fixed intervals (interval.ts).
 * This is the public entry: parse a schedule once, then ask for its fire times.
 *
 * All functions are pure: every time is epoch milliseconds passed in, nothing reads the clock.
 *
 * croner 9 got the DST rules wrong, and croner 11 evaluates an expression at about 20 µs per
 * call through `Intl.DateTimeFormat`, too slow for the scheduler's hot path. So cron is
 * evaluated here: the expression is compiled once to lookup tables, the next wall-clock match
 * is found by field arithmetic, and each zone's UTC offsets are cached as segments between
 * transitions. The tests hold the result to croner 11 (`fixedTimeRule: "no-wildcard"`) as a
 * reference.
 */
import { compiledCron, parseCron } from "./cron.ts";
import { nextCronTime } from "./dst.ts";
import {
  countIntervalTimes,
  isIntervalTime,
  nextIntervalTimes,
  parseInterval,
} from "./interval.ts";
import { ScheduleError } from "./schedule_error.ts";
import { zoneFor } from "./zone.ts";

export { ScheduleError };

export type Schedule =
  | { kind: "cron"; expression: string; timezone: string; seconds: boolean }
  | { kind: "interval"; everyMs: number; phaseMs: number; timezone: string };

/** Parses and validates; `key` (the job id) fixes the interval phase. */
export function parseSchedule(text: string, options: { timezone?: string; key: string }): Schedule {
  const timezone = options.timezone ?? "UTC";
  zoneFor(timezone); // validates, and keeps the zone for the scheduler
  const trimmed = text.trim();
  if (trimmed === "") throw new ScheduleError("Schedule is empty", "schedule");

  const every = /^@every(?:\s+(.*))?$/i.exec(trimmed);
  if (every) {
    return { kind: "interval", ...parseInterval((every[1] ?? "").trim(), options.key), timezone };
  }
  const { expression, seconds } = parseCron(trimmed);
  return { kind: "cron", expression, timezone, seconds };
}

/** Fire times strictly after `afterMs`, ascending, at most `limit`, and (if given) strictly before `beforeMs`. */
export function nextFireTimes(
  schedule: Schedule,
  afterMs: number,
  options: { limit: number; beforeMs?: number },
): number[] {
  if (!Number.isFinite(afterMs)) {
    throw new RangeError("Cannot list fire times: afterMs is not finite");
  }
  const before = options.beforeMs ?? Infinity;
  if (!(options.limit > 0)) return [];
  if (schedule.kind === "interval") {
    return nextIntervalTimes(schedule, afterMs, { limit: options.limit, beforeMs: before });
  }
  const cron = compiledCron(schedule.expression, schedule.seconds);
  const zone = zoneFor(schedule.timezone);
  const out: number[] = [];
  let t = afterMs;
  while (out.length < options.limit) {
    const next = nextCronTime(cron, zone, t);
    if (next === null || next >= before) break;
    out.push(next);
    t = next;
  }
  return out;
}

/** True when `atMs` is one of the schedule's fire times. */
export function isFireTime(schedule: Schedule, atMs: number): boolean {
  if (!Number.isFinite(atMs)) return false;
  if (schedule.kind === "interval") return isIntervalTime(schedule, atMs);
  const cron = compiledCron(schedule.expression, schedule.seconds);
  return nextCronTime(cron, zoneFor(schedule.timezone), atMs - 1) === atMs;
}

/** Count of fire times in (afterMs, beforeMs) without materialising them when it can (interval: arithmetic). */
export function countFireTimes(
  schedule: Schedule,
  afterMs: number,
  beforeMs: number,
  cap: number,
): number {
  if (!Number.isFinite(afterMs)) {
    throw new RangeError("Cannot count fire times: afterMs is not finite");
  }
  if (!(cap > 0) || !(beforeMs > afterMs)) return 0;
  if (schedule.kind === "interval") return countIntervalTimes(schedule, afterMs, beforeMs, cap);
  const cron = compiledCron(schedule.expression, schedule.seconds);
  const zone = zoneFor(schedule.timezone);
  let count = 0;
  let t = afterMs;
  while (count < cap) {
    const next = nextCronTime(cron, zone, t);
    if (next === null || next >= beforeMs) break;
    count++;
    t = next;
  }
  return count;
}

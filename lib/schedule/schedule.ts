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

/**
 * A parsed schedule. `shiftMs` moves every fire time that much later in absolute time (not on
 * the wall clock, so a shift across a DST change is still that many real seconds): a heartbeat
 * job fires its late check at each expected time plus its grace.
 */
export type Schedule =
  | { kind: "cron"; expression: string; timezone: string; seconds: boolean; shiftMs?: number }
  | {
    kind: "interval";
    everyMs: number;
    phaseMs: number;
    spreadMs: number;
    timezone: string;
    shiftMs?: number;
  };

export interface ParseOptions {
  timezone?: string;
  /** The job id: fixes the interval phase. */
  key: string;
  /** Fire this long after each time the expression names (see `Schedule`). */
  shiftMs?: number;
}

/** Parses and validates; `key` (the job id) fixes the interval phase. */
export function parseSchedule(text: string, options: ParseOptions): Schedule {
  const shift = options.shiftMs ?? 0;
  if (!Number.isSafeInteger(shift) || shift < 0) {
    throw new RangeError(`Cannot parse schedule: shiftMs ${shift} is not a whole number ≥ 0`);
  }
  const schedule = parseUnshifted(text, options);
  return shift === 0 ? schedule : { ...schedule, shiftMs: shift };
}

function parseUnshifted(text: string, options: ParseOptions): Schedule {
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
  const shift = schedule.shiftMs ?? 0;
  const times = unshiftedTimes(schedule, afterMs - shift, {
    limit: options.limit,
    beforeMs: before - shift,
  });
  return shift === 0 ? times : times.map((at) => at + shift);
}

function unshiftedTimes(
  schedule: Schedule,
  afterMs: number,
  options: { limit: number; beforeMs: number },
): number[] {
  const before = options.beforeMs;
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
  const at = atMs - (schedule.shiftMs ?? 0);
  if (schedule.kind === "interval") return isIntervalTime(schedule, at);
  const cron = compiledCron(schedule.expression, schedule.seconds);
  return nextCronTime(cron, zoneFor(schedule.timezone), at - 1) === at;
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
  const shift = schedule.shiftMs ?? 0;
  return countUnshifted(schedule, afterMs - shift, beforeMs - shift, cap);
}

function countUnshifted(
  schedule: Schedule,
  afterMs: number,
  beforeMs: number,
  cap: number,
): number {
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

/**
 * Job schedules: cron expressions evaluated in an IANA time zone, and fixed intervals.
 *
 * All functions are pure: every time is epoch milliseconds passed in, nothing reads the clock.
 *
 * ## Cron
 *
 * 5 fields (`minute hour day-of-month month day-of-week`) or 6 with seconds first. Each field
 * takes `*`, `?` (same as `*`), numbers, names (`JAN`–`DEC`, `SUN`–`SAT`), lists, ranges and
 * steps (`*\/15`, `8-18/2`, `5/10` meaning `5-59/10`); day-of-week 7 is Sunday. Extras: `L` in
 * day-of-month (last day), `FRI#2` (second Friday), `FRI#L` or `5L` (last Friday). Nicknames:
 * `@hourly @daily @midnight @weekly @monthly @yearly @annually`.
 *
 * Day-of-month and day-of-week combine as in Vixie cron: when both are restricted a day matches
 * either (`0 9 1 * MON` fires on the 1st and on every Monday); when either starts with `*` (or
 * is `?`) both must match. This is croner's default (`legacyMode: true`, or `domAndDow: false`
 * since croner 10), except that croner ORs a stepped `*\/2` day field where Vixie cron ANDs it.
 *
 * ## Daylight saving time (the rules of Vixie cron, as croner ≥ 10 and croner-rust apply them)
 *
 * A schedule is a *fixed-time* schedule when its second, minute and hour fields hold no `*`,
 * `?` or `/` (`30 2 * * *`, `0 30 1,13 * * *`, `0 9-17 * * 1-5`); otherwise it is an
 * *interval* schedule (`* * * * *`, `*\/15 * * * *`, `0 * * * *`, `0 *\/2 * * *`).
 *
 * - Spring forward, a wall-clock time that does not exist: a fixed-time schedule fires once, at
 *   the first instant after the gap (`30 2 * * *` in America/New_York on 2026-03-08 fires at
 *   03:00 EDT = 07:00Z). An interval schedule skips the missing times (`0 * * * *` fires at
 *   01:00 EST and then 03:00 EDT, one real hour apart).
 * - Fall back, a wall-clock time that occurs twice: a fixed-time schedule fires once, at the
 *   first occurrence (`30 1 * * *` on 2026-11-01 fires at 01:30 EDT = 05:30Z only). An interval
 *   schedule fires on both passes, so it keeps running on real elapsed time through the repeated
 *   hour (`*\/15 * * * *` fires every 15 real minutes, `0 * * * *` every real hour).
 * - Fire times are always returned in ascending real time: the whole first pass through a
 *   repeated hour comes before the second.
 *
 * croner 9 got both rules wrong (it fired skipped times 30 minutes late and dropped the second
 * pass of hourly jobs), and croner 11 evaluates an expression at about 20 µs per call through
 * `Intl.DateTimeFormat`, too slow for the scheduler's hot path. So cron is evaluated here: the
 * expression is compiled once to lookup tables, the next wall-clock match is found by field
 * arithmetic, and each zone's UTC offsets are cached as segments between transitions. The
 * tests hold the result to croner 11 (`fixedTimeRule: "no-wildcard"`) as a reference.
 *
 * Zone transitions are found by probing offsets a week apart, so two transitions less than a
 * week apart that cancel out would not be seen (tzdata has no such pair in current rules).
 *
 * ## Interval
 *
 * `@every 90s`, `@every 1h30m` (units s, m, h, d; whole seconds, 1 s to 31 days). Fire times are
 * `t ≡ phaseMs (mod everyMs)` in epoch milliseconds, independent of time zone and DST. The phase
 * is a stable hash of the job id in whole seconds, so jobs sharing a period are spread evenly over
 * it instead of all firing on the same second.
 */

import { BoundedCache } from "./bounded_cache.ts";

export type Schedule =
  | { kind: "cron"; expression: string; timezone: string; seconds: boolean }
  | { kind: "interval"; everyMs: number; phaseMs: number; timezone: string };

export class ScheduleError extends RangeError {
  override name = "ScheduleError";
  constructor(message: string, readonly field: "schedule" | "timezone") {
    super(message);
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const YEAR = 366 * DAY;

/** "Never fires" means no fire time in the five years after this fixed point (2026-01-01Z). */
const NEVER_FIRES_FROM = Date.UTC(2026, 0, 1);
const NEVER_FIRES_SPAN = 5 * YEAR;
/** How far one search looks ahead: covers `0 0 29 2 *` across a non-leap century year. */
const SEARCH_SPAN = 9 * YEAR;
const MAX_INTERVAL_MS = 31 * DAY;

const NICKNAMES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** Parses and validates; `key` (the job id) fixes the interval phase. */
export function parseSchedule(text: string, options: { timezone?: string; key: string }): Schedule {
  const timezone = options.timezone ?? "UTC";
  zoneFor(timezone); // validates, and keeps the zone for the scheduler
  const trimmed = text.trim();
  if (trimmed === "") throw new ScheduleError("Schedule is empty", "schedule");

  const every = /^@every(?:\s+(.*))?$/i.exec(trimmed);
  if (every) {
    const everyMs = parseInterval((every[1] ?? "").trim());
    const phaseMs = (stableHash(options.key) % (everyMs / SECOND)) * SECOND;
    return { kind: "interval", everyMs, phaseMs, timezone };
  }

  let expression = trimmed.split(/\s+/).join(" ");
  if (expression.startsWith("@")) {
    const expanded = NICKNAMES[expression.toLowerCase()];
    if (expanded === undefined) {
      throw new ScheduleError(`Unknown schedule nickname "${expression}"`, "schedule");
    }
    expression = expanded;
  }
  const fields = expression.split(" ").length;
  if (fields !== 5 && fields !== 6) {
    throw new ScheduleError(
      `Cron expression has ${fields} field${
        fields === 1 ? "" : "s"
      }: expected 5, or 6 with seconds first`,
      "schedule",
    );
  }
  // Compiling and the "never fires" search are done once per expression: the runner and the
  // scheduler parse a job's schedule for every fire.
  const key = cronKey(expression, fields === 6);
  if (validCron.get(key) === undefined) {
    const compiled = compileCron(expression, fields === 6);
    if (
      nextWallMatch(compiled, NEVER_FIRES_FROM - 1, NEVER_FIRES_FROM + NEVER_FIRES_SPAN) === null
    ) {
      throw new ScheduleError(`Schedule never fires: "${trimmed}"`, "schedule");
    }
    compiledCache.set(key, compiled);
    validCron.set(key, true);
  }
  return { kind: "cron", expression, timezone, seconds: fields === 6 };
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
  const out: number[] = [];
  if (!(options.limit > 0)) return out;
  if (schedule.kind === "interval") {
    const { everyMs, phaseMs } = schedule;
    let t = phaseMs + (Math.floor((afterMs - phaseMs) / everyMs) + 1) * everyMs;
    while (out.length < options.limit && t < before) {
      out.push(t);
      t += everyMs;
    }
    return out;
  }
  const cron = compiledFor(schedule);
  const zone = zoneFor(schedule.timezone);
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
  if (schedule.kind === "interval") {
    return mod(atMs - schedule.phaseMs, schedule.everyMs) === 0;
  }
  return nextCronTime(compiledFor(schedule), zoneFor(schedule.timezone), atMs - 1) === atMs;
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
  if (schedule.kind === "interval") {
    const { everyMs, phaseMs } = schedule;
    const first = Math.floor((afterMs - phaseMs) / everyMs) + 1;
    const last = Math.ceil((beforeMs - phaseMs) / everyMs) - 1;
    return Math.min(cap, Math.max(0, last - first + 1));
  }
  const cron = compiledFor(schedule);
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

// ---------------------------------------------------------------------------------------------
// Intervals

const UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };

function parseInterval(text: string): number {
  if (text === "") {
    throw new ScheduleError('Interval is missing: expected e.g. "@every 5m"', "schedule");
  }
  if (!/^(?:\d+[a-zA-Z]+)+$/.test(text)) {
    throw new ScheduleError(
      `Interval "${text}" is invalid: expected whole numbers with units s, m, h or d, e.g. "1h30m"`,
      "schedule",
    );
  }
  let ms = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)([a-zA-Z]+)/g)) {
    const unitMs = UNIT_MS[unit];
    if (unitMs === undefined) {
      throw new ScheduleError(`Unknown interval unit "${unit}"`, "schedule");
    }
    ms += Number(amount) * unitMs;
  }
  if (ms < SECOND) throw new ScheduleError("Interval must be at least 1 second", "schedule");
  if (ms > MAX_INTERVAL_MS) throw new ScheduleError("Interval must be at most 31 days", "schedule");
  return ms;
}

const utf8 = new TextEncoder();

/** FNV-1a over the UTF-8 bytes: stable across processes and releases, unlike a seeded hash. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function mod(a: number, n: number): number {
  return ((a % n) + n) % n;
}

// ---------------------------------------------------------------------------------------------
// Cron: compilation

interface CompiledCron {
  /** `next[v]` is the smallest allowed value ≥ v, or -1; one slot past the maximum is -1. */
  second: Int8Array;
  minute: Int8Array;
  hour: Int8Array;
  month: Int8Array;
  /** Day-of-month flags, index 1–31. */
  dom: Uint8Array;
  lastDom: boolean;
  /** Day-of-week flags, index 0–6. */
  dow: Uint8Array;
  /** Per weekday, bit n-1 set for `#n`. */
  nthDow: Uint8Array;
  /** Per weekday, 1 for `#L` / `nL`. */
  lastDow: Uint8Array;
  /** Vixie cron: OR the two day fields only when neither starts with `*`. */
  dayAnd: boolean;
  /** Fixed-time schedule for the DST rules (see the top of the file). */
  fixed: boolean;
}

const MONTH_NAMES = [
  "JAN",
  "FEB",
  "MAR",
  "APR",
  "MAY",
  "JUN",
  "JUL",
  "AUG",
  "SEP",
  "OCT",
  "NOV",
  "DEC",
];
const DAY_NAMES = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface FieldSpec {
  label: string;
  min: number;
  max: number;
  names?: string[];
  namesFrom?: number;
}

const SECOND_FIELD: FieldSpec = { label: "second", min: 0, max: 59 };
const MINUTE_FIELD: FieldSpec = { label: "minute", min: 0, max: 59 };
const HOUR_FIELD: FieldSpec = { label: "hour", min: 0, max: 23 };
const DOM_FIELD: FieldSpec = { label: "day-of-month", min: 1, max: 31 };
const MONTH_FIELD: FieldSpec = {
  label: "month",
  min: 1,
  max: 12,
  names: MONTH_NAMES,
  namesFrom: 1,
};
const DOW_FIELD: FieldSpec = {
  label: "day-of-week",
  min: 0,
  max: 7,
  names: DAY_NAMES,
  namesFrom: 0,
};

function compileCron(expression: string, seconds: boolean): CompiledCron {
  const parts = expression.split(" ");
  if (!seconds) parts.unshift("0");
  const [sec, min, hour, dom, month, dow] = parts;

  const domFlags = new Uint8Array(32);
  let lastDom = false;
  for (const item of dom.split(",")) {
    if (item.toUpperCase() === "L") lastDom = true;
    else fillItem(domFlags, item, DOM_FIELD, dom);
  }

  const dowFlags = new Uint8Array(8);
  const nthDow = new Uint8Array(7);
  const lastDow = new Uint8Array(7);
  for (const item of dow.split(",")) {
    const special = /^([^#]+)(?:#([1-5L])|(L))$/i.exec(item);
    if (special) {
      const day = parseValue(special[1], DOW_FIELD, dow) % 7;
      const nth = special[2]?.toUpperCase();
      if (nth === undefined || nth === "L") lastDow[day] = 1;
      else nthDow[day] |= 1 << (Number(nth) - 1);
    } else {
      fillItem(dowFlags, item, DOW_FIELD, dow);
    }
  }
  if (dowFlags[7]) dowFlags[0] = 1;

  const isStar = (field: string) => field.startsWith("*") || field === "?";
  const isWild = (field: string) => /[*?/]/.test(field);
  return {
    second: nextTable(field(sec, SECOND_FIELD)),
    minute: nextTable(field(min, MINUTE_FIELD)),
    hour: nextTable(field(hour, HOUR_FIELD)),
    month: nextTable(field(month, MONTH_FIELD)),
    dom: domFlags,
    lastDom,
    dow: dowFlags.subarray(0, 7),
    nthDow,
    lastDow,
    dayAnd: isStar(dom) || isStar(dow),
    fixed: !isWild(sec) && !isWild(min) && !isWild(hour),
  };
}

function field(text: string, spec: FieldSpec): Uint8Array {
  const flags = new Uint8Array(spec.max + 1);
  for (const item of text.split(",")) fillItem(flags, item, spec, text);
  return flags;
}

function fillItem(flags: Uint8Array, item: string, spec: FieldSpec, whole: string): void {
  const [range, stepText, extra] = item.split("/");
  if (extra !== undefined || range === "") throw invalidField(spec, whole);
  let step = 1;
  if (stepText !== undefined) {
    if (!/^\d+$/.test(stepText) || Number(stepText) < 1) throw invalidField(spec, whole);
    step = Number(stepText);
  }
  let from: number;
  let to: number;
  if (range === "*" || range === "?") {
    from = spec.min;
    to = spec.max === 7 ? 6 : spec.max;
  } else {
    const bounds = range.split("-");
    if (bounds.length > 2) throw invalidField(spec, whole);
    from = parseValue(bounds[0], spec, whole);
    to = bounds.length === 2
      ? parseValue(bounds[1], spec, whole)
      : stepText === undefined
      ? from
      : spec.max;
    if (from > to) {
      throw new ScheduleError(
        `Cron ${spec.label} field is invalid: range "${range}" runs backwards`,
        "schedule",
      );
    }
  }
  for (let v = from; v <= to; v += step) flags[v] = 1;
}

function parseValue(text: string, spec: FieldSpec, whole: string): number {
  let value: number;
  if (/^\d+$/.test(text)) value = Number(text);
  else {
    const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
    if (index < 0) throw invalidField(spec, whole);
    value = index + (spec.namesFrom ?? 0);
  }
  if (value < spec.min || value > spec.max) {
    throw new ScheduleError(
      `Cron ${spec.label} field is invalid: ${value} is outside ${spec.min}-${spec.max}`,
      "schedule",
    );
  }
  return value;
}

function invalidField(spec: FieldSpec, whole: string): ScheduleError {
  return new ScheduleError(`Cron ${spec.label} field is invalid: "${whole}"`, "schedule");
}

function nextTable(flags: Uint8Array): Int8Array {
  const next = new Int8Array(flags.length + 1).fill(-1);
  for (let v = flags.length - 1; v >= 0; v--) next[v] = flags[v] ? v : next[v + 1];
  return next;
}

// ---------------------------------------------------------------------------------------------
// Cron: evaluation

/**
 * The first wall-clock second strictly after `wallMs` (wall-clock time written as if it were
 * UTC) that matches, or null when none comes before `limitMs`.
 */
function nextWallMatch(cron: CompiledCron, wallMs: number, limitMs: number): number | null {
  const start = new Date((Math.floor(wallMs / SECOND) + 1) * SECOND);
  let year = start.getUTCFullYear();
  let month = start.getUTCMonth() + 1;
  let day = start.getUTCDate();
  let hour = start.getUTCHours();
  let minute = start.getUTCMinutes();
  let second = start.getUTCSeconds();
  let dayStart = Date.UTC(year, month - 1, day);
  let dim = daysInMonth(year, month);

  const nextDay = () => {
    hour = minute = second = 0;
    if (++day > dim) {
      day = 1;
      if (++month > 12) {
        month = 1;
        year++;
      }
      dim = daysInMonth(year, month);
    }
    dayStart += DAY;
  };

  while (dayStart < limitMs) {
    if (cron.month[month] !== month) {
      const next = cron.month[month];
      if (next < 0) {
        year++;
        month = cron.month[1];
      } else month = next;
      day = 1;
      hour = minute = second = 0;
      dim = daysInMonth(year, month);
      dayStart = Date.UTC(year, month - 1, 1);
      continue;
    }
    if (!dayMatches(cron, day, dim, mod(dayStart / DAY + 4, 7))) {
      nextDay();
      continue;
    }
    const h = cron.hour[hour];
    if (h < 0) {
      nextDay();
      continue;
    }
    if (h !== hour) {
      hour = h;
      minute = second = 0;
    }
    const m = cron.minute[minute];
    if (m < 0) {
      minute = second = 0;
      if (++hour > 23) nextDay();
      continue;
    }
    if (m !== minute) {
      minute = m;
      second = 0;
    }
    const s = cron.second[second];
    if (s < 0) {
      second = 0;
      if (++minute > 59) {
        minute = 0;
        if (++hour > 23) nextDay();
      }
      continue;
    }
    const match = dayStart + hour * HOUR + minute * MINUTE + s * SECOND;
    return match < limitMs ? match : null;
  }
  return null;
}

function dayMatches(cron: CompiledCron, day: number, dim: number, weekday: number): boolean {
  const domMatch = cron.dom[day] === 1 || (cron.lastDom && day === dim);
  const dowMatch = cron.dow[weekday] === 1 ||
    (cron.nthDow[weekday] & (1 << Math.floor((day - 1) / 7))) !== 0 ||
    (cron.lastDow[weekday] === 1 && day + 7 > dim);
  return cron.dayAnd ? domMatch && dowMatch : domMatch || dowMatch;
}

function daysInMonth(year: number, month: number): number {
  if (month !== 2) return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** The first fire time strictly after `afterMs`, applying the DST rules at the top of the file. */
function nextCronTime(cron: CompiledCron, zone: Zone, afterMs: number): number | null {
  let t = afterMs;
  let segment = zone.segmentAt(t);
  // Each pass either answers or moves to the next offset segment (about two a year).
  for (let pass = 0; pass < 64; pass++) {
    const offset = segment.offset;
    const wall = nextWallMatch(cron, t + offset, t + offset + SEARCH_SPAN);
    if (wall === null) return null;
    const instant = wall - offset;
    // Coverage of the zone grows a week at a time; an extension with the same offset lengthens
    // this segment in place, so only a different segment is a real transition.
    while (instant >= segment.end && zone.segmentAt(segment.end) === segment);
    if (instant < segment.end) {
      if (cron.fixed && isSecondPass(zone, segment, wall)) {
        t = instant;
        continue;
      }
      return instant;
    }
    const following = zone.segmentAt(segment.end);
    // Spring forward: wall times [end + offset, end + following.offset) never happen.
    if (cron.fixed && wall < segment.end + following.offset) return segment.end;
    t = segment.end - 1;
    segment = following;
  }
  return null;
}

/** True when `wall` in `segment` repeats a wall-clock time already passed before a fall-back. */
function isSecondPass(zone: Zone, segment: Segment, wall: number): boolean {
  const previous = zone.segmentAt(segment.start - 1);
  return previous.offset > segment.offset && wall < segment.start + previous.offset;
}

// ---------------------------------------------------------------------------------------------
// Time zones

interface Segment {
  /** Instants [start, end) share one UTC offset; bounds are real transitions or coverage ends. */
  start: number;
  end: number;
  offset: number;
}

class Zone {
  readonly #format: Intl.DateTimeFormat | null;
  /** Contiguous, ascending; neighbours always differ in offset. */
  #segments: Segment[] = [];
  #last: Segment | null = null;

  constructor(timezone: string) {
    this.#format = timezone.toUpperCase() === "UTC" ? null : new Intl.DateTimeFormat("en-US", {
      timeZone: timezone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  }

  segmentAt(t: number): Segment {
    const last = this.#last;
    if (last !== null && t >= last.start && t < last.end) return last;
    this.#cover(t);
    const segments = this.#segments;
    let lo = 0;
    let hi = segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (segments[mid].start <= t) lo = mid;
      else hi = mid - 1;
    }
    return (this.#last = segments[lo]);
  }

  #cover(t: number): void {
    const segments = this.#segments;
    const first = segments[0];
    const last = segments[segments.length - 1];
    // Far from what is known (or too much known): start afresh rather than walk week by week.
    if (
      first === undefined || t < first.start - 2 * YEAR || t >= last.end + 2 * YEAR ||
      segments.length > 512
    ) {
      const at = Math.floor(t / SECOND) * SECOND;
      this.#segments = [{ start: at, end: at + SECOND, offset: this.#offsetAt(at) }];
      this.#last = null;
    }
    while (t >= this.#segments[this.#segments.length - 1].end) this.#extendForward();
    while (t < this.#segments[0].start) this.#extendBackward();
  }

  #extendForward(): void {
    const last = this.#segments[this.#segments.length - 1];
    const known = last.end - SECOND;
    const probe = known + WEEK;
    if (this.#offsetAt(probe) === last.offset) {
      last.end = probe + SECOND;
      return;
    }
    const change = this.#firstChange(known, probe, last.offset);
    last.end = change;
    this.#segments.push({ start: change, end: change + SECOND, offset: this.#offsetAt(change) });
  }

  #extendBackward(): void {
    const first = this.#segments[0];
    const probe = first.start - WEEK;
    const probeOffset = this.#offsetAt(probe);
    if (probeOffset === first.offset) {
      first.start = probe;
      return;
    }
    const change = this.#firstChange(probe, first.start, probeOffset);
    first.start = change;
    this.#segments.unshift({ start: change - SECOND, end: change, offset: probeOffset });
  }

  /** The first whole second in (lo, hi] whose offset is not `offset`, given offsetAt(lo) is. */
  #firstChange(lo: number, hi: number, offset: number): number {
    while (hi - lo > SECOND) {
      const mid = lo + Math.floor((hi - lo) / 2 / SECOND) * SECOND;
      if (this.#offsetAt(mid) === offset) lo = mid;
      else hi = mid;
    }
    return hi;
  }

  /** UTC offset in ms at instant `t` (a whole second). */
  #offsetAt(t: number): number {
    if (this.#format === null) return 0;
    let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
    for (const part of this.#format.formatToParts(t)) {
      const value = Number(part.value);
      switch (part.type) {
        case "year":
          year = value;
          break;
        case "month":
          month = value;
          break;
        case "day":
          day = value;
          break;
        case "hour":
          hour = value;
          break;
        case "minute":
          minute = value;
          break;
        case "second":
          second = value;
          break;
      }
    }
    const wall = new Date(0);
    wall.setUTCFullYear(year, month - 1, day);
    wall.setUTCHours(hour, minute, second, 0);
    return wall.getTime() - Math.floor(t / SECOND) * SECOND;
  }
}

function validateTimezone(timezone: string): void {
  if (timezone.trim() === "") throw new ScheduleError("Time zone is empty", "timezone");
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: timezone });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new ScheduleError(`Unknown time zone "${timezone}"`, "timezone");
  }
}

// ---------------------------------------------------------------------------------------------
// Caches: the scheduler asks about thousands of jobs a minute, mostly the same few expressions.

const compiledCache = new BoundedCache<string, CompiledCron>();
/** Expressions already compiled and found to fire. */
const validCron = new BoundedCache<string, true>();
const zoneCache = new BoundedCache<string, Zone>();

function cronKey(expression: string, seconds: boolean): string {
  return (seconds ? "6 " : "5 ") + expression;
}

function compiledFor(schedule: Extract<Schedule, { kind: "cron" }>): CompiledCron {
  const key = cronKey(schedule.expression, schedule.seconds);
  const hit = compiledCache.get(key);
  if (hit !== undefined) return hit;
  const fields = schedule.expression.split(" ").length;
  if (fields !== (schedule.seconds ? 6 : 5)) {
    throw new ScheduleError(
      `Cron expression has ${fields} fields: expected ${schedule.seconds ? 6 : 5}`,
      "schedule",
    );
  }
  return compiledCache.set(key, compileCron(schedule.expression, schedule.seconds));
}

function zoneFor(timezone: string): Zone {
  const hit = zoneCache.get(timezone);
  if (hit !== undefined) return hit;
  validateTimezone(timezone);
  return zoneCache.set(timezone, new Zone(timezone));
}

/**
 * Cron expressions: syntax, compilation to lookup tables, and the next wall-clock match. Zones
 * and DST are dst.ts's business: here a wall-clock time is written as if it were UTC.
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
 * The expression is compiled once to lookup tables and the next match is found by field
 * arithmetic, not by trying second after second (see schedule.ts for the figures).
 */
import { BoundedCache } from "../bounded_cache.ts";
import { ScheduleError } from "./schedule_error.ts";
import { DAY, HOUR, MINUTE, SECOND, YEAR } from "./units.ts";

/** "Never fires" means no fire time in the five years after this fixed point (2026-01-01Z). */
const NEVER_FIRES_FROM = Date.UTC(2026, 0, 1);
const NEVER_FIRES_SPAN = 5 * YEAR;

const NICKNAMES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/**
 * Reads a cron expression or nickname (`text` trimmed, not empty): whitespace collapsed, the
 * nickname expanded, every field checked, and refused when it never fires.
 */
export function parseCron(text: string): { expression: string; seconds: boolean } {
  let expression = text.split(/\s+/).join(" ");
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
      throw new ScheduleError(`Schedule never fires: "${text}"`, "schedule");
    }
    compiledCache.set(key, compiled);
    validCron.set(key, true);
  }
  return { expression, seconds: fields === 6 };
}

export interface CompiledCron {
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
  /** Fixed-time schedule for the DST rules (see dst.ts). */
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
// Matching wall-clock times

/**
 * The first wall-clock second strictly after `wallMs` (wall-clock time written as if it were
 * UTC) that matches, or null when none comes before `limitMs`.
 */
export function nextWallMatch(cron: CompiledCron, wallMs: number, limitMs: number): number | null {
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
    if (!dayMatches(cron, day, dim, weekday(dayStart))) {
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

/** 0 for Sunday: day 0 of the epoch was a Thursday. */
function weekday(dayStartMs: number): number {
  return (((dayStartMs / DAY + 4) % 7) + 7) % 7;
}

// ---------------------------------------------------------------------------------------------
// Caches: the scheduler asks about thousands of jobs a minute, mostly the same few expressions.

const compiledCache = new BoundedCache<string, CompiledCron>();
/** Expressions already compiled and found to fire. */
const validCron = new BoundedCache<string, true>();

function cronKey(expression: string, seconds: boolean): string {
  return (seconds ? "6 " : "5 ") + expression;
}

/** The compiled form of an expression parseCron gave, compiled once. */
export function compiledCron(expression: string, seconds: boolean): CompiledCron {
  const key = cronKey(expression, seconds);
  const hit = compiledCache.get(key);
  if (hit !== undefined) return hit;
  const fields = expression.split(" ").length;
  if (fields !== (seconds ? 6 : 5)) {
    throw new ScheduleError(
      `Cron expression has ${fields} fields: expected ${seconds ? 6 : 5}`,
      "schedule",
    );
  }
  return compiledCache.set(key, compileCron(expression, seconds));
}

/**
 * Fixed intervals: `@every 90s`, `@every 1h30m` (units s, m, h, d; whole seconds, 1 s to 31
 * days). The job's intervals start at `t ≡ phaseMs (mod everyMs)` in epoch milliseconds,
 * independent of time zone and DST; the phase is a stable hash of the job id in whole seconds,
 * so jobs sharing a period are spread evenly over it instead of all firing on the same second.
 * Workers check at whole-second offsets of these intervals (seed 002), and alerting counts by
 * them.
 *
 * A job's own fires come `spreadMs` (0–999, another hash of the id) after its intervals' start:
 * 10,000 monitors `@every 20s` are 500 fires a second, and started together, on the second,
 * each one's place in that burst (and so its lateness) changed from one interval to the next by
 * tens of milliseconds (bench `monitors`: |gap − 20 s| p99 186 ms; 12 ms spread over the second).
 * Fires claimed before the spread existed fell on the interval's start: `isLegacyIntervalTime`
 * lets them run.
 */
import { ScheduleError } from "./schedule_error.ts";
import { DAY, HOUR, MINUTE, SECOND } from "./units.ts";

export interface Interval {
  everyMs: number;
  /** Where the job's intervals start (whole seconds). */
  phaseMs: number;
  /** How far after its interval's start a job's own fire comes (0–999 ms). */
  spreadMs: number;
}

const MAX_INTERVAL_MS = 31 * DAY;
const UNIT_MS: Record<string, number> = { s: SECOND, m: MINUTE, h: HOUR, d: DAY };

/** Reads the text after `@every`; `key` (the job id) fixes the phase. */
export function parseInterval(text: string, key: string): Interval {
  const everyMs = parseDuration(text);
  return {
    everyMs,
    phaseMs: (stableHash(key) % (everyMs / SECOND)) * SECOND,
    spreadMs: stableHash(`${key}/spread`) % SECOND,
  };
}

function parseDuration(text: string): number {
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

/** Fire times strictly after `afterMs` and strictly before `beforeMs`, at most `limit`. */
export function nextIntervalTimes(
  interval: Interval,
  afterMs: number,
  options: { limit: number; beforeMs: number },
): number[] {
  const { everyMs } = interval;
  const phaseMs = firePhase(interval);
  const out: number[] = [];
  let t = phaseMs + (Math.floor((afterMs - phaseMs) / everyMs) + 1) * everyMs;
  while (out.length < options.limit && t < options.beforeMs) {
    out.push(t);
    t += everyMs;
  }
  return out;
}

export function isIntervalTime(interval: Interval, atMs: number): boolean {
  return mod(atMs - firePhase(interval), interval.everyMs) === 0;
}

/** Whether `atMs` starts one of the intervals: a fire claimed before fires were spread. */
export function isLegacyIntervalTime({ everyMs, phaseMs }: Interval, atMs: number): boolean {
  return mod(atMs - phaseMs, everyMs) === 0;
}

/** Count of fire times in (afterMs, beforeMs), at most `cap`: arithmetic, nothing listed. */
export function countIntervalTimes(
  interval: Interval,
  afterMs: number,
  beforeMs: number,
  cap: number,
): number {
  const { everyMs } = interval;
  const phaseMs = firePhase(interval);
  const first = Math.floor((afterMs - phaseMs) / everyMs) + 1;
  const last = Math.ceil((beforeMs - phaseMs) / everyMs) - 1;
  return Math.min(cap, Math.max(0, last - first + 1));
}

/** Where in the period a job's own fires come. */
function firePhase({ everyMs, phaseMs, spreadMs }: Interval): number {
  return (phaseMs + spreadMs) % everyMs;
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

/**
 * IANA time zones as the schedule evaluator needs them: the UTC offset at any instant, cached
 * as segments between transitions so that asking again costs a comparison, not a call to
 * `Intl.DateTimeFormat.formatToParts` (about 2 µs each, measured on Deno 2.9).
 *
 * Zone transitions are found by probing offsets a week apart, so two transitions less than a
 * week apart that cancel out would not be seen (tzdata has no such pair in current rules).
 */
import { BoundedCache } from "../bounded_cache.ts";
import { ScheduleError } from "./schedule_error.ts";
import { SECOND, WEEK, YEAR } from "./units.ts";

export interface Segment {
  /** Instants [start, end) share one UTC offset; bounds are real transitions or coverage ends. */
  start: number;
  end: number;
  offset: number;
}

export class Zone {
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

/** Zones are kept: the scheduler asks about thousands of jobs a minute, in a few zones. */
const zoneCache = new BoundedCache<string, Zone>();

/** The zone named `timezone` (an IANA name or alias, or "UTC"); throws ScheduleError if unknown. */
export function zoneFor(timezone: string): Zone {
  const hit = zoneCache.get(timezone);
  if (hit !== undefined) return hit;
  validateTimezone(timezone);
  return zoneCache.set(timezone, new Zone(timezone));
}

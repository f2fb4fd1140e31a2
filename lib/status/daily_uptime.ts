/**
 * Daily uptime for a status page's 90-day bar, from incidents and maintenance spans alone (no
 * runs are read), in UTC days: a day's figure is `uptimeBetween` over the part of the day the
 * job existed, up to now for today.
 *
 * `DayCache` keeps past days per job. A past day changes only when (a) an incident's span
 * moves into it, which happens only with a change of the job's alert state (an incident opens
 * with its streak's start, possibly before midnight, and resolves with its recovery streak's
 * start): the cache is keyed by the state's `incidentId` and `since`, so such a change drops the
 * job's days; or (b) a maintenance window covering past time is changed or deleted: the days
 * are kept at most `DAY_CACHE_TTL_MS`, which bounds that staleness.
 */
import { BoundedCache } from "../bounded_cache.ts";
import { type Span, uptimeBetween } from "../alerts/uptime.ts";

export const DAY_MS = 86_400_000;
/** Days on the bar, today included. */
export const BAR_DAYS = 90;
/** How long past days are trusted without a state change: late maintenance edits show after this. */
export const DAY_CACHE_TTL_MS = 3_600_000;

export interface DayFigures {
  /** `YYYY-MM-DD` (UTC). */
  date: string;
  /** Share of the counted time not inside incidents; null when no time counts (see `band`). */
  uptime: number | null;
  /** The part of the day that counts: the job existed, not in maintenance (ms). */
  countedMs: number;
  downMs: number;
  maintenanceMs: number;
  /** Incidents overlapping the counted part of the day. */
  incidents: number;
}

/** The colour band of a day, for the bar (classes in static/status.css). */
export type DayBand = "none" | "maintenance" | "ok" | "minor" | "partial" | "major";

/**
 * Bands by uptime: ≥ 99.9 % `ok`, ≥ 99 % `minor`, ≥ 95 % `partial`, below `major`; a day with
 * no counted time is `maintenance` when maintenance filled it, else `none` (no data: before
 * the job existed).
 */
export function band(day: DayFigures): DayBand {
  if (day.uptime === null) return day.maintenanceMs > 0 ? "maintenance" : "none";
  if (day.uptime >= 0.999) return "ok";
  if (day.uptime >= 0.99) return "minor";
  if (day.uptime >= 0.95) return "partial";
  return "major";
}

export function dayStartOf(at: number): number {
  return Math.floor(at / DAY_MS) * DAY_MS;
}

/** One day's figures: from the later of the day's start and `created`, to its end or `now`. */
export function dayFigures(
  dayStart: number,
  options: {
    now: number;
    created: number;
    incidents: readonly Span[];
    maintenance: readonly Span[];
  },
): DayFigures {
  const from = Math.max(dayStart, options.created);
  const to = Math.min(dayStart + DAY_MS, options.now);
  const date = new Date(dayStart).toISOString().slice(0, 10);
  if (!(to > from)) {
    return { date, uptime: null, countedMs: 0, downMs: 0, maintenanceMs: 0, incidents: 0 };
  }
  const figures = uptimeBetween(from, to, options.incidents, options.maintenance);
  const incidents = options.incidents.filter(([s, e]) => s < to && e > from).length;
  return {
    date,
    uptime: figures.uptime,
    countedMs: figures.countedMs,
    downMs: figures.downMs,
    maintenanceMs: figures.maintenanceMs,
    incidents,
  };
}

/** The first day of the bar ending at `now`'s day. */
export function barStart(now: number): number {
  return dayStartOf(now) - (BAR_DAYS - 1) * DAY_MS;
}

interface JobDays {
  fingerprint: string;
  expiresAt: number;
  days: Map<number, DayFigures>;
}

/** Past days' figures per job, kept while the job's state fingerprint holds (see above). */
export class DayCache {
  readonly #jobs: BoundedCache<string, JobDays>;

  constructor(limit = 20_000) {
    this.#jobs = new BoundedCache(limit);
  }

  /** The cached past days of a job still valid at `now` with this fingerprint. */
  days(key: string, fingerprint: string, now: number): Map<number, DayFigures> {
    const entry = this.#jobs.get(key);
    if (entry && entry.fingerprint === fingerprint && entry.expiresAt > now) return entry.days;
    const fresh: JobDays = { fingerprint, expiresAt: now + DAY_CACHE_TTL_MS, days: new Map() };
    this.#jobs.set(key, fresh);
    return fresh.days;
  }
}

/**
 * One maintenance window's coverage in time, worked out from its record. A one-off window
 * covers `[start, end)`; a recurring one covers `[fire, fire + durationMinutes)` for each fire
 * of its cron schedule in its zone (lib/schedule/, so DST follows the jobs' rules: a fire in
 * the spring-forward gap moves to the first instant after it, a fixed-time one fires once on
 * the fall-back day). Occurrences last real minutes, so a 2-hour window that starts just before
 * a clock change still lasts two hours. Ending a window early (`endedAt`) cuts every span
 * there: nothing is covered from then on.
 *
 * Built once per version of a window (the calendar keeps them) and asked many times: the last
 * answer's span is kept, so the hot path's repeated questions about "now" cost a comparison,
 * and expanded spans are kept for the range asked (plus a day ahead), so the uptime of many
 * jobs over 90 days expands a recurring window once.
 */
import type { MaintenanceWindow } from "./types.ts";
import { coverageUntil } from "../store/maintenance.ts";
import { nextFireTimes, parseSchedule, type Schedule } from "../schedule/schedule.ts";

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Expanded spans are kept this far past the end asked for: the next asks move with the clock. */
const LOOKAHEAD_MS = DAY;
/** Beyond this, a range is expanded for the one question and not kept (uptime asks ≤ 90 d). */
const MAX_KEPT_RANGE_MS = 100 * DAY;
/** Fires read per call while expanding. */
const BATCH = 1000;

export type Span = [number, number];

export class WindowCoverage {
  /** From this instant on, the window covers nothing. */
  readonly until: number;
  /** Jobs covered; null when every job of the owner is. */
  readonly jobs: ReadonlySet<string> | null;
  readonly #schedule: Schedule | null;
  readonly #durationMs: number;
  readonly #start: number;
  /** The last `coverEndAt` answer: for `at` in [lo, hi) the answer is `end`. */
  #memo = { lo: 0, hi: 0, end: null as number | null };
  #expanded: { from: number; to: number; spans: Span[] } | null = null;
  /** Times spans were worked out from the schedule (not served from the kept ones). */
  expansions = 0;

  readonly window: MaintenanceWindow;

  constructor(record: MaintenanceWindow) {
    this.window = record;
    this.until = coverageUntil(record);
    this.jobs = record.all ? null : new Set(record.jobIds);
    if (record.schedule !== null) {
      this.#schedule = parseSchedule(record.schedule, {
        timezone: record.timezone ?? "UTC",
        key: record.id,
      });
      this.#durationMs = (record.durationMinutes ?? 0) * MINUTE;
      this.#start = -Infinity;
    } else {
      this.#schedule = null;
      this.#start = Date.parse(record.start ?? "");
      this.#durationMs = 0;
    }
  }

  /** The end of the occurrence covering `at` (epoch ms), null when none does. */
  coverEndAt(at: number): number | null {
    const memo = this.#memo;
    if (at >= memo.lo && at < memo.hi) return memo.end;
    if (at >= this.until) return this.#remember(at, Infinity, null);
    const schedule = this.#schedule;
    if (schedule === null) {
      if (at < this.#start) return this.#remember(-Infinity, this.#start, null);
      return this.#remember(this.#start, this.until, this.until);
    }
    // An occurrence [fire, fire + duration) covers `at` when its fire is in (at - duration, at].
    const [fire] = nextFireTimes(schedule, at - this.#durationMs, { limit: 1, beforeMs: at + 1 });
    if (fire !== undefined) {
      const end = Math.min(fire + this.#durationMs, this.until);
      return this.#remember(fire, end, end);
    }
    // Nothing covers `at`, nor anything before the next fire.
    const [next] = nextFireTimes(schedule, at, { limit: 1, beforeMs: this.until });
    return this.#remember(at, next ?? Infinity, null);
  }

  #remember(lo: number, hi: number, end: number | null): number | null {
    this.#memo = { lo, hi, end };
    return end;
  }

  /** The occurrence covering `at`, or else the next one; null when none is left. */
  occurrenceAt(at: number): Span | null {
    if (at >= this.until) return null;
    const schedule = this.#schedule;
    if (schedule === null) return this.#start < this.until ? [this.#start, this.until] : null;
    const [fire] = nextFireTimes(schedule, at - this.#durationMs, {
      limit: 1,
      beforeMs: this.until,
    });
    return fire === undefined ? null : [fire, Math.min(fire + this.#durationMs, this.until)];
  }

  /** Covered spans overlapping `[from, to)`, merged, in order and clipped to the range. */
  spans(from: number, to: number): Span[] {
    if (!(to > from)) return [];
    const kept = this.#expanded;
    if (kept && from >= kept.from && to <= kept.to) return clip(kept.spans, from, to);
    let lo = from;
    let hi = to + LOOKAHEAD_MS;
    if (kept && hi >= kept.from && lo <= kept.to) {
      lo = Math.min(lo, kept.from);
      hi = Math.max(hi, kept.to);
    }
    if (hi - lo > MAX_KEPT_RANGE_MS) return this.#expand(from, to);
    this.#expanded = { from: lo, to: hi, spans: this.#expand(lo, hi) };
    return clip(this.#expanded.spans, from, to);
  }

  /** Ends of covered spans in `[from, to)`: where coverage really stopped, not a range edge. */
  endsIn(from: number, to: number): number[] {
    // One millisecond either side: a span ending at `from` shows its real end, and one that
    // goes on past `to` is cut at `to + 1`, outside the range.
    return this.spans(from - 1, to + 1).map(([, end]) => end).filter((e) => e >= from && e < to);
  }

  #expand(from: number, to: number): Span[] {
    this.expansions++;
    const end = Math.min(to, this.until);
    const schedule = this.#schedule;
    if (schedule === null) {
      const lo = Math.max(from, this.#start);
      return lo < end ? [[lo, end]] : [];
    }
    const out: Span[] = [];
    let after = from - this.#durationMs;
    for (;;) {
      const fires = nextFireTimes(schedule, after, { limit: BATCH, beforeMs: end });
      for (const fire of fires) {
        add(out, Math.max(fire, from), Math.min(fire + this.#durationMs, end));
      }
      if (fires.length < BATCH) return out;
      after = fires[fires.length - 1];
    }
  }
}

/** Appends `[start, end)` to spans in start order, merging it into the last when they touch. */
function add(spans: Span[], start: number, end: number): void {
  if (!(end > start)) return;
  const last = spans[spans.length - 1];
  if (last && start <= last[1]) last[1] = Math.max(last[1], end);
  else spans.push([start, end]);
}

/** The parts of sorted, merged `spans` inside `[from, to)`. */
function clip(spans: readonly Span[], from: number, to: number): Span[] {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (spans[mid][1] <= from) lo = mid + 1;
    else hi = mid;
  }
  const out: Span[] = [];
  for (let i = lo; i < spans.length && spans[i][0] < to; i++) {
    out.push([Math.max(spans[i][0], from), Math.min(spans[i][1], to)]);
  }
  return out;
}

/** Merges spans from several windows into one ordered list. */
export function mergeSpans(lists: readonly Span[][]): Span[] {
  if (lists.length === 1) return lists[0];
  const all = lists.flat().sort((a, b) => a[0] - b[0]);
  const out: Span[] = [];
  for (const [start, end] of all) add(out, start, end);
  return out;
}

/**
 * The maintenance calendar alerting asks on its hot path: is this job covered now (for every
 * interval decision of every job, hundreds a second), which spans were covered (uptime, up to
 * 90 days), and which coverage ended lately (the chore that reopens failing jobs).
 *
 * An owner's windows are few, so they are kept in memory, built into `WindowCoverage`s and
 * indexed by job; a question costs a map lookup and, per window that names the job, a
 * comparison against its last answer. They are read again when this process changes them
 * (`invalidate`) and, because several processes may share the store, at the first question
 * after `ttlMs` (10 s): a window made or changed by another process applies there within that.
 * Built coverages are kept per window version (its covering fields), so reading an owner's
 * windows again keeps what they had worked out (expanded spans, the last answer).
 */
import { BoundedCache } from "../bounded_cache.ts";
import type { Clock } from "../clock.ts";
import type { MaintenanceStore } from "../store/maintenance.ts";
import { mergeSpans, type Span, WindowCoverage } from "./maintenance_window.ts";
import type {
  MaintenanceCalendar,
  MaintenanceEnd,
  MaintenanceEnds,
  MaintenanceWindow,
} from "./types.ts";

/** How long an owner's windows read from the store are trusted without reading them again. */
export const CALENDAR_TTL_MS = 10_000;
/** Windows read for an owner at most: the service refuses more (MAX_WINDOWS_PER_OWNER). */
const OWNER_READ_LIMIT = 1000;

interface OwnerWindows {
  /** Windows with `all: true`. */
  all: WindowCoverage[];
  /** Windows naming the job. */
  byJob: Map<string, WindowCoverage[]>;
}

interface OwnerEntry {
  loadedAt: number;
  windows: Promise<OwnerWindows>;
}

export interface WindowCalendarOptions {
  store: MaintenanceStore;
  clock: Clock;
  /** CALENDAR_TTL_MS by default. */
  ttlMs?: number;
}

export class WindowCalendar implements MaintenanceCalendar, MaintenanceEnds {
  readonly #owners = new BoundedCache<string, OwnerEntry>();
  readonly #built = new BoundedCache<string, WindowCoverage>();
  readonly #ttlMs: number;

  constructor(private readonly options: WindowCalendarOptions) {
    this.#ttlMs = options.ttlMs ?? CALENDAR_TTL_MS;
  }

  /** Forgets an owner's windows: the next question reads them again. */
  invalidate(userId: string): void {
    this.#owners.delete(userId);
  }

  /**
   * The window covering the job at `at`; of several, the one whose occurrence ends last.
   * Null when none does.
   */
  async coveringAt(userId: string, jobId: string, at: number): Promise<MaintenanceWindow | null> {
    const owner = await this.#owner(userId);
    let found: WindowCoverage | null = null;
    let foundEnd = -Infinity;
    for (const list of [owner.byJob.get(jobId), owner.all]) {
      if (list === undefined) continue;
      for (const coverage of list) {
        const end = coverage.coverEndAt(at);
        if (end !== null && end > foundEnd) {
          found = coverage;
          foundEnd = end;
        }
      }
    }
    return found?.window ?? null;
  }

  /** Covered spans `[start, end)` within `[from, to)`, merged, in order, clipped to the range. */
  async spans(userId: string, jobId: string, from: number, to: number): Promise<Span[]> {
    const owner = await this.#owner(userId);
    const lists: Span[][] = [];
    for (const list of [owner.byJob.get(jobId), owner.all]) {
      for (const coverage of list ?? []) {
        if (coverage.until <= from) continue;
        const spans = coverage.spans(from, to);
        if (spans.length > 0) lists.push(spans);
      }
    }
    return lists.length === 0 ? [] : mergeSpans(lists);
  }

  /**
   * Coverage of every owner that ended in `[from, to)`, oldest first: spans that ran out or
   * were ended early (`POST /api/maintenance/:id/end`), and coverage a change took away
   * (a window deleted, or edited so that it no longer covers a job, while it covered it). A
   * window's span that another of its occurrences continues is not an end. Each call reads the
   * store (the windows that can still end, and the cuts), so call it from one periodic chore,
   * with `from` the previous call's `to`.
   */
  async endsBetween(from: number, to: number): Promise<MaintenanceEnd[]> {
    if (!(to > from)) return [];
    const [live, cuts] = await Promise.all([
      this.options.store.liveSince(from),
      this.options.store.cutsBetween(from, to),
    ]);
    const ends: MaintenanceEnd[] = [...cuts];
    for (const window of live) {
      for (const at of this.coverage(window).endsIn(from, to)) {
        ends.push({
          userId: window.userId,
          windowId: window.id,
          at,
          all: window.all,
          jobIds: window.all ? [] : window.jobIds,
        });
      }
    }
    return ends.sort((a, b) => a.at - b.at);
  }

  /** The window's coverage, built once per version of it. */
  coverage(window: MaintenanceWindow): WindowCoverage {
    const key = `${window.userId}\u0000${window.id}`;
    const kept = this.#built.get(key);
    if (kept && sameVersion(kept.window, window)) return kept;
    return this.#built.set(key, new WindowCoverage(window));
  }

  #owner(userId: string): Promise<OwnerWindows> {
    const now = this.options.clock.now();
    const kept = this.#owners.get(userId);
    if (kept && now - kept.loadedAt < this.#ttlMs && now >= kept.loadedAt) return kept.windows;
    const entry: OwnerEntry = { loadedAt: now, windows: this.#load(userId) };
    this.#owners.set(userId, entry);
    // A failed read is not kept: the next question tries again.
    entry.windows.catch(() => {
      if (this.#owners.get(userId) === entry) this.#owners.delete(userId);
    });
    return entry.windows;
  }

  async #load(userId: string): Promise<OwnerWindows> {
    const owner: OwnerWindows = { all: [], byJob: new Map() };
    let cursor: string | undefined;
    let read = 0;
    do {
      const page = await this.options.store.list(userId, { limit: 200, cursor });
      for (const window of page.values) {
        const coverage = this.coverage(window);
        if (coverage.jobs === null) owner.all.push(coverage);
        else {
          for (const jobId of coverage.jobs) {
            const list = owner.byJob.get(jobId);
            if (list) list.push(coverage);
            else owner.byJob.set(jobId, [coverage]);
          }
        }
      }
      read += page.values.length;
      cursor = page.cursor ?? undefined;
    } while (cursor && read < OWNER_READ_LIMIT);
    return owner;
  }
}

/** Whether two reads of a window agree on all it covers (two changes may share a millisecond). */
function sameVersion(a: MaintenanceWindow, b: MaintenanceWindow): boolean {
  return a.updatedAt === b.updatedAt && a.endedAt === b.endedAt && a.all === b.all &&
    a.start === b.start && a.end === b.end && a.schedule === b.schedule &&
    a.durationMinutes === b.durationMinutes && a.timezone === b.timezone &&
    a.name === b.name && a.jobIds.length === b.jobIds.length &&
    a.jobIds.every((jobId, i) => jobId === b.jobIds[i]);
}

/**
 * What a status page shows the public, built from the page's record, its jobs' alert states,
 * their incidents and maintenance spans, and cached.
 *
 * Every request reads the page's record by slug (one KV read), so an edit, a job taken off the
 * page or a deleted page shows at once in every process. What is built from it is kept for
 * `BOARD_TTL_MS` (15 s) or until one of its jobs changes state or gets an operator's update in
 * this process (`ChangeLog`); changes made by another process show within the TTL. Concurrent
 * requests for a page being built share the one build.
 *
 * A build reads, for a page of n jobs: the jobs with their states (one batched read), each
 * job's incidents of the last 14 days (one short range read each; 90 days the first time), and
 * the owner's maintenance spans (cached by the calendar). Past days' figures are kept per job
 * (daily_uptime.ts), so only today's are worked out again.
 *
 * Nothing private is in the view: job names (not URLs, headers or bodies), states, uptime
 * figures, and incidents' times, durations and operator updates. An incident's cause (the
 * failure text, which may quote a URL or a response) is left out: the public sees "down".
 */
import type { Clock } from "../clock.ts";
import type { Span } from "../alerts/uptime.ts";
import { uptimeBetween } from "../alerts/uptime.ts";
import type { AlertState, Incident, MaintenanceCalendar } from "../alerts/types.ts";
import type { AlertStore } from "../store/alerts.ts";
import type { StatusPageStore } from "../store/status_pages.ts";
import { BoundedCache } from "../bounded_cache.ts";
import type { ChangeLog } from "./changes.ts";
import {
  BAR_DAYS,
  barStart,
  DAY_MS,
  DayCache,
  type DayFigures,
  dayFigures,
  dayStartOf,
} from "./daily_uptime.ts";
import { type OverallState, overallState } from "./overall.ts";
import { jobIdsOf } from "./status_page_input.ts";
import type { StatusPage } from "./types.ts";

/** How long a built page is served without looking again (changes here drop it sooner). */
export const BOARD_TTL_MS = 15_000;
/** Resolved incidents shown: those that ended within this. */
export const RESOLVED_SHOWN_MS = 14 * DAY_MS;

export interface PublicJob {
  /** The job's id: badge addresses name it (`/status/:slug/badge/:jobId.svg`). */
  id: string;
  name: string;
  state: AlertState;
  /** Uptime over the last 24 hours and over the bar's 90 days; null when no time counts. */
  uptime: { "24h": number | null; "90d": number | null };
  /** Oldest first, today last. */
  days: DayFigures[];
}

export interface PublicIncident {
  jobId: string;
  jobName: string;
  state: "open" | "resolved";
  /** Always "down": the failure text stays private. */
  kind: "down";
  /** Someone is on it. */
  acknowledged: boolean;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  updates: { at: string; message: string }[];
}

export interface StatusView {
  slug: string;
  title: string;
  description: string | null;
  generatedAt: string;
  overall: OverallState;
  /** The bar's days (UTC), first and last. */
  days: { from: string; to: string; timezone: "UTC" };
  groups: { name: string; jobs: PublicJob[] }[];
  /** Open incidents, newest first, then those resolved in the last 14 days, newest first. */
  incidents: PublicIncident[];
}

export interface StatusBoardOptions {
  pages: StatusPageStore;
  alerts: AlertStore;
  calendar: MaintenanceCalendar;
  clock: Clock;
  changes: ChangeLog;
  ttlMs?: number;
}

interface Built {
  stamp: string;
  seq: number;
  builtAt: number;
  view: StatusView;
}

export class StatusBoard {
  readonly #built = new BoundedCache<string, Built>(1_000);
  readonly #building = new Map<string, Promise<Built>>();
  readonly #days = new DayCache();

  constructor(private readonly options: StatusBoardOptions) {}

  /** The page at `slug` as the public sees it; null when there is none. */
  async view(slug: string): Promise<StatusView | null> {
    const page = await this.options.pages.bySlug(slug);
    if (!page) return null;
    const stamp = `${page.id}@${page.updatedAt}`;
    const now = this.options.clock.now();
    const built = this.#built.get(slug);
    if (
      built && built.stamp === stamp &&
      now - built.builtAt < (this.options.ttlMs ?? BOARD_TTL_MS) &&
      !this.options.changes.changedSince(page.userId, jobIdsOf(page), built.seq)
    ) return built.view;
    const key = `${slug}\n${stamp}`;
    let building = this.#building.get(key);
    if (!building) {
      building = this.build(page, stamp).finally(() => this.#building.delete(key));
      this.#building.set(key, building);
    }
    return (await building).view;
  }

  /** Forgets what was built for these slugs (their page changed in this process). */
  forget(slugs: readonly string[]): void {
    for (const slug of slugs) this.#built.delete(slug);
  }

  private async build(page: StatusPage, stamp: string): Promise<Built> {
    const seq = this.options.changes.seq;
    const now = this.options.clock.now();
    const ids = jobIdsOf(page);
    const facts = await this.options.alerts.decisionFacts(ids.map((id) => [page.userId, id]));
    const jobs = new Map<string, { job: PublicJob; incidents: Incident[] }>();
    await Promise.all(facts.map(async ({ job, state }) => {
      if (!job) return; // deleted since it was put on the page
      const current = state.state;
      const alertState: AlertState = !job.enabled ? "paused" : current?.state ?? "pending";
      const fingerprint = `${current?.incidentId}|${current?.since}`;
      const { days, incidents } = await this.days(page.userId, job.id, {
        // Never checked: no data rather than a clean 100 % (no incident is not "up" yet).
        created: current && current.decidedThrough > 0 ? Date.parse(job.createdAt) : Infinity,
        fingerprint,
        now,
      });
      jobs.set(job.id, {
        job: {
          id: job.id,
          name: job.name,
          state: alertState,
          uptime: days.uptime,
          days: days.figures,
        },
        incidents,
      });
    }));
    const groups = page.groups.map((group) => ({
      name: group.name,
      jobs: group.jobIds.map((id) => jobs.get(id)?.job).filter((j) => j !== undefined),
    }));
    const view: StatusView = {
      slug: page.slug,
      title: page.title,
      description: page.description,
      generatedAt: new Date(now).toISOString(),
      overall: overallState([...jobs.values()].map((j) => j.job.state)),
      days: {
        from: new Date(barStart(now)).toISOString().slice(0, 10),
        to: new Date(now).toISOString().slice(0, 10),
        timezone: "UTC",
      },
      groups,
      incidents: publicIncidents(jobs, now),
    };
    const built = { stamp, seq, builtAt: now, view };
    this.#built.set(page.slug, built);
    return built;
  }

  /** A job's 90 days and uptime figures, and its incidents of the last 14 days. */
  private async days(
    userId: string,
    jobId: string,
    options: { created: number; fingerprint: string; now: number },
  ) {
    const { now, created } = options;
    const first = barStart(now);
    if (created >= now) {
      const figures = Array.from(
        { length: BAR_DAYS },
        (_, i) => dayFigures(first + i * DAY_MS, { now, created, incidents: [], maintenance: [] }),
      );
      return { days: { figures, uptime: { "24h": null, "90d": null } }, incidents: [] };
    }
    const recentFrom = Math.max(created, now - RESOLVED_SHOWN_MS);
    const [recent, maintenance] = await Promise.all([
      this.options.alerts.incidentsBetween(userId, jobId, recentFrom, now),
      this.options.calendar.spans(userId, jobId, Math.max(created, first), now),
    ]);
    const cached = this.#days.days(`${userId}\n${jobId}`, options.fingerprint, now);
    const today = dayStartOf(now);
    const missingOld = Array.from({ length: BAR_DAYS }, (_, i) => first + i * DAY_MS)
      .some((day) => day < today && !cached.has(day) && day < recentFrom && day + DAY_MS > created);
    const all = missingOld
      ? await this.options.alerts.incidentsBetween(userId, jobId, Math.max(created, first), now)
      : recent;
    const spans = all.map(spanOf(now));
    const figures: DayFigures[] = [];
    for (let i = 0; i < BAR_DAYS; i++) {
      const day = first + i * DAY_MS;
      let figure = day < today ? cached.get(day) : undefined;
      if (!figure) {
        figure = dayFigures(day, { now, created, incidents: spans, maintenance });
        if (day < today) cached.set(day, figure);
      }
      figures.push(figure);
    }
    const last24 = uptimeBetween(
      Math.min(now, Math.max(created, now - DAY_MS)),
      now,
      recent.map(spanOf(now)),
      maintenance,
    );
    return {
      days: { figures, uptime: { "24h": last24.uptime, "90d": overall(figures) } },
      incidents: recent,
    };
  }
}

/** Uptime over the bar: counted time and down time summed over its days. */
function overall(days: DayFigures[]): number | null {
  let counted = 0;
  let down = 0;
  for (const day of days) {
    counted += day.countedMs;
    down += day.downMs;
  }
  return counted > 0 ? 1 - down / counted : null;
}

function spanOf(now: number) {
  return (incident: Incident): Span => [
    Date.parse(incident.startedAt),
    incident.endedAt === null ? now : Date.parse(incident.endedAt),
  ];
}

function publicIncidents(
  jobs: Map<string, { job: PublicJob; incidents: Incident[] }>,
  now: number,
): PublicIncident[] {
  const out: PublicIncident[] = [];
  for (const { job, incidents } of jobs.values()) {
    for (const incident of incidents) {
      if (incident.endedAt !== null && Date.parse(incident.endedAt) < now - RESOLVED_SHOWN_MS) {
        continue;
      }
      out.push({
        jobId: job.id,
        jobName: job.name,
        state: incident.state,
        kind: "down",
        acknowledged: incident.acknowledgedAt !== null,
        startedAt: incident.startedAt,
        endedAt: incident.endedAt,
        durationMs: incident.durationMs,
        updates: incident.updates.map(({ at, message }) => ({ at, message })),
      });
    }
  }
  return out.sort((a, b) =>
    (a.state === "open" ? 0 : 1) - (b.state === "open" ? 0 : 1) ||
    b.startedAt.localeCompare(a.startedAt)
  );
}

/**
 * The admin dashboard, for one page of jobs: counts by state, and per row the state (the
 * decided alert state), a heartbeat bar and latency sparkline of the latest 50 results,
 * uptime over 24 hours and 30 days, and 24-hour statistics. Everything read is per job on the
 * page (the job, its summary kept with its runs, its stats record, its incidents overlapping
 * 30 days) plus six counters, so the cost does not grow with the jobs or runs stored: no run
 * is read.
 */
import type { AlertState } from "../alerts/types.ts";
import type { JobStats, JobStatsSummary } from "../stats/job_stats.ts";
import type { RecentResult } from "../store/recent_results.ts";
import type { JobStateCounts, Store, StoredJob } from "../store/store.ts";
import type { Job, JobQuery, Page, Run } from "../store/types.ts";

export type { JobQuery, JobStateCounts };

/** The dashboard's search (`Store.searchJobs`). */
export interface JobSearch {
  page(userId: string, query: JobQuery): Promise<Page<StoredJob>>;
}

export type RowState = "up" | "down" | "paused" | "pending";

/**
 * A job's latest results, compact for the page and its JSON (50 rows of 50): times, latencies,
 * and a letter each: `u` up, `g` up but slower than the job's degraded latency, `d` down, `m`
 * missed, `w` inside a maintenance window.
 */
export interface Beats {
  /**
   * The first result's epoch seconds, then pairs of (gap in seconds, how many results follow
   * at that gap): a job on a schedule is `[first, 60, 49]`.
   */
  t: number[];
  /** Milliseconds; -1 when none. */
  ms: number[];
  s: string;
}

export interface DashboardRow {
  id: string;
  name: string;
  method: string;
  url: string;
  schedule: string;
  timezone: string;
  /** The decided alert state; `paused` when the job is disabled. */
  state: AlertState;
  count: number;
  /** Latest results, oldest first: the newest is the last run's. */
  beats: Beats;
  /** Uptime from incidents (0–1), null when no time counts yet. */
  uptime24h: number | null;
  uptime30d: number | null;
  /** Over 24 hours; a bucket bound in ms, -1 past the largest bucket. */
  p95LatencyMs: number | null;
}

export interface Dashboard {
  rows: DashboardRow[];
  cursor: string | null;
  /** The owner's jobs by state. */
  counts: JobStateCounts;
}

export interface DashboardDeps {
  store: Pick<Store, "jobSummaries" | "countJobStates">;
  search: JobSearch;
  stats: Pick<JobStats, "summaries">;
  /** Uptime of a page of jobs from their incidents (lib/alerts/incidents.ts). */
  incidents: {
    uptimeOfJobs(
      userId: string,
      jobs: readonly Pick<Job, "id" | "createdAt">[],
    ): Promise<{ day: number | null; month: number | null }[]>;
  };
}

/** A row as the page's island props carry it: its values in `DashboardRow`'s order, no keys. */
export type PackedRow = [
  string,
  string,
  string,
  string,
  string,
  string,
  AlertState,
  number,
  number[],
  number[],
  string,
  number | null,
  number | null,
  number | null,
];

/**
 * Rows without their keys: a page of 50 rows carries its rows twice (drawn, and as the
 * island's props, where each quote costs six bytes), and the keys were a third of the props.
 */
export function packRows(rows: readonly DashboardRow[]): PackedRow[] {
  return rows.map((r) => [
    r.id,
    r.name,
    r.method,
    r.url,
    r.schedule,
    r.timezone,
    r.state,
    r.count,
    r.beats.t,
    r.beats.ms,
    r.beats.s,
    r.uptime24h,
    r.uptime30d,
    r.p95LatencyMs,
  ]);
}

export function unpackRows(rows: readonly PackedRow[]): DashboardRow[] {
  return rows.map((
    [id, name, method, url, schedule, timezone, state, count, t, ms, s, day, month, p95],
  ) => ({
    id,
    name,
    method,
    url,
    schedule,
    timezone,
    state,
    count,
    beats: { t, ms, s },
    uptime24h: day,
    uptime30d: month,
    p95LatencyMs: p95,
  }));
}

export async function loadDashboard(
  deps: DashboardDeps,
  userId: string,
  query: JobQuery,
): Promise<Dashboard> {
  const [page, counts] = await Promise.all([
    deps.search.page(userId, query),
    deps.store.countJobStates(userId),
  ]);
  const jobs = page.values.map((s) => s.job);
  const ids = jobs.map((job) => job.id);
  const [stats, summaries, uptimes] = await Promise.all([
    deps.stats.summaries(userId, ids),
    deps.store.jobSummaries(userId, ids),
    deps.incidents.uptimeOfJobs(userId, jobs),
  ]);
  const rows = page.values.map(({ job, count }, i): DashboardRow => {
    const summary: JobStatsSummary | undefined = stats.get(job.id);
    return {
      id: job.id,
      name: job.name,
      // A heartbeat sends nothing: its row says what it is instead of a request.
      method: job.heartbeat ? "PING" : job.method,
      url: job.heartbeat ? `heartbeat, grace ${job.heartbeat.graceSeconds} s` : job.url,
      schedule: job.schedule,
      timezone: job.timezone,
      state: job.enabled ? summaries[i].alertState ?? "pending" : "paused",
      count,
      beats: beatsOf(summaries[i].recent, degradedAfter(job)),
      uptime24h: uptimes[i].day,
      uptime30d: uptimes[i].month,
      p95LatencyMs: finite(summary?.p95LatencyMs ?? null),
    };
  });
  return { rows, cursor: page.cursor, counts };
}

/** Latest results as `Beats`; a success slower than `degradedMs` is `g`. */
export function beatsOf(recent: readonly RecentResult[], degradedMs: number | null): Beats {
  const t: number[] = [];
  const ms: number[] = [];
  let s = "";
  let before = 0;
  for (const [i, r] of recent.entries()) {
    const seconds = Math.floor(r.at / 1000);
    const gap = seconds - before;
    if (i === 0) t.push(seconds);
    else if (t.length > 1 && t[t.length - 2] === gap) t[t.length - 1]++;
    else t.push(gap, 1);
    before = seconds;
    ms.push(r.latencyMs ?? -1);
    s += r.maintenance
      ? "w"
      : r.status === "missed"
      ? "m"
      : r.status === "failure"
      ? "d"
      : degradedMs !== null && r.latencyMs !== null && r.latencyMs > degradedMs
      ? "g"
      : "u";
  }
  return { t, ms, s };
}

/** The job's degraded latency; the defaults (a job without `alerts`) have none. */
function degradedAfter(job: Job): number | null {
  return job.alerts?.degradedLatencyMs ?? null;
}

/**
 * A job's state as the dashboard and the job page show it: paused, else what its newest run
 * says. (The alerting engine's states, decided per interval, will replace this.)
 */
export function jobState(enabled: boolean, newest: Pick<Run, "status"> | null): RowState {
  if (!enabled) return "paused";
  if (newest?.status === "success") return "up";
  if (newest?.status === "failure") return "down";
  return "pending";
}

/** A p95 that JSON can carry: Infinity (past the last bucket) becomes -1. */
export function finite(ms: number | null): number | null {
  return ms === null ? null : Number.isFinite(ms) ? ms : -1;
}

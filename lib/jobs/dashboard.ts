/**
 * The rows of the admin dashboard, for one page of jobs: state, last run and 24-hour
 * statistics. Everything read is per job on the page (the job, its stats record, its newest
 * run), so the cost does not grow with the number of jobs stored.
 */
import type { JobStats, JobStatsSummary } from "../stats/job_stats.ts";
import type { Store, StoredJob } from "../store/store.ts";
import type { JobQuery, Page, Run } from "../store/types.ts";

export type { JobQuery };

/** The dashboard's search (`Store.searchJobs`). */
export interface JobSearch {
  page(userId: string, query: JobQuery): Promise<Page<StoredJob>>;
}

export type RowState = "up" | "down" | "paused" | "pending";

export interface DashboardRow {
  id: string;
  name: string;
  method: string;
  url: string;
  schedule: string;
  timezone: string;
  state: RowState;
  count: number;
  lastRun: Pick<Run, "id" | "status" | "code" | "scheduledAt" | "durationMs" | "lateMs"> | null;
  /** 0–1, null without runs in the last 24 hours. */
  successRate: number | null;
  /** Bucket bounds in ms; -1 means more than the largest bucket. */
  p95LatencyMs: number | null;
  p95LateMs: number | null;
}

export interface DashboardDeps {
  store: Store;
  search: JobSearch;
  stats: JobStats;
}

export async function loadDashboard(
  deps: DashboardDeps,
  userId: string,
  query: JobQuery,
): Promise<{ rows: DashboardRow[]; cursor: string | null }> {
  const page = await deps.search.page(userId, query);
  const ids = page.values.map((s) => s.job.id);
  const [stats, newest] = await Promise.all([
    deps.stats.summaries(userId, ids),
    Promise.all(ids.map((id) => deps.store.listRuns(userId, id, { limit: 1 }))),
  ]);
  const rows = page.values.map(({ job, count }, i): DashboardRow => {
    const run = newest[i].values[0] ?? null;
    const summary: JobStatsSummary | undefined = stats.get(job.id);
    return {
      id: job.id,
      name: job.name,
      // A heartbeat sends nothing: its row says what it is instead of a request.
      method: job.heartbeat ? "PING" : job.method,
      url: job.heartbeat ? `heartbeat, grace ${job.heartbeat.graceSeconds} s` : job.url,
      schedule: job.schedule,
      timezone: job.timezone,
      state: jobState(job.enabled, run),
      count,
      lastRun: run && {
        id: run.id,
        status: run.status,
        code: run.code,
        scheduledAt: run.scheduledAt,
        durationMs: run.durationMs,
        lateMs: run.lateMs,
      },
      successRate: summary?.successRate ?? null,
      p95LatencyMs: finite(summary?.p95LatencyMs ?? null),
      p95LateMs: finite(summary?.p95LateMs ?? null),
    };
  });
  return { rows, cursor: page.cursor };
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

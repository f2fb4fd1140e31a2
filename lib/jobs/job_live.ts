/**
 * What the top of a job page shows and keeps fresh: its state (the alert state decided per
 * interval, when alerting is wired in; else the last run's), its figures (24-hour success
 * rate and percentiles, run count, last and next run) and its newest runs. The page draws it
 * once; its islands ask for it again every few seconds (`/admin/jobs/:id/live.json`). Reads
 * one job, its stats record and a few runs: the cost does not grow with the jobs stored.
 */
import type { AlertStateView } from "../alerts/incidents.ts";
import type { JobStats, JobStatsSummary } from "../stats/job_stats.ts";
import type { Store } from "../store/store.ts";
import type { JobView, Run } from "../store/types.ts";
import { finite, jobState, type RowState } from "./dashboard.ts";
import type { JobService } from "./jobs.ts";

export interface JobFigures {
  /** 0–1, null without runs in the last 24 hours. */
  successRate: number | null;
  /** Bucket bounds in ms; -1 means more than the largest bucket. */
  p95LatencyMs: number | null;
  p95LateMs: number | null;
  count: number;
  lastRunAt: string | null;
  nextRunAt: string | null;
}

export interface JobLive {
  job: JobView;
  /** An alert state (`up`, `degraded`, `down`, `paused`, `maintenance`, `pending`) or a RowState. */
  state: RowState | string;
  /** The decided alert state in full, when the deps can tell it (the job page shows it). */
  alert: AlertStateView | null;
  figures: JobFigures;
  /** Newest first. */
  runs: Run[];
}

export interface JobLiveDeps {
  jobs: Pick<JobService, "get">;
  store: Pick<Store, "listRuns">;
  stats: Pick<JobStats, "summaries">;
  /** The job's decided alert state (lib/alerts/incidents.ts `stateOf`). */
  incidents?: { stateOf(userId: string, jobId: string): Promise<AlertStateView> };
}

/** The job (404 for another owner's), its state, figures and `runs` newest runs. */
export async function loadJobLive(
  deps: JobLiveDeps,
  userId: string,
  jobId: string,
  options: { runs: number; origin?: string },
): Promise<JobLive> {
  const job = await deps.jobs.get(userId, jobId, { origin: options.origin });
  const [runs, stats, alert] = await Promise.all([
    deps.store.listRuns(userId, jobId, { limit: options.runs }),
    deps.stats.summaries(userId, [jobId]),
    deps.incidents?.stateOf(userId, jobId) ?? null,
  ]);
  return {
    job,
    state: alert?.state ?? jobState(job.enabled, runs.values[0] ?? null),
    alert,
    figures: jobFigures(job, stats.get(jobId)),
    runs: runs.values,
  };
}

export function jobFigures(job: JobView, summary: JobStatsSummary | undefined): JobFigures {
  return {
    successRate: summary?.successRate ?? null,
    p95LatencyMs: finite(summary?.p95LatencyMs ?? null),
    p95LateMs: finite(summary?.p95LateMs ?? null),
    count: job.count,
    lastRunAt: job.lastRunAt,
    nextRunAt: job.nextRunAt,
  };
}

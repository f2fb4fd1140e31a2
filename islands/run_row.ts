/**
 * A run as the job page's table and chart show it, made from a run as the store keeps it; the
 * server makes the rows (page and live feed), the islands draw them.
 */

export interface RunRow {
  id: string;
  where: string;
  trigger: string;
  status: string;
  code: number;
  scheduledAt: string;
  durationMs: number | null;
  lateMs: number | null;
  problem: string | null;
  /** A Cloud Run job's execution. */
  execution?: RunExecution | null;
}

export interface RunExecution {
  name: string;
  succeededCount: number;
  failedCount: number;
  logUri: string | null;
  status: string;
}

/** The row of a run as the API returns it. */
export function runRow(run: {
  id: string;
  where: string;
  trigger: string;
  status: string;
  code: number;
  scheduledAt: string;
  durationMs: number | null;
  lateMs: number | null;
  error: { message: string } | null;
  failure: string | null;
  execution?: RunExecution | null;
}): RunRow {
  return {
    id: run.id,
    where: run.where,
    trigger: run.trigger,
    status: run.status,
    code: run.code,
    scheduledAt: run.scheduledAt,
    durationMs: run.durationMs,
    lateMs: run.lateMs,
    problem: (run.error?.message ?? run.failure)?.slice(0, 200) ?? null,
    ...(run.execution ? { execution: run.execution } : {}),
  };
}

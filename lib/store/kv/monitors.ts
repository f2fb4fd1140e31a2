/**
 * Jobs as Pingmon monitors (seed 002): what a probe worker is told to check. A job assigned
 * to workers gets one entry per worker in `["worker_monitor", workerId, …]`, written in the
 * same atomic operation as the job, so `get-monitors-to-check` is one range read.
 */
import { parseSchedule } from "../../schedule/schedule.ts";
import type { Job, Monitor, WorkerAssignment } from "../types.ts";
import { kvKeys } from "./keys.ts";

/** Keeps the per-worker monitor index in step with a job (written in the same operation). */
export function writeMonitors(
  op: Deno.AtomicOperation,
  before: Job | null,
  after: Job | null,
): void {
  const active = (job: Job | null) => (job?.enabled ? job.workers ?? [] : []);
  const kept = new Set(active(after).map((a) => a.workerId));
  const touched = new Set<string>();
  for (const assignment of active(before)) {
    if (!kept.has(assignment.workerId)) {
      op.delete(kvKeys.workerMonitor(assignment.workerId, before!.id));
      touched.add(assignment.workerId);
    }
  }
  for (const assignment of active(after)) {
    op.set(kvKeys.workerMonitor(assignment.workerId, after!.id), {
      userId: after!.userId,
      monitor: monitorFor(after!, assignment),
    });
    touched.add(assignment.workerId);
  }
  for (const workerId of touched) op.sum(kvKeys.workerMonitorsRevision(workerId), 1n);
}

/** Interval of a worker-checked job, read by the one schedule parser; 0 for cron schedules. */
function intervalSeconds(job: Job): number {
  const schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
  return schedule.kind === "interval" ? schedule.everyMs / 1000 : 0;
}

function monitorFor(job: Job, assignment: WorkerAssignment): Monitor {
  const status = job.expect?.status;
  return {
    monitor_id: job.id,
    name: job.name,
    url: job.url,
    method: job.method,
    headers: job.headers ?? {},
    body: job.body,
    timeout_seconds: Math.ceil(job.timeoutMs / 1000),
    expected_status_code: typeof status === "number" ? status : status?.[0] ?? null,
    expected_body_contains: job.expect?.bodyContains ?? null,
    check_minute: assignment.checkMinute,
    check_second: assignment.checkSecond,
    check_interval_seconds: intervalSeconds(job),
  };
}

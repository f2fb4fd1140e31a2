/**
 * Jobs as Pingmon monitors (seed 002): what a probe worker is told to check. A job assigned
 * to workers gets one entry per worker in `["worker_monitor", workerId, …]`, written in the
 * same atomic operation as the job, so `get-monitors-to-check` is one range read.
 */
import { parseSchedule } from "../schedule/schedule.ts";
import type { Job, WorkerAssignment } from "../store/types.ts";

/** One row of `get-monitors-to-check`, with every field of the seed's table. */
export interface Monitor {
  monitor_id: string;
  name: string;
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | null;
  timeout_seconds: number;
  expected_status_code: number | null;
  expected_body_contains: string | null;
  check_minute: number;
  check_second: number;
  check_interval_seconds: number;
}

/** Interval of a worker-checked job, read by the one schedule parser; 0 for cron schedules. */
function intervalSeconds(job: Job): number {
  const schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
  return schedule.kind === "interval" ? schedule.everyMs / 1000 : 0;
}

export function monitorFor(job: Job, assignment: WorkerAssignment): Monitor {
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

/**
 * Offsets for workers that were given none: spread evenly over the interval starting at the
 * job's own phase, so three workers on 300 s check 100 s apart and different jobs do not
 * all start at the same second.
 */
export function spreadOffsets(count: number, intervalSec: number, phaseSec: number): number[] {
  return Array.from(
    { length: count },
    (_, i) => (phaseSec + Math.floor((i * intervalSec) / count)) % intervalSec,
  );
}

/** True when `atSec` (epoch seconds) is a check time of a worker at `offsetSec`. */
export function isCheckTime(atSec: number, offsetSec: number, intervalSec: number): boolean {
  return ((atSec - offsetSec) % intervalSec + intervalSec) % intervalSec === 0;
}

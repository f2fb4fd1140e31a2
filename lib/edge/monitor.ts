/**
 * Jobs as Pingmon monitors (seed 002): what a probe worker is told to check. A job assigned
 * to workers gets one entry per worker in `["worker_monitor", workerId, …]`, written in the
 * same atomic operation as the job, so `get-monitors-to-check` is one range read.
 */
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

/** Interval of a worker-checked job, from its `@every` schedule; null for cron schedules. */
export function intervalSeconds(schedule: string): number | null {
  const match = /^@every\s+((?:\d+[dhms])+)$/.exec(schedule.trim());
  if (!match) return null;
  let seconds = 0;
  for (const [, n, unit] of match[1].matchAll(/(\d+)([dhms])/g)) {
    seconds += Number(n) * { d: 86_400, h: 3_600, m: 60, s: 1 }[unit as "d" | "h" | "m" | "s"];
  }
  return seconds;
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
    check_interval_seconds: intervalSeconds(job.schedule) ?? 0,
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

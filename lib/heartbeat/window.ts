/**
 * When a heartbeat job expects its pings, and which pings answer which expected time.
 *
 * Each time T the schedule names expects a success ping; the scheduler fires the job at
 * T + grace (an exact fire, like any job's), and that fire records a late run unless a success
 * ping arrived in T's window:
 * - cron schedules: `[T, T + grace]`. A ping counts for the times at or before it, as in
 *   Healthchecks' cron checks (the next ping is expected at the first time after the last
 *   one). So a job that ran late yesterday cannot cover for today: today wants its own ping.
 * - `@every` schedules: `[T − period, T + grace]`. The interval's phase comes from the job id,
 *   which the sender does not know, so any ping in the period before T counts: at each check
 *   the verdict is Healthchecks' simple check's ("no ping for period + grace"), checked once
 *   a period.
 * All of this is in absolute time: a DST change moves the wall-clock T (a 23-hour day between
 * two 09:00 New York fires), never the grace, and never drops or doubles a check.
 */
import { parseSchedule, type Schedule } from "../schedule/schedule.ts";
import type { Job } from "../store/types.ts";

/** Healthchecks' default grace: an hour. */
export const DEFAULT_GRACE_SECONDS = 3600;
export const MIN_GRACE_SECONDS = 1;
/** Thirty days: room for a monthly job's slack. */
export const MAX_GRACE_SECONDS = 30 * 86_400;
/** Sizes a late check's lease (it only reads the window): stored as the job's `timeoutMs`. */
export const HEARTBEAT_TIMEOUT_MS = 10_000;

/** The times the job's schedule names: for a heartbeat, when its pings are expected. */
export function expectedSchedule(job: Job): Schedule {
  return parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
}

/**
 * Fire schedules parsed, by job record: a run checks its fire against the schedule, and a job
 * remembered between runs (lib/store/kv/job_memory.ts) is the same record until it changes.
 */
const fireSchedules = new WeakMap<Job, Schedule>();

/** The times the scheduler fires the job: a heartbeat's expected times plus its grace. */
export function fireSchedule(job: Job): Schedule {
  let schedule = fireSchedules.get(job);
  if (!schedule) {
    const shiftMs = job.heartbeat ? job.heartbeat.graceSeconds * 1000 : 0;
    schedule = parseSchedule(job.schedule, { timezone: job.timezone, key: job.id, shiftMs });
    fireSchedules.set(job, schedule);
  }
  return schedule;
}

/** The first instant of the window of pings that answer the expected time `expectedAt`. */
export function windowStart(expected: Schedule, expectedAt: number): number {
  return expected.kind === "interval" ? expectedAt - expected.everyMs : expectedAt;
}

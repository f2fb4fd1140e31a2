/**
 * What one interval of a job's schedule came to, from the runs of its locations.
 *
 * An interval is the span between two consecutive fire times. A local run's scheduled time is
 * a fire time, so it starts its interval; a worker checks at its offset within each interval
 * (seed 002), so its `checked_at` is brought down to the interval's start. Workers need an
 * interval schedule (`@every`), so that is arithmetic. A manual run of a job checked from one
 * place is an interval of its own (the owner asked whether it works now); a job checked from
 * several places leaves its manual runs out, since only one place ran them.
 *
 * Each location's run is `pass`, `degraded` (passed, slower than `degradedLatencyMs`) or
 * `fail`; the interval fails when at least `quorum` locations failed it (default: a majority
 * of the job's locations), is degraded when a quorum failed or was slow, and passes otherwise.
 * A location that did not report counts toward neither.
 */
import type { Schedule } from "../schedule/schedule.ts";
import type { Job, Run } from "../store/types.ts";
import type { AlertSettings, Verdict } from "./types.ts";

/** A multi-location interval waits this long past its end (and its checks' deadline) for late results. */
export const DEADLINE_MARGIN_MS = 30_000;

export interface Interval {
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
}

/** Where a job is checked from: `local` and its workers' ids. */
export function locationsOf(job: Job): string[] {
  const workers = (job.workers ?? []).map((w) => w.workerId);
  return job.local === false ? workers : ["local", ...workers];
}

/** Whether a job is checked from more than one place (its intervals wait for all of them). */
export function isMultiLocation(job: Job): boolean {
  return locationsOf(job).length > 1;
}

/**
 * The interval a run belongs to, or null when the run decides nothing (a missed fire, a manual
 * run of a multi-location job). `schedule` is only parsed when needed (worker runs).
 */
export function intervalOf(job: Job, run: Run, schedule: () => Schedule): Interval | null {
  if (run.status === "missed") return null;
  const at = Date.parse(run.scheduledAt);
  if (run.trigger === "MANUAL") return isMultiLocation(job) ? null : { start: at, end: at + 1 };
  const parsed = run.where === "local" && !isMultiLocation(job) ? null : schedule();
  if (parsed?.kind === "interval") {
    const start = parsed.phaseMs +
      Math.floor((at - parsed.phaseMs) / parsed.everyMs) * parsed.everyMs;
    return { start, end: start + parsed.everyMs };
  }
  // A local fire of a cron job: a fire time, so its interval starts there. Its end is only
  // needed to read the interval's runs, and the run itself is all there is.
  return { start: at, end: at + 1 };
}

/** When a multi-location interval is decided even if some location never reported. */
export function deadlineOf(job: Job, interval: Interval): number {
  return interval.end + job.timeoutMs + DEADLINE_MARGIN_MS;
}

/** How one location's run went. */
export function verdictOf(run: Run, settings: Pick<AlertSettings, "degradedLatencyMs">): Verdict {
  if (run.status !== "success") return "fail";
  const limit = settings.degradedLatencyMs;
  return limit !== null && run.durationMs !== null && run.durationMs > limit ? "degraded" : "pass";
}

/** The locations that must fail an interval for it to fail. */
export function quorumOf(settings: Pick<AlertSettings, "quorum">, locations: number): number {
  const n = Math.max(1, locations);
  const majority = Math.floor(n / 2) + 1;
  return Math.min(n, Math.max(1, settings.quorum ?? majority));
}

export interface IntervalOutcome {
  verdict: Verdict;
  /** The runs counted, one per location (the newest where a location has several). */
  runs: Run[];
  /** Of those, the failing ones, in location order. */
  failed: Run[];
}

/** An interval's verdict from its runs (those of other intervals or manual ones must be left out). */
export function intervalOutcome(job: Job, runs: Run[], settings: AlertSettings): IntervalOutcome {
  const locations = locationsOf(job);
  const byLocation = new Map<string, Run>();
  for (const run of runs) {
    if (run.status === "missed") continue;
    const seen = byLocation.get(run.where);
    if (!seen || Date.parse(run.scheduledAt) > Date.parse(seen.scheduledAt)) {
      byLocation.set(run.where, run);
    }
  }
  const counted = [...byLocation.values()].sort((a, b) =>
    rank(locations, a.where) - rank(locations, b.where)
  );
  const verdicts = counted.map((run) => verdictOf(run, settings));
  const failed = counted.filter((_, i) => verdicts[i] === "fail");
  const slow = verdicts.filter((v) => v === "degraded").length;
  const quorum = quorumOf(settings, Math.max(locations.length, counted.length));
  const verdict: Verdict = failed.length >= quorum
    ? "fail"
    : failed.length + slow >= quorum
    ? "degraded"
    : "pass";
  return { verdict, runs: counted, failed };
}

function rank(locations: string[], where: string): number {
  const i = locations.indexOf(where);
  return i === -1 ? locations.length : i;
}

/** What an incident says caused it: the failing runs' errors, first one first. */
export function causeOf(failed: Run[]): string {
  const text = failed.map((run) => {
    const why = run.error?.message ?? run.failure ?? `status ${run.code}`;
    return failed.length > 1 ? `${run.where}: ${why}` : why;
  }).join("; ");
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}

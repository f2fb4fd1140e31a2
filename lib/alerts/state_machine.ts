/**
 * A job's alert state as a pure function of its previous state and one decided interval,
 * after gatus' watchdog: two counters (failing intervals in a row, passing ones in a row) and
 * a "triggered" flag, which here is the open incident. An incident opens once, when the
 * failures reach `failureThreshold`, and resolves once, when the passes reach
 * `successThreshold`; every interval in between only counts.
 *
 * Intervals are decided in order: one that starts at or before `decidedThrough` was decided
 * already (a second location's result, a run recorded again, a late result) and changes
 * nothing, which is what makes deciding idempotent.
 *
 * Shown states: `down` while an incident is open; otherwise `up` or `degraded` after the
 * newest passing interval. A failing interval below the threshold leaves the state as it was
 * (a job that was up stays up until the failures are confirmed), except after a pause or a
 * maintenance window, when nothing is confirmed yet: `pending`. During a maintenance window
 * the counters go on counting but nothing opens or resolves, and the state is `maintenance`;
 * when the window ends, `endMaintenance` applies what the counters say (a job still failing
 * past its threshold opens its incident then). A disabled job's interval is `paused` and
 * counts for nothing.
 */
import type { AlertState, JobAlertState, Verdict } from "./types.ts";

export interface Thresholds {
  /** Failing intervals in a row that open an incident (≥ 1). */
  failureThreshold: number;
  /** Passing intervals in a row that resolve it (≥ 1). */
  successThreshold: number;
}

/** One interval, as the engine saw it. */
export interface IntervalInput {
  /** Start of the interval (epoch ms). */
  at: number;
  /** How it went, after the quorum of locations. */
  verdict: Verdict;
  /** The job is disabled: the interval counts for nothing. */
  paused: boolean;
  /** A maintenance window covers the interval: counted, but nothing opens or resolves. */
  maintenance: boolean;
}

export interface Transition {
  next: JobAlertState;
  /** An incident opens: `next.incidentId` is its new id. */
  open: boolean;
  /** The incident that was open (`incidentId` before) resolves. */
  resolve: boolean;
}

/** The state of a job nothing was decided for yet. */
export function initialState(userId: string, jobId: string, since: number): JobAlertState {
  return {
    userId,
    jobId,
    state: "pending",
    failures: 0,
    successes: 0,
    incidentId: null,
    decidedThrough: 0,
    since,
    streakSince: null,
    verdict: null,
  };
}

/**
 * Decides one interval; null when it was decided already. `newIncidentId` names the incident
 * an opening transition opens.
 */
export function decideInterval(
  current: JobAlertState,
  input: IntervalInput,
  thresholds: Thresholds,
  newIncidentId: () => string,
): Transition | null {
  if (input.at <= current.decidedThrough) return null;
  if (input.paused) {
    return { next: moved(current, { decidedThrough: input.at }, "paused", input.at), ...NONE };
  }
  const failing = input.verdict === "fail";
  const continues = failing ? current.failures > 0 : current.successes > 0;
  const counted: JobAlertState = {
    ...current,
    failures: failing ? current.failures + 1 : 0,
    successes: failing ? 0 : current.successes + 1,
    streakSince: continues && current.streakSince !== null ? current.streakSince : input.at,
    verdict: input.verdict,
    decidedThrough: input.at,
  };
  if (input.maintenance) return { next: moved(counted, {}, "maintenance", input.at), ...NONE };
  return settle(counted, thresholds, input.at, newIncidentId);
}

/**
 * Applies the counters once a maintenance window no longer covers the job: opens the incident
 * of a job that failed past its threshold during the window, resolves one that recovered.
 * Null when the job is not in maintenance (a later interval decided it already).
 */
export function endMaintenance(
  current: JobAlertState,
  thresholds: Thresholds,
  at: number,
  newIncidentId: () => string,
): Transition | null {
  if (current.state !== "maintenance") return null;
  return settle(current, thresholds, at, newIncidentId);
}

const NONE = { open: false, resolve: false } as const;

/** Opens or resolves what the counters call for, and names the state that follows. */
function settle(
  counted: JobAlertState,
  thresholds: Thresholds,
  at: number,
  newIncidentId: () => string,
): Transition {
  const triggered = counted.incidentId !== null;
  if (!triggered && counted.failures >= thresholds.failureThreshold) {
    return {
      next: moved(counted, { incidentId: newIncidentId() }, "down", at),
      open: true,
      resolve: false,
    };
  }
  if (triggered && counted.successes >= thresholds.successThreshold) {
    return {
      next: moved(counted, { incidentId: null }, passing(counted.verdict), at),
      open: false,
      resolve: true,
    };
  }
  return { next: moved(counted, {}, shown(counted), at), ...NONE };
}

/** The state while nothing opens or resolves. */
function shown(counted: JobAlertState): AlertState {
  if (counted.incidentId !== null) return "down";
  if (counted.verdict !== "fail") return passing(counted.verdict);
  // Failing, not yet past the threshold: as it was, unless nothing was confirmed since a
  // pause or a window (or ever).
  const was = counted.state;
  return was === "up" || was === "degraded" ? was : "pending";
}

function passing(verdict: Verdict | null): AlertState {
  return verdict === "degraded" ? "degraded" : verdict === "pass" ? "up" : "pending";
}

/** `state` with its new fields, `since` moved to `at` when the shown state changes. */
function moved(
  state: JobAlertState,
  fields: Partial<JobAlertState>,
  shownState: AlertState,
  at: number,
): JobAlertState {
  const since = shownState === state.state ? state.since : at;
  return { ...state, ...fields, state: shownState, since };
}

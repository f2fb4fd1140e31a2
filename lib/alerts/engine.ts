/**
 * Decides each job's alert state once per interval, durably, whatever the number of processes
 * and locations.
 *
 * How: a run's own commit (`Store.recordRun`) also writes a "decide (job, interval)" item. For
 * a job checked from one place that item is written already leased to the writing process
 * (like a webhook delivery written held, lib/store/kv/outbox.ts), which decides at once from
 * the run in hand; should it die first, the alert lane takes the item over when the lease runs
 * out, so a crash between the run and its decision loses nothing. For a job checked from
 * several places every location's run writes the same item, due at the interval's deadline;
 * the writer of the last location to report decides at once, and otherwise the lane decides
 * at the deadline with what arrived.
 *
 * A decision is one compare-and-set on the job's `JobAlertState` that writes the new state,
 * the incident opened or resolved, the notification outbox and the removal of the item, in
 * one commit. `decidedThrough` makes it idempotent: a second location's item, a repeated run,
 * a second process, or the lane after a slow writer finds the interval decided and only drops
 * its item. A run is written once (its commit checks it does not exist), so it writes its
 * item once: a retried fire or a worker batch sent twice never moves the state twice.
 *
 * Certificate warnings ride on the same decision: when the interval's local run saw a
 * certificate due a warning (`certificateWarningDue`), the decision also writes the
 * `certificate.expiring` notifications and the certificate's key into the state
 * (`certificatesWarned`), in the same compare-and-set. So a certificate is warned about once
 * however many processes decide the job's intervals: whoever commits second re-reads the state
 * and finds the key there, and an interval decided already warns of nothing. Not while a
 * maintenance window covers the interval or the job is disabled: the first run decided after
 * the window warns (the certificate has not gone anywhere). Nor for a job without channels:
 * nothing is recorded, so a channel added later still hears of it.
 *
 * Cost per check: one set in the run's commit, then one small compare-and-set (the state read
 * comes with the run's own read of its job, `JobForRun.alertState`). A decision that changes
 * nothing writes the state record alone.
 */
import type { Clock } from "../clock.ts";
import { ConflictError } from "../errors.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";
import { nextFireTimes, parseSchedule } from "../schedule/schedule.ts";
import type {
  AlertDecision,
  AlertStore,
  DecidedAhead,
  DecideRequest,
  DecideValue,
  VersionedAlertState,
} from "../store/alerts.ts";
import { parseRunId } from "../store/run_id.ts";
import type { LeaseRef } from "../store/lanes.ts";
import type { Job, Run } from "../store/types.ts";
import { alertSettingsOf } from "./alert_settings.ts";
import { type CertificateWarning, certificateWarningDue } from "./certificate_warning.ts";
import {
  causeOf,
  deadlineOf,
  intervalOf,
  type IntervalOutcome,
  intervalOutcome,
  isMultiLocation,
  locationsOf,
} from "./intervals.ts";
import {
  cancellable,
  certificateNotifications,
  newIncidentId,
  openedNotifications,
  resolvedNotifications,
  toldChannels,
} from "./outbox.ts";
import { decideInterval, endMaintenance, initialState, type Transition } from "./state_machine.ts";
import type {
  AlertSettings,
  CertificateNotice,
  Incident,
  JobAlertState,
  MaintenanceCalendar,
} from "./types.ts";

/** How long a run's writer holds its decide item before the lane may take it over. */
export const DECIDE_HOLD_MS = 30_000;
/** A window whose end the calendar cannot tell is looked at again this soon. */
const WINDOW_RECHECK_MS = 60_000;
/** How far ahead a covering window's end is looked for. */
const WINDOW_HORIZON_MS = 31 * 86_400_000;
const MAX_ATTEMPTS = 10;

export interface AlertEngineOptions {
  alerts: AlertStore;
  clock: Clock;
  calendar: MaintenanceCalendar;
  /** Told the earliest time of notifications just queued (the notification lane's wake). */
  onNotification?: (at: number) => void;
  /** Told after a decision that changed a job's state or incident (status pages' caches). */
  onChange?: (userId: string, jobId: string) => void;
}

/** What the runner and the result ingester call around `recordRun`. */
export interface RunDecisions {
  /** Jobs with their alert states, read together (the ingester's chunk of results). */
  facts(
    jobs: readonly (readonly [string, string])[],
  ): Promise<{ job: Job | null; state: VersionedAlertState }[]>;
  /** Marks a run made while a maintenance window covered its job (`run.maintenance`). */
  markMaintenance(run: Run, job: Job): Promise<void>;
  /** The decide item to write with the run; null when it decides nothing (a missed fire). */
  requestFor(run: Run, job: Job): DecideRequest | null;
  /**
   * The decision of a run checked from one place, made before the run is written so that it
   * goes in the run's own commit (`RunCompletion.decided`) on the state `known` read with the
   * job; null when it must be made after (a job checked from several places, no state read).
   * Never throws.
   */
  decideAhead(
    run: Run,
    job: Job,
    request: DecideRequest,
    known?: VersionedAlertState,
  ): Promise<DecidedAhead | null>;
  /**
   * Decides at once what the just-written run allows, unless its commit carried its decision
   * (`ahead.applied`). Never throws: what fails here is left to the alert lane. `known` is the
   * job's alert state as read with the job, if it was.
   */
  afterRecord(
    run: Run,
    job: Job,
    request: DecideRequest,
    known?: VersionedAlertState,
    ahead?: DecidedAhead | null,
  ): Promise<void>;
}

export class AlertEngine implements RunDecisions {
  /** Lane items being decided here, chained per job (see `execute`). */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(private readonly options: AlertEngineOptions) {}

  facts(
    jobs: readonly (readonly [string, string])[],
  ): Promise<{ job: Job | null; state: VersionedAlertState }[]> {
    return this.options.alerts.decisionFacts(jobs);
  }

  async markMaintenance(run: Run, job: Job): Promise<void> {
    const at = Date.parse(run.scheduledAt);
    const window = await this.options.calendar.coveringAt(job.userId, job.id, at);
    if (window) run.maintenance = { id: window.id, name: window.name };
  }

  requestFor(run: Run, job: Job): DecideRequest | null {
    const interval = intervalOf(job, run, () => scheduleOf(job));
    if (!interval) return null;
    const now = this.options.clock.now();
    const base = { userId: job.userId, jobId: job.id, at: interval.start };
    if (!isMultiLocation(job)) {
      const parsed = parseRunId(run.id);
      const value: DecideValue = { end: interval.end };
      if (parsed) value.run = [parsed.scheduledAt, parsed.suffix];
      return { ...base, dueAt: now, heldUntil: now + DECIDE_HOLD_MS, value };
    }
    return { ...base, dueAt: deadlineOf(job, interval), value: { end: interval.end } };
  }

  async decideAhead(
    run: Run,
    job: Job,
    request: DecideRequest,
    known?: VersionedAlertState,
  ): Promise<DecidedAhead | null> {
    if (request.heldUntil === undefined || !known) return null;
    try {
      // Settles nothing: a run whose commit carries its decision writes no decide item.
      const decision = await this.plan(job, request.at, [run], [], known);
      return decision && { decision, applied: false };
    } catch (error) {
      console.error(
        `Cannot decide the state of job "${job.id}" with its run, deciding after: ${
          (error as Error).message
        }`,
      );
      return null;
    }
  }

  async afterRecord(
    run: Run,
    job: Job,
    request: DecideRequest,
    known?: VersionedAlertState,
    ahead?: DecidedAhead | null,
  ): Promise<void> {
    if (ahead?.applied) return this.queued(ahead.decision);
    const settle = [this.options.alerts.decideKey(request)];
    try {
      if (request.heldUntil !== undefined) {
        await this.decide(job, request.at, [run], settle, known);
        return;
      }
      const runs = await this.intervalRuns(job, request.at, request.value.end);
      const reported = new Set(runs.filter((r) => r.status !== "missed").map((r) => r.where));
      // Not all there yet: the last location's writer decides, or the lane at the deadline.
      if (!locationsOf(job).every((where) => reported.has(where))) return;
      await this.decide(job, request.at, runs, settle, known);
    } catch (error) {
      console.error(
        `Cannot decide the state of job "${job.id}" now, the alert lane will: ${
          (error as Error).message
        }`,
      );
    }
  }

  /**
   * The alert lane's handler: items a dead process left, deadlines, windows that ended. Items
   * of one job run one after the other in the order the lane started them (its order of due
   * times): a dead process's items for two intervals of a job, decided side by side, could
   * let the newer one win and the older one find itself decided already, uncounted.
   */
  execute(item: QueueItem<DecideValue>, lease: Lease): Promise<void> {
    const key = JSON.stringify(item.id.slice(0, 2));
    const run = (this.chains.get(key) ?? Promise.resolve()).then(() =>
      this.decideItem(item, lease)
    );
    const chained = run.then(() => {}, () => {});
    this.chains.set(key, chained);
    chained.then(() => {
      if (this.chains.get(key) === chained) this.chains.delete(key);
    });
    return run;
  }

  private async decideItem(item: QueueItem<DecideValue>, lease: Lease): Promise<void> {
    const [userId, jobId, at] = item.id as [string, string, number];
    const settle: LeaseRef[] = [lease.ref];
    const [{ job, state }] = await this.options.alerts.decisionFacts([[userId, jobId]]);
    if (!job) return await this.options.alerts.settle(settle);
    if (item.value.afterWindow) return await this.afterWindow(job, settle, state);
    const runs = item.value.run
      ? await this.theRun(job, item.value.run)
      : await this.intervalRuns(job, at, item.value.end);
    if (runs.length === 0) return await this.options.alerts.settle(settle);
    await this.decide(job, at, runs, settle, state);
  }

  /** Decides the interval starting at `at` from its runs; settles `settle` with it. */
  private async decide(
    job: Job,
    at: number,
    runs: Run[],
    settle: LeaseRef[],
    known?: VersionedAlertState,
  ): Promise<void> {
    const { alerts } = this.options;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const read = known ? { job, state: known } : await this.reread(job);
      known = undefined;
      if (!read.job) return await alerts.settle(settle);
      job = read.job;
      const decision = await this.plan(job, at, runs, settle, read.state);
      if (!decision) return await alerts.settle(settle); // decided already: only the item goes
      if (await alerts.decide(decision)) return this.queued(decision);
    }
    throw new ConflictError(`Cannot decide job "${job.id}": its state keeps changing`);
  }

  /**
   * What deciding the interval starting at `at` from its runs writes, on the state `current`;
   * null when that interval is decided already.
   */
  private async plan(
    job: Job,
    at: number,
    runs: Run[],
    settle: LeaseRef[],
    current: VersionedAlertState,
  ): Promise<AlertDecision | null> {
    const settings = alertSettingsOf(job);
    const outcome = intervalOutcome(job, runs, settings);
    const covered = await this.options.calendar.coveringAt(job.userId, job.id, at);
    const now = this.options.clock.now();
    const step = decideInterval(
      current.state ?? initialState(job.userId, job.id, Date.parse(job.createdAt)),
      { at, verdict: outcome.verdict, paused: !job.enabled, maintenance: covered !== null },
      settings,
      () => newIncidentId(now),
    );
    if (!step) return null;
    const warning = covered === null && job.enabled
      ? certificateWarning(settings, outcome, current.state?.certificatesWarned ?? [])
      : null;
    const next = warning ? { ...step.next, certificatesWarned: warning.warned } : step.next;
    const decision = await this.decision(
      job,
      settings,
      current,
      { ...step, next },
      outcome,
      settle,
      now,
    );
    if (warning) {
      const notice = { jobId: job.id, ...warning.notice };
      decision.notifications = [
        ...(decision.notifications ?? []),
        ...certificateNotifications(settings, job.userId, notice, now),
      ];
    }
    if (covered !== null) decision.queue = [await this.windowEnd(job, at, now)];
    return decision;
  }

  /**
   * A window covering a job in `maintenance` has ended (or should have): apply what the
   * counters say, or look again at the end of the window that covers it now.
   */
  private async afterWindow(
    job: Job,
    settle: LeaseRef[],
    known: VersionedAlertState,
  ): Promise<void> {
    const { alerts, calendar } = this.options;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const read = attempt === 0 ? { job, state: known } : await this.reread(job);
      if (!read.job) return await alerts.settle(settle);
      job = read.job;
      const current = read.state;
      const now = this.options.clock.now();
      if (!current.state) return await alerts.settle(settle);
      let decision: AlertDecision;
      if (await calendar.coveringAt(job.userId, job.id, now)) {
        // Extended, or another window follows: look again when that one ends.
        const later = await this.windowEnd(job, now, now);
        decision = { current, next: current.state, settle, queue: [later], enabled: job.enabled };
      } else {
        const settings = alertSettingsOf(job);
        const step = endMaintenance(current.state, settings, now, () => newIncidentId(now));
        if (!step) return await alerts.settle(settle);
        const last = current.state.decidedThrough;
        const runs = await this.intervalRuns(job, last, intervalEnd(job, last));
        const outcome = intervalOutcome(job, runs, settings);
        decision = await this.decision(job, settings, current, step, outcome, settle, now);
      }
      if (await alerts.decide(decision)) return this.queued(decision);
    }
    throw new ConflictError(`Cannot end maintenance of job "${job.id}": its state keeps changing`);
  }

  /** What a transition writes besides the state: the incident and its notifications. */
  private async decision(
    job: Job,
    settings: AlertSettings,
    current: VersionedAlertState,
    step: Transition,
    outcome: IntervalOutcome,
    settle: LeaseRef[],
    now: number,
  ): Promise<AlertDecision> {
    // Most decisions only count: the state record is all they write.
    const decision: AlertDecision = { current, next: step.next, settle, enabled: job.enabled };
    if (step.open) {
      const incident = openedIncident(job, step.next, outcome, now);
      const notifications = openedNotifications(settings, incident, now);
      incident.notificationIds = notifications.map((n) => n.id);
      decision.incident = { next: incident, current: null };
      decision.notifications = notifications;
    }
    if (step.resolve && current.state?.incidentId) {
      const read = await this.options.alerts.getIncident(job.userId, current.state.incidentId);
      if (read) {
        const sent = (await this.options.alerts.getNotifications(read.incident.notificationIds))
          .filter((n) => n !== null);
        const cancel = cancellable(sent, now);
        const told = toldChannels(sent, new Set(cancel.map((c) => c.next.id)));
        const notifications = resolvedNotifications(settings, read.incident, told, now);
        const endedAt = step.next.streakSince ?? now;
        const startedAt = Date.parse(read.incident.startedAt);
        decision.incident = {
          current: read,
          next: {
            ...read.incident,
            state: "resolved",
            endedAt: new Date(endedAt).toISOString(),
            durationMs: Math.max(0, endedAt - startedAt),
            notificationIds: [...read.incident.notificationIds, ...notifications.map((n) => n.id)],
          },
        };
        decision.notifications = notifications;
        decision.cancel = cancel;
      }
    }
    return decision;
  }

  /**
   * The job and its state read again together, after a decision failed its check: the job
   * may have been paused, resumed or deleted meanwhile (which changes the state's version).
   */
  private async reread(job: Job): Promise<{ job: Job | null; state: VersionedAlertState }> {
    const [read] = await this.options.alerts.decisionFacts([[job.userId, job.id]]);
    return read;
  }

  /** The item that looks at a job again when the window covering it at `at` ends. */
  private async windowEnd(job: Job, at: number, now: number): Promise<DecideRequest> {
    const spans = await this.options.calendar.spans(job.userId, job.id, at, at + WINDOW_HORIZON_MS);
    const end = spans.find(([start, end]) => start <= at && at < end)?.[1] ??
      now + WINDOW_RECHECK_MS;
    return {
      userId: job.userId,
      jobId: job.id,
      at: end,
      dueAt: end,
      value: { end, afterWindow: true },
    };
  }

  private queued(decision: AlertDecision): void {
    const before = decision.current.state;
    if (decision.incident || before?.state !== decision.next.state) {
      this.options.onChange?.(decision.next.userId, decision.next.jobId);
    }
    const times = (decision.notifications ?? []).map((n) => n.nextAttemptAt ?? Infinity);
    const first = Math.min(...times);
    if (first !== Infinity) this.options.onNotification?.(first);
  }

  /** An interval's runs that count: every location's, manual runs of a multi-location job left out. */
  private async intervalRuns(job: Job, from: number, to: number): Promise<Run[]> {
    const runs = await this.options.alerts.runsBetween(job.userId, job.id, from, to);
    return isMultiLocation(job) ? runs.filter((r) => r.trigger !== "MANUAL") : runs;
  }

  private async theRun(job: Job, [scheduledAt, suffix]: [number, string]): Promise<Run[]> {
    const runs = await this.options.alerts.runsBetween(
      job.userId,
      job.id,
      scheduledAt,
      scheduledAt + 1,
    );
    return runs.filter((r) => r.id === `${scheduledAt}-${suffix}`);
  }
}

/**
 * The warning due for the certificate the interval's local run saw (workers record none), with
 * what its notifications tell; null when none is, or when no channel would hear of it.
 */
function certificateWarning(
  settings: AlertSettings,
  outcome: IntervalOutcome,
  warned: readonly string[],
): (CertificateWarning & { notice: Omit<CertificateNotice, "jobId"> }) | null {
  if (settings.channels.length === 0) return null;
  const run = outcome.runs.find((r) => r.where === "local" && r.tls);
  if (!run?.tls) return null;
  const warning = certificateWarningDue({
    certificateDays: settings.certificateDays,
    run,
    at: Date.parse(run.startedAt ?? run.scheduledAt),
    warned,
  });
  if (!warning) return null;
  const { subject, issuer, validFrom, validTo, serialNumber, fingerprint256 } = run.tls;
  return {
    ...warning,
    notice: {
      runId: run.id,
      subject,
      issuer,
      validFrom,
      validTo,
      daysLeft: warning.daysLeft,
      thresholdDays: warning.thresholdDays,
      serialNumber,
      fingerprint256,
    },
  };
}

function openedIncident(
  job: Job,
  state: JobAlertState,
  outcome: IntervalOutcome,
  now: number,
): Incident {
  return {
    id: state.incidentId!,
    userId: job.userId,
    jobId: job.id,
    state: "open",
    kind: "down",
    startedAt: new Date(state.streakSince ?? now).toISOString(),
    endedAt: null,
    durationMs: null,
    cause: causeOf(outcome.failed),
    runIds: outcome.failed.map((r) => r.id),
    locations: outcome.failed.map((r) => r.where),
    acknowledgedAt: null,
    acknowledgedBy: null,
    updates: [],
    notificationIds: [],
  };
}

function scheduleOf(job: Job) {
  return parseSchedule(job.schedule, { timezone: job.timezone, key: job.id });
}

/** The end of the interval starting at `start` (for reading its runs again). */
function intervalEnd(job: Job, start: number): number {
  const schedule = scheduleOf(job);
  if (schedule.kind === "interval") return start + schedule.everyMs;
  return nextFireTimes(schedule, start, { limit: 1 })[0] ?? start + 1;
}

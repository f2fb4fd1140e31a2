/**
 * Runs one leased fire: reads the job as it is now, sends the request with the job's
 * deadline, and records the run. A fire whose job was deleted is dropped. A scheduled fire
 * whose job was since disabled or rescheduled away from that time is dropped if it was due
 * after the change (the change withdrew it), and recorded as missed if it was due before (its
 * process died before running it). One older than the catch-up deadline (its process was
 * down) is recorded as missed instead of run late.
 */
import type { Clock } from "../clock.ts";
import type { Metrics } from "../metrics.ts";
import {
  probe as sendProbe,
  type ProbeOptions,
  type ProbeRequest,
  type ProbeResult,
} from "../net/probe.ts";
import type { CertificateReader, ServerCertificate } from "../net/tls_certificate.ts";
import { isFireTime } from "../schedule/schedule.ts";
import { isLegacyIntervalTime } from "../schedule/interval.ts";
import { fireSchedule } from "../heartbeat/window.ts";
import type { LateCheck } from "../heartbeat/late_check.ts";
import { runId } from "../store/run_id.ts";
import type { LaneStore, LeaseRef } from "../store/lanes.ts";
import type { JobForRun, OutboxDelivery, Store } from "../store/store.ts";
import type { Job, Run, RunTls } from "../store/types.ts";
import type { FireTask } from "./fires.ts";
import type { JobStats } from "../stats/job_stats.ts";
import type { CloudRunRunner } from "../gcp/cloud_run_runner.ts";
import type { RunDecisions } from "../alerts/engine.ts";

/** Time kept back from the lease for recording the result. */
const RECORD_MARGIN_MS = 5_000;

export interface RunnerOptions {
  /** Reads the job and writes the run (`recordRun`). */
  store: Store;
  /** Ends the lease of a fire dropped without a run. */
  lanes: LaneStore;
  clock: Clock;
  metrics: Metrics;
  allowPrivateNetworks: boolean;
  catchUpDeadlineMs: number;
  /** The HTTP client; tests may wrap it. */
  probe?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /**
   * Follow-up work of a run (the webhook outbox): written with the run, then `afterCommit`
   * is called.
   */
  followUp?: (run: Run, job: JobForRun) => Promise<FollowUp | null>;
  /** Tallies finished runs for the dashboard's 24-hour statistics. */
  stats?: JobStats;
  /** Starts Cloud Run jobs (jobs of type `cloud_run_job`). */
  cloudRun?: CloudRunRunner;
  /** Decides the job's alert state from the run: in its commit, or after from an item in it. */
  alerts?: RunDecisions;
  /** Reads https targets' certificates beside their runs (absent: not read). */
  certificates?: CertificateReader;
  /** Checks heartbeat jobs' pings (jobs of type `heartbeat`). */
  lateCheck?: LateCheck;
}

export interface FollowUp {
  outbox: OutboxDelivery[];
  afterCommit: () => void;
}

export class Runner {
  private readonly probe: NonNullable<RunnerOptions["probe"]>;

  constructor(private readonly options: RunnerOptions) {
    this.probe = options.probe ?? sendProbe;
  }

  /** The read a run needs, done ahead of the fire's time by the dispatcher. */
  async prepare(task: FireTask): Promise<JobForRun | null> {
    const stored = await this.options.store.getJobForRun(task.userId, task.jobId);
    return stored && { ...stored, readAt: this.options.clock.now() };
  }

  /** Runs a fire; `prepared` is `prepare`'s result when the dispatcher read ahead. */
  async execute(
    task: FireTask,
    lease: LeaseRef,
    leaseUntil: number,
    prepared?: JobForRun | null,
  ): Promise<void> {
    const { store, clock, metrics } = this.options;
    const stored = prepared !== undefined ? prepared : await this.prepare(task);
    // A job changed since the fire was claimed (disabled, or rescheduled away from its time)
    // withdrew the fires due after the change; one due before it is owed a record.
    const changed = stored !== null && task.trigger === "AUTO" && !firesAt(stored.job, task.at);
    if (!stored || (changed && task.at > Date.parse(stored.job.updatedAt))) {
      metrics.observeRun("skipped", null);
      return this.options.lanes.release(lease);
    }
    const now = clock.now();
    // A heartbeat's check reads what is stored, so done late it is as exact as on time.
    const tooLate = task.trigger === "AUTO" && stored.job.type !== "heartbeat" &&
      now - task.at > this.options.catchUpDeadlineMs;
    if (changed || tooLate) {
      await store.recordRun({
        run: missedRun(task, stored.job, now, changed ? CHANGED : TOO_LATE),
        scheduledAt: task.at,
        suffix: task.suffix,
        lease,
        runsStored: stored.runsStored,
        counts: false,
      });
      metrics.observeRun("missed", null);
      return;
    }
    const run = stored.job.type === "heartbeat"
      ? await this.checkPings(task, stored.job, now)
      : await this.send(task, stored.job, leaseUntil);
    // A heartbeat whose ping came: nothing to record.
    if (run === null) return this.options.lanes.release(lease);
    await this.options.alerts?.markMaintenance(run, stored.job);
    const followUp = await this.options.followUp?.(run, stored) ?? null;
    const alerts = this.options.alerts;
    const decide = alerts?.requestFor(run, stored.job) ?? undefined;
    const decided = decide
      ? await alerts!.decideAhead(run, stored.job, decide, stored.alertState)
      : null;
    const recorded = await store.recordRun({
      run,
      scheduledAt: task.at,
      suffix: task.suffix,
      lease,
      runsStored: stored.runsStored,
      counts: true,
      recent: stored.recent,
      outbox: followUp?.outbox,
      // Its webhook's receiver waits for the deliveries sent once the run is written.
      mayWait: !followUp?.outbox.length,
      decide,
      decided: decided ?? undefined,
    });
    if (recorded) {
      metrics.observeRun(run.status === "success" ? "success" : "failure", run.lateMs);
      this.options.stats?.observe(run.userId, run.jobId, {
        at: task.at,
        ok: run.status === "success",
        latencyMs: run.durationMs,
        lateMs: run.lateMs,
      });
      followUp?.afterCommit();
      if (decide) await alerts!.afterRecord(run, stored.job, decide, stored.alertState, decided);
    }
  }

  /** A heartbeat's fire: its late run, or null when its ping came (or none was owed). */
  private checkPings(task: FireTask, job: Job, now: number): Promise<Run | null> {
    if (!this.options.lateCheck) throw new Error("Heartbeat jobs are not set up in this process");
    // Only the schedule's own fires check; a manual fire of a heartbeat has nothing to do.
    if (task.trigger !== "AUTO") return Promise.resolve(null);
    return this.options.lateCheck.lateRun(job, task, now);
  }

  private async send(task: FireTask, job: Job, leaseUntil: number): Promise<Run> {
    const startedAt = this.options.clock.now();
    // Never outlive the lease: past it, another process may take the fire again.
    const timeoutMs = Math.max(
      1,
      Math.min(job.timeoutMs, leaseUntil - startedAt - RECORD_MARGIN_MS),
    );
    const id = runId(task.at, task.suffix);
    const common = {
      id,
      jobId: job.id,
      userId: job.userId,
      where: "local",
      trigger: task.trigger,
      scheduledAt: new Date(task.at).toISOString(),
      startedAt: new Date(startedAt).toISOString(),
      lateMs: Math.max(0, startedAt - task.at),
    };
    if (job.type === "cloud_run_job") {
      if (!this.options.cloudRun) throw new Error("Cloud Run jobs are not set up in this process");
      const result = await this.options.cloudRun.run(job, {
        fireId: `${job.id}:${id}`,
        scheduledAt: task.at,
        deadlineMs: timeoutMs,
        retaken: task.retaken,
        env: task.env,
      });
      return {
        ...common,
        status: result.success ? "success" : "failure",
        code: result.code,
        finishedAt: new Date(startedAt + result.durationMs).toISOString(),
        durationMs: result.durationMs,
        response: null,
        error: result.error,
        failure: null,
        execution: result.execution,
      };
    }
    const result = await this.probe(
      { url: job.url, method: job.method, headers: job.headers ?? {}, body: job.body, timeoutMs },
      {
        expect: job.expect ?? undefined,
        allowPrivate: this.options.allowPrivateNetworks,
        certificates: this.options.certificates,
      },
    );
    return {
      ...common,
      status: result.success ? "success" : "failure",
      code: result.code,
      finishedAt: new Date(startedAt + result.durationMs).toISOString(),
      durationMs: result.durationMs,
      response: result.code === 0 ? null : {
        headers: result.headers,
        body: result.body,
        bodyTruncated: result.bodyTruncated,
      },
      error: result.error,
      failure: result.failure,
      ...(result.certificate ? { tls: runTls(result.certificate, startedAt) } : {}),
    };
  }
}

const DAY_MS = 86_400_000;

/** The certificate as the run saw it: whole days left from the run's start (clock time). */
function runTls(certificate: ServerCertificate, startedAt: number): RunTls {
  const daysLeft = Math.floor((Date.parse(certificate.validTo) - startedAt) / DAY_MS);
  return { ...certificate, daysLeft };
}

function firesAt(job: Job, at: number): boolean {
  if (!job.enabled || job.local === false) return false;
  try {
    const schedule = fireSchedule(job);
    // A fire claimed by a release before fires were spread over the second runs as claimed.
    return isFireTime(schedule, at) ||
      (schedule.kind === "interval" &&
        isLegacyIntervalTime(schedule, at - (schedule.shiftMs ?? 0)));
  } catch {
    return false;
  }
}

const TOO_LATE = "Hibiki was not running at the scheduled time and the catch-up deadline passed";
const CHANGED = "The job was changed before this fire could run: it no longer fires at this time";

function missedRun(task: FireTask, job: Job, now: number, message: string): Run {
  return {
    id: runId(task.at, task.suffix),
    jobId: job.id,
    userId: job.userId,
    where: "local",
    trigger: task.trigger,
    status: "missed",
    code: 0,
    scheduledAt: new Date(task.at).toISOString(),
    startedAt: null,
    finishedAt: null,
    durationMs: null,
    lateMs: now - task.at,
    response: null,
    error: { category: "missed", message },
    failure: null,
  };
}

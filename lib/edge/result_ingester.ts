/**
 * Stores accepted worker results as runs of their jobs (`where` = the worker id), a chunk at a
 * time through `Store.recordRuns`: each run with its counters, latest results, webhook outbox
 * and alert decision (or its decide item, decided after) as `recordRun` writes a local run, the
 * chunk's runs together (one transaction of a few set-based statements on Postgres). A run's id
 * is checked_at + worker and the store writes a run only if it does not exist yet, so a batch a
 * worker sends twice, or a chunk taken again after a crash, is stored once.
 *
 * Results were checked when accepted; they are checked again here against the worker's
 * monitors (one read per worker and chunk), so a job disabled, deleted or taken off the
 * worker in between gets no run.
 */
import type { Metrics } from "../metrics.ts";
import type { JobStats } from "../stats/job_stats.ts";
import type { Lease, QueueItem } from "../lanes/dispatcher.ts";
import { runId } from "../store/run_id.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { OutboxDelivery, RunCompletion, RunFacts, Store } from "../store/store.ts";
import type { CheckResult, Job, ResultChunk, Run } from "../store/types.ts";
import type { RunDecisions } from "../alerts/engine.ts";
import type { VersionedAlertState } from "../store/alerts.ts";
import type { WebhookService } from "../webhooks/webhooks.ts";
import type { WorkerStore } from "../store/workers.ts";

export interface ResultIngesterOptions {
  store: Store;
  /** Ends a chunk's lease once its runs are written. */
  lanes: LaneStore;
  /** Decides the jobs' alert states from the runs (see lib/alerts/engine.ts). */
  alerts?: RunDecisions;
  workers: WorkerStore;
  webhooks: WebhookService;
  metrics: Metrics;
  stats: JobStats;
  onDelivery: () => void;
}

type Outbox = Map<Run, OutboxDelivery>;
/**
 * A chunk's jobs decided at once, at most. Each decision is a write of its own: all 500 at
 * once filled the store's pool and workers' batches waited behind them (bench edge on
 * Postgres, quick: batch p99 410–610 ms with all at once, 140–150 ms with 4).
 */
const DECIDING = 4;
/** Each job of a chunk as alerting reads it: the job and its alert state. */
type AlertFacts = Map<string, { job: Job | null; state: VersionedAlertState }>;

export class ResultIngester {
  constructor(private readonly options: ResultIngesterOptions) {}

  async execute(item: QueueItem<ResultChunk>, lease: Lease): Promise<void> {
    const { store, metrics, stats } = this.options;
    const runs = await this.assigned(item.value.results);
    const [jobs, alertFacts] = await Promise.all([this.jobs(runs), this.alertFacts(runs)]);
    const outbox = await this.outbox(runs, jobs);
    const completions = this.completions(runs, jobs, outbox, alertFacts);
    await this.decideAhead(completions, alertFacts);
    const recorded = await store.recordRuns(completions);
    let deliveries = false;
    completions.forEach(({ run, outbox }, i) => {
      if (!recorded[i]) return;
      metrics.observeRun(run.status === "success" ? "success" : "failure", null);
      stats.observe(run.userId, run.jobId, {
        at: Date.parse(run.scheduledAt),
        ok: run.status === "success",
        latencyMs: run.durationMs,
        lateMs: null,
      });
      deliveries ||= outbox !== undefined;
    });
    // Only now: a crash before this point leaves the chunk to be taken again.
    await this.options.lanes.release(lease.ref);
    if (deliveries) this.options.onDelivery();
    await this.decide(completions.filter((_, i) => recorded[i]), alertFacts);
  }

  /**
   * Decides what the written runs allow, a job's intervals oldest first (each decision reads
   * the state the one before wrote), a few jobs side by side (DECIDING). A multi-location
   * interval reported by several runs of the chunk is looked at once, after the last of them.
   */
  private async decide(written: RunCompletion[], facts: AlertFacts): Promise<void> {
    const alerts = this.options.alerts;
    if (!alerts) return;
    const jobs = [...Map.groupBy(written.filter((c) => c.decide), (c) => c.run.jobId).values()];
    let next = 0;
    await Promise.all(Array.from({ length: DECIDING }, async () => {
      while (next < jobs.length) await decideJob(alerts, jobs[next++], facts);
    }));
  }

  /**
   * Each job's first run checked from one place carries its decision in its own commit, made
   * on the state read with the chunk; the job's later runs in the chunk are decided after it.
   */
  private async decideAhead(completions: RunCompletion[], facts: AlertFacts): Promise<void> {
    const alerts = this.options.alerts;
    if (!alerts) return;
    const seen = new Set<string>();
    for (const c of completions) {
      if (c.decide?.heldUntil === undefined || seen.has(c.run.jobId)) continue;
      seen.add(c.run.jobId);
      const { job, state } = facts.get(c.run.jobId)!;
      c.decided = await alerts.decideAhead(c.run, job!, c.decide, state) ?? undefined;
    }
  }

  private async alertFacts(runs: Run[]): Promise<AlertFacts> {
    const alerts = this.options.alerts;
    if (!alerts) return new Map();
    const jobs = [...new Map(runs.map((r) => [r.jobId, r.userId])).entries()];
    const facts = await alerts.facts(jobs.map(([jobId, userId]) => [userId, jobId]));
    const byJob: AlertFacts = new Map(jobs.map(([jobId], i) => [jobId, facts[i]]));
    for (const run of runs) {
      const job = byJob.get(run.jobId)?.job;
      if (job) await alerts.markMaintenance(run, job);
    }
    return byJob;
  }

  /** The results whose monitor is still assigned to their worker, as runs. */
  private async assigned(results: CheckResult[]): Promise<Run[]> {
    const workers = [...new Set(results.map((r) => r.worker_id))];
    const owners = new Map(
      await Promise.all(workers.map(async (w) => {
        const named = results.filter((r) => r.worker_id === w).map((r) => r.monitor_id);
        return [w, await this.options.workers.monitorOwners(w, named)] as const;
      })),
    );
    const runs: Run[] = [];
    for (const result of results) {
      const userId = owners.get(result.worker_id)?.get(result.monitor_id);
      if (userId) runs.push(toRun(result, userId));
    }
    const skipped = results.length - runs.length;
    if (skipped > 0) {
      console.warn(
        `Dropped ${skipped} worker results: their monitors were disabled, deleted or ` +
          `taken off the worker after the results were accepted`,
      );
    }
    return runs;
  }

  private async jobs(runs: Run[]): Promise<Map<string, RunFacts>> {
    const jobs = [...new Map(runs.map((r) => [r.jobId, r.userId])).entries()];
    const facts = await this.options.store.runFacts(jobs.map(([jobId, userId]) => [userId, jobId]));
    return new Map(jobs.map(([jobId], i) => [jobId, facts[i]]));
  }

  /** One completion per run, a job's runs oldest first (so its latest results end in order). */
  private completions(
    runs: Run[],
    jobs: Map<string, RunFacts>,
    outbox: Outbox,
    alertFacts: AlertFacts,
  ): RunCompletion[] {
    const byJob = Map.groupBy(runs, (run) => run.jobId);
    const completions: RunCompletion[] = [];
    for (const [jobId, ofJob] of byJob) {
      const facts = jobs.get(jobId)!;
      const job = alertFacts.get(jobId)?.job ?? null;
      ofJob.sort((a, b) => Date.parse(a.scheduledAt) - Date.parse(b.scheduledAt));
      ofJob.forEach((run, i) => {
        const scheduledAt = Date.parse(run.scheduledAt);
        const decide = job ? this.options.alerts?.requestFor(run, job) ?? undefined : undefined;
        completions.push({
          run,
          scheduledAt,
          suffix: run.where,
          lease: null,
          runsStored: facts.runsStored + i,
          counts: true,
          recent: facts.recent,
          outbox: outbox.has(run) ? [outbox.get(run)!] : undefined,
          decide,
        });
      });
    }
    return completions;
  }

  /** The webhook deliveries of the runs whose jobs have a webhook. */
  private async outbox(runs: Run[], jobs: Map<string, RunFacts>): Promise<Outbox> {
    const out: Outbox = new Map();
    const withHook = [...new Map(runs.map((r) => [r.jobId, r.userId])).entries()]
      .filter(([jobId]) => jobs.get(jobId)!.hasWebhook);
    // One read per job with a webhook, all at once; nothing is written between them.
    const stored = new Map(
      await Promise.all(
        withHook.map(async ([jobId, userId]) =>
          [jobId, await this.options.store.getJobForRun(userId, jobId)] as const
        ),
      ),
    );
    for (const run of runs) {
      const job = stored.get(run.jobId);
      const delivery = job && await this.options.webhooks.outboxFor(run, job);
      if (delivery) out.set(run, delivery);
    }
    return out;
  }
}

/** Decides a job's runs of a chunk, oldest first. */
async function decideJob(
  alerts: RunDecisions,
  ofJob: RunCompletion[],
  facts: AlertFacts,
): Promise<void> {
  const { job, state } = facts.get(ofJob[0].run.jobId)!;
  const last = new Map(ofJob.map((c) => [c.decide!.at, c]));
  let known: VersionedAlertState | undefined = state;
  for (const c of ofJob) {
    if (!c.decide!.heldUntil && last.get(c.decide!.at) !== c) continue;
    await alerts.afterRecord(c.run, job!, c.decide!, known, c.decided);
    known = undefined;
  }
}

export function toRun(result: CheckResult, userId: string): Run {
  const checkedAt = Date.parse(result.checked_at);
  const duration = result.response_time_ms === null ? null : Math.round(result.response_time_ms);
  return {
    id: runId(checkedAt, result.worker_id),
    jobId: result.monitor_id,
    userId,
    where: result.worker_id,
    trigger: "AUTO",
    status: result.success ? "success" : "failure",
    code: result.status_code ?? 0,
    scheduledAt: result.checked_at,
    startedAt: result.checked_at,
    finishedAt: new Date(checkedAt + (duration ?? 0)).toISOString(),
    durationMs: duration,
    lateMs: null,
    response: result.response_body_sample === null
      ? null
      : { headers: {}, body: result.response_body_sample, bodyTruncated: false },
    error: result.success ? null : {
      category: "worker",
      message: result.error_message ?? `Check failed with status ${result.status_code ?? "none"}`,
    },
    failure: null,
  };
}

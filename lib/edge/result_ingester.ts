/**
 * Stores accepted worker results as runs of their jobs (`where` = the worker id), so they
 * feed the same history, counters and webhooks as local runs. Each run is written with the
 * check "this run does not exist yet" (its id is checked_at + worker), so a batch a worker
 * sends twice, or a chunk taken again after a crash, is stored once.
 */
import type { Metrics } from "../metrics.ts";
import type { JobStats } from "../stats/job_stats.ts";
import type { Lease, QueueItem } from "../scheduler/dispatcher.ts";
import type { RunRecorder } from "../scheduler/run_recorder.ts";
import { getMany } from "../store/get_many.ts";
import { kvKeys } from "../store/kv_keys.ts";
import { runId } from "../store/kv_store.ts";
import type { Store } from "../store/store.ts";
import type { Run } from "../store/types.ts";
import type { WebhookService } from "../webhooks/webhooks.ts";
import type { ResultChunk } from "./edge_service.ts";
import type { CheckResult } from "./results_input.ts";

/** Runs per atomic operation: each brings one check; outbox writes add a few mutations. */
const RUNS_PER_OP = 90;
/** Retention is checked on a sample of writes, like local runs check it every 100th. */
const PRUNE_EVERY = 50;

export interface ResultIngesterOptions {
  kv: Deno.Kv;
  store: Store;
  webhooks: WebhookService;
  recorder: RunRecorder;
  metrics: Metrics;
  stats: JobStats;
  onDelivery: () => void;
}

export class ResultIngester {
  private written = 0;

  constructor(private readonly options: ResultIngesterOptions) {}

  async execute(item: QueueItem<ResultChunk>, lease: Lease): Promise<void> {
    const { kv } = this.options;
    const owners = await this.owners(item.value.results);
    const runs: Run[] = [];
    for (const result of item.value.results) {
      const userId = owners.get(result.monitor_id);
      if (userId) runs.push(toRun(result, userId));
    }
    const skipped = item.value.results.length - runs.length;
    if (skipped > 0) console.warn(`Dropped ${skipped} worker results for unknown monitors`);
    const outbox = await this.outbox(runs);
    let deliveries = false;
    for (let i = 0; i < runs.length; i += RUNS_PER_OP) {
      const slice = runs.slice(i, i + RUNS_PER_OP);
      const last = i + RUNS_PER_OP >= runs.length;
      deliveries = await this.write(slice, outbox, last ? lease.key : null) || deliveries;
    }
    if (runs.length === 0) await kv.delete(lease.key);
    if (deliveries) this.options.onDelivery();
  }

  /** Writes runs; on a conflict drops those already stored and writes the rest. */
  private async write(
    runs: Run[],
    outbox: Map<string, (op: Deno.AtomicOperation) => void>,
    leaseKey: Deno.KvKey | null,
  ): Promise<boolean> {
    const { kv, metrics } = this.options;
    let pending = runs;
    for (let attempt = 0; attempt < 3; attempt++) {
      const op = kv.atomic();
      for (const run of pending) {
        const key = kvKeys.run(run.userId, run.jobId, Date.parse(run.scheduledAt), run.where);
        op.check({ key, versionstamp: null }).set(key, run)
          .sum(kvKeys.jobCount(run.userId, run.jobId), 1n)
          .max(kvKeys.jobLast(run.userId, run.jobId), BigInt(Date.parse(run.startedAt!)));
        outbox.get(run.id + run.jobId)?.(op);
      }
      if (leaseKey) op.delete(leaseKey);
      if ((await op.commit()).ok) {
        for (const run of pending) {
          metrics.observeRun(run.status === "success" ? "success" : "failure", null);
          this.options.stats.observe(run.userId, run.jobId, {
            at: Date.parse(run.scheduledAt),
            ok: run.status === "success",
            latencyMs: run.durationMs,
            lateMs: null,
          });
          if (++this.written % PRUNE_EVERY === 0) this.prune(run);
        }
        return pending.some((run) => outbox.has(run.id + run.jobId));
      }
      const existing = await getMany(
        kv,
        pending.map((r) => kvKeys.run(r.userId, r.jobId, Date.parse(r.scheduledAt), r.where)),
      );
      pending = pending.filter((_, i) => existing[i].versionstamp === null);
    }
    throw new Error("Cannot store worker results: the runs keep conflicting");
  }

  private prune(run: Run): void {
    this.options.recorder.prune(run.userId, run.jobId).catch((error) =>
      console.error(`Cannot prune runs of job "${run.jobId}": ${(error as Error).message}`)
    );
  }

  private async owners(results: CheckResult[]): Promise<Map<string, string>> {
    const ids = [...new Set(results.map((r) => r.monitor_id))];
    const entries = await getMany(this.options.kv, ids.map((id) => kvKeys.jobOwner(id)));
    const owners = new Map<string, string>();
    entries.forEach((entry, i) => {
      if (typeof entry.value === "string") owners.set(ids[i], entry.value);
    });
    return owners;
  }

  /** The webhook deliveries of the runs whose jobs have a webhook, keyed by run. */
  private async outbox(runs: Run[]): Promise<Map<string, (op: Deno.AtomicOperation) => void>> {
    const out = new Map<string, (op: Deno.AtomicOperation) => void>();
    const jobs = [...new Map(runs.map((r) => [r.jobId, r])).values()];
    const hooks = await getMany(
      this.options.kv,
      jobs.map((r) => kvKeys.webhook(r.userId, r.jobId)),
    );
    // One read per job with a webhook, all at once; nothing is written between them.
    const withHook = jobs.filter((_, i) => hooks[i].value !== null);
    const stored = new Map(
      await Promise.all(
        withHook.map(async (r) =>
          [r.jobId, await this.options.store.getJobForRun(r.userId, r.jobId)] as const
        ),
      ),
    );
    for (const run of runs) {
      const job = stored.get(run.jobId);
      const write = job && await this.options.webhooks.outboxFor(run, job);
      if (write) out.set(run.id + run.jobId, write);
    }
    return out;
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

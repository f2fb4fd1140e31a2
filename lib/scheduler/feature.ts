/**
 * Builds the scheduling feature: the scheduler that claims fires ahead (what jobs and the cron
 * tick call), and the fire lane that holds them and starts each at its second through the
 * runner. The runner wakes nothing of its own, so the order is plain:
 * handler, lane, then the scheduler that fills the lane.
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { CloudRunRunner } from "../gcp/cloud_run_runner.ts";
import type { LateCheck } from "../heartbeat/late_check.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { Metrics } from "../metrics.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "../net/probe.ts";
import { CertificateReader } from "../net/tls_certificate.ts";
import type { JobStats } from "../stats/job_stats.ts";
import type { ClaimStore } from "../store/claims.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { JobForRun, Store } from "../store/store.ts";
import { fireTask, type FireValue, leaseMs } from "./fires.ts";
import { Runner, type RunnerOptions } from "./runner.ts";
import { Scheduler } from "./scheduler.ts";

/** Held fires read their job this long before their second (see Dispatcher.prepare). */
const FIRE_PREPARE_LEAD_MS = 1000;
/**
 * A held fire whose job is in memory (lib/store/kv/job_memory.ts) starts this long before its
 * second: it reads nothing, and what it holds while it waits then dies young. With 1 s, 5,000
 * monitors promoted ~8 KB a check to the old generation; 300 ms gave 4 % less CPU a check
 * (bench `monitors`). Jobs not in memory keep the full lead for their reads: with 300 ms for
 * every fire, the last of 5,000 cold jobs due at one second (bench `burst`) started 1.5 s late.
 */
const FIRE_READY_LEAD_MS = 300;

export interface FiresOptions {
  store: Store;
  /** The fire lane's items and leases. */
  lanes: LaneStore;
  /** The jobs' due entries, claimed ahead. */
  claims: ClaimStore;
  stats?: JobStats;
  clock: Clock;
  metrics: Metrics;
  config: Pick<Config, "allowPrivateNetworks" | "catchUpDeadlineMs" | "maxConcurrency">;
  cloudRun?: CloudRunRunner;
  /** Checks heartbeat jobs' pings at their fires. */
  lateCheck?: LateCheck;
  /** The HTTP client for job runs; tests may wrap it. */
  probe?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** Reads https targets' certificates beside runs; default one reader for the process. */
  certificates?: CertificateReader;
  /** A run's follow-up work (the webhook outbox), written with the run. */
  followUp?: RunnerOptions["followUp"];
  /** Wake dispatchers through the store's queue too (on by default, off in unit tests). */
  queueWakeups?: boolean;
  /** Decides the jobs' alert states from their runs. */
  alerts?: RunnerOptions["alerts"];
}

export interface Fires {
  scheduler: Scheduler;
  lane: Dispatcher<FireValue>;
}

export function createFires(options: FiresOptions): Fires {
  const { store, lanes, claims, clock, metrics, config } = options;
  const runner = new Runner({
    store,
    lanes,
    clock,
    metrics,
    allowPrivateNetworks: config.allowPrivateNetworks,
    catchUpDeadlineMs: config.catchUpDeadlineMs,
    probe: options.probe,
    stats: options.stats,
    cloudRun: options.cloudRun,
    lateCheck: options.lateCheck,
    followUp: options.followUp,
    alerts: options.alerts,
    certificates: options.certificates ?? new CertificateReader(),
  });
  const lane = new Dispatcher<FireValue>({
    lane: "fire",
    store: lanes,
    clock,
    maxConcurrency: config.maxConcurrency,
    leaseMs: (fire) => leaseMs(fire.timeoutMs),
    leadMs: FIRE_PREPARE_LEAD_MS,
    prepare: (item) => runner.prepare(fireTask(item)),
    ready: (item) => {
      const { userId, jobId } = fireTask(item);
      return store.remembersJob?.(userId, jobId) ?? false;
    },
    readyLeadMs: FIRE_READY_LEAD_MS,
    execute: (item, lease, prepared) =>
      runner.execute(fireTask(item), lease.ref, lease.until, prepared as JobForRun | null),
  });
  const scheduler = new Scheduler({
    claims,
    lanes,
    clock,
    metrics,
    catchUpDeadlineMs: config.catchUpDeadlineMs,
    onClaimed: (held) => lane.hold(held),
    onPending: (at) => lane.wake(at),
    queueWakeups: options.queueWakeups ?? true,
  });
  return { scheduler, lane };
}

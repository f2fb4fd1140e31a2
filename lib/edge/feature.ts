/**
 * Builds the edge API feature (seed 002): the service the `/functions/v1` routes call, and the
 * results lane that stores accepted worker results as runs. The ingester wakes nothing of its own, so the order is plain: handler, lane, then the
 * service that wakes the lane.
 */
import type { RunDecisions } from "../alerts/engine.ts";
import type { Clock } from "../clock.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { Metrics } from "../metrics.ts";
import type { JobStats } from "../stats/job_stats.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { Store } from "../store/store.ts";
import type { WebhookService } from "../webhooks/webhooks.ts";
import type { ResultChunk } from "../store/types.ts";
import type { WorkerStore } from "../store/workers.ts";
import { EdgeService } from "./edge_service.ts";
import { ResultIngester } from "./result_ingester.ts";

/** Storing a chunk of worker results takes milliseconds; a minute is generous. */
const RESULTS_LEASE_MS = 60_000;

export interface EdgeOptions {
  store: Store;
  /** The results lane's items and leases. */
  lanes: LaneStore;
  workers: WorkerStore;
  webhooks: WebhookService;
  stats: JobStats;
  metrics: Metrics;
  clock: Clock;
  /** Runs older than this are pruned (run retention): older results are not stored. */
  maxAgeMs: number;
  /** The delivery lane's wake: stored results may have queued webhook deliveries. */
  wakeDeliveries: (at?: number) => void;
  /** Decides the jobs' alert states from the stored results. */
  alerts?: RunDecisions;
}

export interface Edge {
  service: EdgeService;
  lane: Dispatcher<ResultChunk>;
}

export function createEdge(options: EdgeOptions): Edge {
  const { store, lanes, workers, webhooks, metrics, stats, clock } = options;
  const ingester = new ResultIngester({
    store,
    lanes,
    workers,
    webhooks,
    metrics,
    stats,
    onDelivery: () => options.wakeDeliveries(),
    alerts: options.alerts,
  });
  const lane = new Dispatcher<ResultChunk>({
    lane: "results",
    store: lanes,
    clock,
    maxConcurrency: 4,
    leaseMs: () => RESULTS_LEASE_MS,
    execute: (item, lease) => ingester.execute(item, lease),
  });
  const service = new EdgeService({
    workers,
    clock,
    maxAgeMs: options.maxAgeMs,
    onAccepted: () => lane.wake(),
  });
  return { service, lane };
}

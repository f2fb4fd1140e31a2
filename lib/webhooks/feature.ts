/**
 * Builds the outbound webhooks feature (seed 003): the service the routes and runs call, and
 * the delivery lane that sends what it queues. The
 * lane is built first: the service and the deliverer wake it, and its `execute` reaches the
 * deliverer built after it (see system.ts on why that is not late binding).
 */
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { SecretBox } from "../crypto.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { Metrics } from "../metrics.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "../net/probe.ts";
import type { LaneStore } from "../store/lanes.ts";
import type { Store } from "../store/store.ts";
import { Deliverer } from "./deliverer.ts";
import type { DeliveryRef } from "./types.ts";
import type { WebhookStore } from "../store/webhooks.ts";
import { WebhookService } from "./webhooks.ts";

/** A delivery attempt's lease: the send deadline (≤ 30 s) plus room to record the result. */
const DELIVERY_LEASE_MS = 45_000;

export interface WebhooksOptions {
  store: Store;
  webhooks: WebhookStore;
  /** The delivery lane's items and leases. */
  lanes: LaneStore;
  box: SecretBox;
  clock: Clock;
  metrics: Metrics;
  config: Pick<Config, "allowPrivateNetworks" | "maxConcurrency" | "webhooks">;
  /** Sends deliveries (lib/net/probe.ts over lib/net/outbound.ts by default); tests may wrap it. */
  send?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** Jitter of retries in [-1, 1); tests pin it. */
  jitter?: () => number;
}

export interface Webhooks {
  service: WebhookService;
  lane: Dispatcher<DeliveryRef>;
}

export function createWebhooks(options: WebhooksOptions): Webhooks {
  const { store, webhooks: webhookStore, lanes, box, clock, metrics, config } = options;
  const lane = new Dispatcher<DeliveryRef>({
    lane: "delivery",
    store: lanes,
    clock,
    maxConcurrency: config.maxConcurrency,
    leaseMs: () => DELIVERY_LEASE_MS,
    execute: (item, lease) => deliverer.execute(item, lease),
  });
  const wake = (at: number) => lane.wake(at);
  const service = new WebhookService({
    store,
    webhooks: webhookStore,
    box,
    clock,
    allowPrivateNetworks: config.allowPrivateNetworks,
    allowHttp: config.webhooks.allowHttp,
    rotationGraceMs: config.webhooks.rotationGraceMs,
    onDue: wake,
    deliveryLeaseMs: DELIVERY_LEASE_MS,
  });
  const deliverer = new Deliverer({
    webhooks: webhookStore,
    lanes,
    service,
    clock,
    metrics,
    timeoutMs: config.webhooks.timeoutMs,
    retryScheduleMs: config.webhooks.retryScheduleMs,
    allowPrivateNetworks: config.allowPrivateNetworks,
    onDue: wake,
    send: options.send,
    jitter: options.jitter,
  });
  return { service, lane };
}

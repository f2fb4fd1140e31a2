/**
 * Builds the inbound webhook module over one Deno KV: the service the routes call, the runner
 * of queued actions, and the dispatcher lane (`["inbound_due"]`, `["inbound_lease"]`) that
 * starts them on time. `lib/system.ts` wires this in like the outbound deliveries.
 */
import type { Clock } from "../clock.ts";
import type { SecretBox } from "../crypto.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "../net/probe.ts";
import { Dispatcher } from "../scheduler/dispatcher.ts";
import { kvKeys } from "../store/kv_keys.ts";
import { ActionRunner } from "./action_runner.ts";
import { InboundService } from "./inbound_service.ts";
import { InboundStore } from "./inbound_store.ts";
import { InboundMetrics } from "./metrics.ts";
import type { InboundRef, RunJob } from "./types.ts";

export interface InboundOptions {
  kv: Deno.Kv;
  clock: Clock;
  box: SecretBox;
  maxConcurrency: number;
  allowPrivateNetworks: boolean;
  /** Plain-http relay targets (HIBIKI_ALLOW_HTTP_WEBHOOKS). */
  allowHttp: boolean;
  /** Starts a job with the request's payload (the `run` action). */
  runJob: RunJob;
  /** Whether the user has the job, checked when a hook is set to run it. */
  jobExists?: (userId: string, jobId: string) => Promise<boolean>;
  retryScheduleMs?: number[];
  /** Retry jitter in [-1, 1); tests pin it. */
  retryJitter?: () => number;
  retentionMs?: number;
  seenTtlMs?: number;
  /** Sends relays (lib/net/probe.ts by default); tests may wrap it. */
  send?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  isBlocked?: (ip: string) => string | null;
}

export interface Inbound {
  store: InboundStore;
  service: InboundService;
  runner: ActionRunner;
  dispatcher: Dispatcher<InboundRef>;
  metrics: InboundMetrics;
}

export function createInbound(options: InboundOptions): Inbound {
  const { kv, clock } = options;
  const store = new InboundStore(kv);
  const metrics = new InboundMetrics();
  // The dispatcher is built after the parts that queue work for it.
  let wake = (_at: number) => {};
  const service = new InboundService({
    store,
    box: options.box,
    clock,
    metrics,
    allowPrivateNetworks: options.allowPrivateNetworks,
    allowHttp: options.allowHttp,
    jobExists: options.jobExists,
    retentionMs: options.retentionMs,
    seenTtlMs: options.seenTtlMs,
    onDue: (at) => wake(at),
  });
  const runner = new ActionRunner({
    store,
    service,
    clock,
    metrics,
    runJob: options.runJob,
    allowPrivateNetworks: options.allowPrivateNetworks,
    retryScheduleMs: options.retryScheduleMs,
    jitter: options.retryJitter,
    onDue: (at) => wake(at),
    send: options.send,
    isBlocked: options.isBlocked,
  });
  const dispatcher = new Dispatcher<InboundRef>({
    name: "inbound",
    kv,
    clock,
    maxConcurrency: options.maxConcurrency,
    pending: kvKeys.inboundDue(),
    leased: kvKeys.inboundLeases(),
    leaseMs: () => ActionRunner.leaseMs(),
    execute: (item, lease) => runner.execute(item, lease),
  });
  wake = (at) => dispatcher.wake(at);
  return { store, service, runner, dispatcher, metrics };
}

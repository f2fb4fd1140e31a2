/**
 * Builds the inbound webhooks feature (seed 001) over its store: its two services, `hooks`
 * (managing hooks and events, for the API and admin pages) and `receiver` (the public
 * endpoint), and the action lane that starts queued actions on time through the action
 * runner. The lane is built first: the services and the
 * runner wake it, and its `execute` reaches the runner built after it (see system.ts on why
 * that is not late binding).
 */
import type { Clock } from "../clock.ts";
import type { SecretBox } from "../crypto.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "../net/probe.ts";
import { Dispatcher } from "../lanes/dispatcher.ts";
import type { InboundStore } from "../store/inbound.ts";
import type { LaneStore } from "../store/lanes.ts";
import { ActionRunner } from "./action_runner.ts";
import { HookSecrets } from "./hook_secrets.ts";
import { InboundHooks } from "./inbound_hooks.ts";
import { InboundReceiver } from "./inbound_receiver.ts";
import { InboundMetrics } from "./metrics.ts";
import type { RunJob } from "./types.ts";
import type { InboundRef } from "../store/types.ts";

export interface InboundOptions {
  store: InboundStore;
  /** The action lane's items and leases. */
  lanes: LaneStore;
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
}

export interface Inbound {
  hooks: InboundHooks;
  receiver: InboundReceiver;
  lane: Dispatcher<InboundRef>;
  /** Read by `/metrics` and the admin pages. */
  metrics: InboundMetrics;
  store: InboundStore;
}

export function createInbound(options: InboundOptions): Inbound {
  const { lanes, clock, store } = options;
  const metrics = new InboundMetrics();
  const lane = new Dispatcher<InboundRef>({
    lane: "inbound",
    store: lanes,
    clock,
    maxConcurrency: options.maxConcurrency,
    leaseMs: () => ActionRunner.leaseMs(),
    execute: (item, lease) => runner.execute(item, lease),
  });
  const wake = (at: number) => lane.wake(at);
  const secrets = new HookSecrets(options.box);
  const receiver = new InboundReceiver({
    store,
    secrets,
    clock,
    metrics,
    retentionMs: options.retentionMs,
    seenTtlMs: options.seenTtlMs,
    onDue: wake,
  });
  const hooks = new InboundHooks({
    store,
    secrets,
    clock,
    allowPrivateNetworks: options.allowPrivateNetworks,
    allowHttp: options.allowHttp,
    jobExists: options.jobExists,
    onDue: wake,
    onChanged: (hookId) => receiver.forget(hookId),
  });
  const runner = new ActionRunner({
    store,
    lanes,
    secrets,
    clock,
    metrics,
    runJob: options.runJob,
    allowPrivateNetworks: options.allowPrivateNetworks,
    retryScheduleMs: options.retryScheduleMs,
    jitter: options.retryJitter,
    onDue: wake,
    send: options.send,
  });
  return { hooks, receiver, lane, metrics, store };
}

/**
 * Wires Hibiki's parts together over one Deno KV store. `main.ts`, the tests and the
 * benchmark all build the same system through this, so they exercise what runs in
 * production.
 */
import type { Hono } from "hono";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { JobService } from "./jobs/jobs.ts";
import { Metrics } from "./metrics.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "./net/probe.ts";
import { handleQueueMessage } from "./queue.ts";
import { Dispatcher } from "./scheduler/dispatcher.ts";
import { fireTask, type FireValue, leaseMs } from "./scheduler/fires.ts";
import { kvKeys } from "./store/kv_keys.ts";
import { RunRecorder } from "./scheduler/run_recorder.ts";
import { Runner } from "./scheduler/runner.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { KvStore } from "./store/kv_store.ts";
import { createApp } from "../routes/app.ts";

export interface SystemOptions {
  clock?: Clock;
  probe?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** Wake dispatchers through the KV queue too (on by default, off in unit tests). */
  queueWakeups?: boolean;
}

export interface System {
  app: Hono;
  kv: Deno.Kv;
  store: KvStore;
  scheduler: Scheduler;
  dispatcher: Dispatcher<FireValue>;
  recorder: RunRecorder;
  jobs: JobService;
  metrics: Metrics;
  /** Handles one Deno KV queue message. */
  onQueueMessage: (message: unknown) => Promise<void>;
  /** Marks the queue listener as running (for /healthz). */
  setQueueListening: (listening: boolean) => void;
  /** Starts the dispatcher loop and claims fires at once (no waiting for the first cron tick). */
  start: () => Promise<void>;
  /** Stops the loops and waits for runs in flight. */
  stop: () => Promise<void>;
}

export function createSystem(kv: Deno.Kv, config: Config, options: SystemOptions = {}): System {
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics();
  const store = new KvStore(kv);
  const recorder = new RunRecorder(kv, clock, config.runRetention);
  const runner = new Runner({
    store,
    recorder,
    clock,
    metrics,
    allowPrivateNetworks: config.allowPrivateNetworks,
    catchUpDeadlineMs: config.catchUpDeadlineMs,
    probe: options.probe,
  });
  const dispatcher = new Dispatcher<FireValue>({
    name: "fire",
    kv,
    clock,
    maxConcurrency: config.maxConcurrency,
    pending: kvKeys.fires(),
    leased: kvKeys.leases(),
    leaseMs: (fire) => leaseMs(fire.timeoutMs),
    execute: (item, lease) => runner.execute(fireTask(item), lease.key, lease.until),
  });
  const scheduler = new Scheduler({
    kv,
    clock,
    metrics,
    catchUpDeadlineMs: config.catchUpDeadlineMs,
    onClaimed: (at) => dispatcher.wake(at),
    queueWakeups: options.queueWakeups ?? true,
  });
  const jobs = new JobService({
    store,
    scheduler,
    clock,
    allowPrivateNetworks: config.allowPrivateNetworks,
  });
  let queueListening = false;
  const app = createApp({
    store,
    kv,
    jobs,
    dispatcher,
    metrics,
    clock,
    rootApiKey: config.rootApiKey,
    queueListening: () => queueListening,
  });
  const purge = async () => {
    await store.purgeDeletedJobs();
  };
  return {
    app,
    kv,
    store,
    scheduler,
    dispatcher,
    recorder,
    jobs,
    metrics,
    onQueueMessage: (message) =>
      handleQueueMessage(message, { wake: () => dispatcher.drain(), purge }),
    setQueueListening: (listening) => {
      queueListening = listening;
    },
    start: async () => {
      dispatcher.start();
      await scheduler.tick();
      await purge();
    },
    stop: () => dispatcher.stop(),
  };
}

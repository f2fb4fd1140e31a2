/**
 * Wires Hibiki's parts together over one Deno KV store. `main.ts`, the tests and the
 * benchmark all build the same system through this, so they exercise what runs in
 * production.
 */
import type { Hono } from "hono";
import { type Clock, systemClock } from "./clock.ts";
import type { Config } from "./config.ts";
import { randomBytes, SecretBox } from "./crypto.ts";
import { JobService } from "./jobs/jobs.ts";
import { Metrics } from "./metrics.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "./net/probe.ts";
import { handleQueueMessage } from "./queue.ts";
import { Dispatcher } from "./scheduler/dispatcher.ts";
import { fireTask, type FireValue, leaseMs } from "./scheduler/fires.ts";
import { RunRecorder } from "./scheduler/run_recorder.ts";
import { Runner } from "./scheduler/runner.ts";
import { Scheduler } from "./scheduler/scheduler.ts";
import { kvKeys } from "./store/kv_keys.ts";
import { KvStore } from "./store/kv_store.ts";
import type { JobForRun } from "./store/store.ts";
import { EdgeService, type ResultChunk } from "./edge/edge_service.ts";
import { ResultIngester } from "./edge/result_ingester.ts";
import { WorkerStore } from "./edge/worker_store.ts";
import { createInbound, type Inbound } from "./inbound/inbound.ts";
import { CloudRunRunner } from "./gcp/cloud_run_runner.ts";
import { CredentialService, ENV_CREDENTIAL_ID } from "./gcp/credentials.ts";
import { DEFAULT_USER } from "./auth.ts";
import { JobStats } from "./stats/job_stats.ts";
import { closeOutbound } from "./net/outbound.ts";
import { Deliverer } from "./webhooks/deliverer.ts";
import type { DeliveryRef } from "./webhooks/types.ts";
import { WebhookStore } from "./webhooks/webhook_store.ts";
import { WebhookService } from "./webhooks/webhooks.ts";
import { createApp } from "../routes/app.ts";
import { Assets } from "../routes/admin/assets.ts";
import { JobSearch } from "./jobs/job_index.ts";
import { SessionService } from "./users/sessions.ts";
import { LoginThrottle } from "./users/throttle.ts";
import { UserStore } from "./users/user_store.ts";
import { UserService } from "./users/users.ts";

/** Held fires read their job this long before their second (see Dispatcher.prepare). */
const FIRE_PREPARE_LEAD_MS = 1000;
/** A delivery attempt's lease: the send deadline (≤ 30 s) plus room to record the result. */
const DELIVERY_LEASE_MS = 45_000;
/** Storing a chunk of worker results takes milliseconds; a minute is generous. */
const RESULTS_LEASE_MS = 60_000;

export interface SystemOptions {
  clock?: Clock;
  /** 32 bytes; a random key when absent (tests). */
  masterKey?: Uint8Array;
  /** The HTTP client for job runs; tests may wrap it. */
  probe?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** The HTTP client for webhook deliveries and relays (lib/net/probe.ts); tests may wrap it. */
  post?: (request: ProbeRequest, options: ProbeOptions) => Promise<ProbeResult>;
  /** Wake dispatchers through the KV queue too (on by default, off in unit tests). */
  queueWakeups?: boolean;
  /** Jitter of webhook and relay retries in [-1, 1); tests pin it. */
  retryJitter?: () => number;
  /** Poll delays of Cloud Run executions; tests shorten them. */
  cloudRunPollDelays?: readonly number[];
  /** PBKDF2 iterations of admin passwords; tests other than hashing may lower it. */
  passwordIterations?: number;
  /** How often the admin pages' live tables ask for fresh rows; browser tests shorten it. */
  adminRefreshMs?: number;
}

export interface System {
  app: Hono;
  kv: Deno.Kv;
  store: KvStore;
  scheduler: Scheduler;
  dispatcher: Dispatcher<FireValue>;
  deliveries: Dispatcher<DeliveryRef>;
  /** Stores accepted worker results as runs. */
  results: Dispatcher<ResultChunk>;
  workers: WorkerStore;
  recorder: RunRecorder;
  stats: JobStats;
  inbound: Inbound;
  credentials: CredentialService;
  jobs: JobService;
  webhooks: WebhookService;
  metrics: Metrics;
  /** Admin UI: users and sign-in sessions; job search for the dashboard. */
  users: UserService;
  sessions: SessionService;
  search: JobSearch;
  /** Handles one Deno KV queue message. */
  onQueueMessage: (message: unknown) => Promise<void>;
  /** Marks the queue listener as running (for /healthz). */
  setQueueListening: (listening: boolean) => void;
  /** Starts the dispatcher loops and claims fires at once (no waiting for the first tick). */
  start: () => Promise<void>;
  /** Stops the loops and waits for the work in flight. */
  stop: () => Promise<void>;
}

export function createSystem(kv: Deno.Kv, config: Config, options: SystemOptions = {}): System {
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics();
  const store = new KvStore(kv);
  const webhookStore = new WebhookStore(kv);
  const recorder = new RunRecorder(kv, clock, config.runRetention);
  const stats = new JobStats(kv, clock);
  const masterKey = options.masterKey ?? randomBytes(32);
  const box = new SecretBox(masterKey);

  // Deliveries are woken through this late-bound function: the service that queues them is
  // built before the dispatcher that sends them.
  let wakeDeliveries = (_at: number) => {};
  const webhooks = new WebhookService({
    store,
    webhooks: webhookStore,
    box,
    clock,
    allowPrivateNetworks: config.allowPrivateNetworks,
    allowHttp: config.webhooks.allowHttp,
    rotationGraceMs: config.webhooks.rotationGraceMs,
    onDue: (at) => wakeDeliveries(at),
    deliveryLeaseMs: DELIVERY_LEASE_MS,
  });
  const deliverer = new Deliverer({
    webhooks: webhookStore,
    service: webhooks,
    clock,
    metrics,
    timeoutMs: config.webhooks.timeoutMs,
    retryScheduleMs: config.webhooks.retryScheduleMs,
    allowPrivateNetworks: config.allowPrivateNetworks,
    onDue: (at) => wakeDeliveries(at),
    send: options.post,
    jitter: options.retryJitter,
  });
  const deliveries = new Dispatcher<DeliveryRef>({
    name: "delivery",
    kv,
    clock,
    maxConcurrency: config.maxConcurrency,
    pending: kvKeys.deliveriesDue(),
    leased: kvKeys.deliveryLeases(),
    leaseMs: () => DELIVERY_LEASE_MS,
    execute: (item, lease) => deliverer.execute(item, lease),
  });
  wakeDeliveries = (at) => deliveries.wake(at);

  const workers = new WorkerStore(kv);
  const ingester = new ResultIngester({
    kv,
    store,
    workers,
    webhooks,
    recorder,
    metrics,
    stats,
    onDelivery: () => deliveries.wake(),
  });
  const results = new Dispatcher<ResultChunk>({
    name: "results",
    kv,
    clock,
    maxConcurrency: 4,
    pending: kvKeys.resultsDue(),
    leased: kvKeys.resultLeases(),
    leaseMs: () => RESULTS_LEASE_MS,
    execute: (item, lease) => ingester.execute(item, lease),
  });
  const edge = new EdgeService({
    kv,
    workers,
    clock,
    maxAgeMs: config.runRetention.maxAgeMs,
    onAccepted: () => results.wake(),
  });

  const credentials = new CredentialService({
    kv,
    box,
    clock,
    envKey: config.gcp.serviceAccount,
    allowAnyTokenUri: config.allowPrivateNetworks,
  });
  const cloudRun = new CloudRunRunner({
    credentials,
    clock,
    baseUrl: config.gcp.runUrl,
    pollDelays: options.cloudRunPollDelays,
  });

  const runner = new Runner({
    store,
    recorder,
    clock,
    metrics,
    allowPrivateNetworks: config.allowPrivateNetworks,
    catchUpDeadlineMs: config.catchUpDeadlineMs,
    probe: options.probe,
    stats,
    cloudRun,
    followUp: (run, job) => webhooks.heldOutboxFor(run, job, (held) => deliveries.hold([held])),
  });
  const dispatcher = new Dispatcher<FireValue>({
    name: "fire",
    kv,
    clock,
    maxConcurrency: config.maxConcurrency,
    pending: kvKeys.fires(),
    leased: kvKeys.leases(),
    leaseMs: (fire) => leaseMs(fire.timeoutMs),
    leadMs: FIRE_PREPARE_LEAD_MS,
    prepare: (item, lease) => runner.prepare(fireTask(item), lease.key),
    execute: (item, lease, prepared) =>
      runner.execute(fireTask(item), lease.key, lease.until, prepared as JobForRun | null),
  });
  const scheduler = new Scheduler({
    kv,
    clock,
    metrics,
    catchUpDeadlineMs: config.catchUpDeadlineMs,
    onClaimed: (held) => dispatcher.hold(held),
    onPending: (at) => dispatcher.wake(at),
    queueWakeups: options.queueWakeups ?? true,
  });
  const jobs = new JobService({
    store,
    scheduler,
    clock,
    allowPrivateNetworks: config.allowPrivateNetworks,
    workerIds: async () => new Set((await workers.list()).map((w) => w.id)),
    cloudRun: {
      baseUrl: config.gcp.runUrl,
      defaults: (userId) => ({
        project: config.gcp.projectId,
        region: config.gcp.region,
        job: config.gcp.jobName,
        credentialId: userId === DEFAULT_USER && config.gcp.serviceAccount
          ? ENV_CREDENTIAL_ID
          : null,
      }),
      credentialExists: (userId, id) => credentials.get(userId, id).then(() => true, () => false),
    },
  });
  const inbound = createInbound({
    kv,
    clock,
    box,
    maxConcurrency: config.maxConcurrency,
    allowPrivateNetworks: config.allowPrivateNetworks,
    allowHttp: config.webhooks.allowHttp,
    jobExists: async (userId, jobId) => (await store.getJob(userId, jobId)) !== null,
    runJob: (userId, jobId, { payload }) => jobs.runNow(userId, jobId, { env: envFrom(payload) }),
    send: options.post,
    retryJitter: options.retryJitter,
  });
  // Admin UI: the session key is derived from the master key, so there is no extra secret.
  const sessions = new SessionService(kv, masterKey, () => clock.now());
  const users = new UserService({
    users: new UserStore(kv),
    sessions,
    throttle: new LoginThrottle(kv, () => clock.now()),
    now: () => clock.now(),
    adminPassword: config.adminPassword,
    fingerprint: (text) => sessions.fingerprint(text),
    iterations: options.passwordIterations,
  });
  const search = new JobSearch(kv, store);
  let queueListening = false;
  const app = createApp({
    store,
    kv,
    jobs,
    webhooks,
    workers,
    edge,
    inbound: inbound.service,
    inboundMetrics: inbound.metrics,
    credentials,
    workerApiKey: config.workerApiKey,
    dispatcher,
    metrics,
    clock,
    rootApiKey: config.rootApiKey,
    queueListening: () => queueListening,
    admin: {
      store,
      jobs,
      search,
      stats,
      webhooks,
      workers,
      inbound: inbound.service,
      credentials,
      users,
      sessions,
      clock,
      assets: new Assets(new URL("../static/", import.meta.url)),
      refreshMs: options.adminRefreshMs,
    },
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
    deliveries,
    results,
    workers,
    recorder,
    stats,
    inbound,
    credentials,
    jobs,
    webhooks,
    metrics,
    users,
    sessions,
    search,
    onQueueMessage: (message) =>
      handleQueueMessage(message, {
        wake: async () => {
          await Promise.all([
            dispatcher.drain(),
            deliveries.drain(),
            results.drain(),
            inbound.dispatcher.drain(),
          ]);
        },
        purge,
      }),
    setQueueListening: (listening) => {
      queueListening = listening;
    },
    start: async () => {
      scheduler.startTicking();
      dispatcher.start();
      deliveries.start();
      results.start();
      inbound.dispatcher.start();
      stats.start();
      await scheduler.tick();
      await purge();
    },
    stop: async () => {
      scheduler.stopTicking();
      await Promise.all([
        dispatcher.stop(),
        deliveries.stop(),
        results.stop(),
        inbound.dispatcher.stop(),
      ]);
      await stats.stop();
      closeOutbound();
    },
  };
}

/**
 * Environment for a Cloud Run job started by an inbound webhook: the payload's top-level
 * `env` object of string values (`{"env": {"RESUME_USERNAME": "alice"}}`), if it has one.
 */
function envFrom(payload: unknown): { name: string; value: string }[] | undefined {
  const env = (payload as { env?: unknown } | null)?.env;
  if (typeof env !== "object" || env === null || Array.isArray(env)) return undefined;
  return Object.entries(env)
    .filter(([name, value]) =>
      /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name) && typeof value === "string"
    )
    .slice(0, 100)
    .map(([name, value]) => ({ name, value: (value as string).slice(0, 32_768) }));
}

/**
 * Hibiki's composition root: builds the whole program over one store (Deno KV or Postgres,
 * given as a `StoreFactory`) and its wake-ups between processes (`Wakeups`). `main.ts`, the
 * tests and the benchmark all build the same system through this, so they exercise what runs
 * in production. It sits beside `main.ts`, not in `lib/`, because it mounts `routes/`: the
 * domain in `lib/` never imports its HTTP surface.
 *
 * Order: the stores, then each feature from its factory (`createAlerts`, `createWebhooks`,
 * `createEdge`, `createFires`, `createInbound`), each returning its service and its lane, then the services
 * without a lane, then the app. A feature that needs another's lane is built after it and given
 * that lane's `wake` (or `hold`); nothing is wired up after the fact.
 *
 * Inside a factory the lane is built before whatever wakes it. Where the lane's handler wakes
 * the lane itself (a delivery or an inbound action scheduling its retry), the lane's `execute`
 * calls a `const` handler declared a few lines further down in the same factory. That is not
 * late binding: the binding is never reassigned, its type is checked, and a lane calls
 * `execute` only once something drains it, which nothing does before the factory returns; were
 * it called earlier it would throw, where the `let wake = () => {}` placeholders this replaces
 * silently dropped the wake. A `lane.attach(execute)` step was the alternative; it would give
 * every Dispatcher a "not attached yet" state to check on each drain, for no gain.
 */
import type { Hono } from "hono";
import { type Clock, systemClock } from "./lib/clock.ts";
import type { Config } from "./lib/config.ts";
import { randomBytes, SecretBox } from "./lib/crypto.ts";
import { JobService } from "./lib/jobs/jobs.ts";
import { Metrics } from "./lib/metrics.ts";
import type { ProbeOptions, ProbeRequest, ProbeResult } from "./lib/net/probe.ts";
import { handleQueueMessage } from "./lib/queue.ts";
import type { Dispatcher } from "./lib/lanes/dispatcher.ts";
import { createFires } from "./lib/scheduler/feature.ts";
import type { FireValue } from "./lib/scheduler/fires.ts";
import type { TickReport } from "./lib/scheduler/scheduler.ts";
import type { ResultChunk } from "./lib/store/types.ts";
import { KEEP_MEMORY_MS } from "./lib/store/store.ts";
import { createEdge } from "./lib/edge/feature.ts";
import { createAlerts } from "./lib/alerts/feature.ts";
import type { MaintenanceCalendar } from "./lib/alerts/types.ts";
import type { DecideValue, NotificationRef } from "./lib/store/alerts.ts";
import { createInbound } from "./lib/inbound/feature.ts";
import type { InboundRef } from "./lib/store/types.ts";
import { CloudRunRunner } from "./lib/gcp/cloud_run_runner.ts";
import { CredentialService, ENV_CREDENTIAL_ID } from "./lib/gcp/credentials.ts";
import { DEFAULT_USER } from "./lib/auth.ts";
import { JobStats } from "./lib/stats/job_stats.ts";
import { closeOutbound } from "./lib/net/outbound.ts";
import type { StoreFactory } from "./lib/store/stores.ts";
import type { Wakeups } from "./lib/store/wakeups.ts";
import { createWebhooks } from "./lib/webhooks/feature.ts";
import { ChannelService } from "./lib/alerts/channel_service.ts";
import { createNotifySend } from "./lib/alerts/channels/notify_send.ts";
import type { NotifySend } from "./lib/alerts/types.ts";
import type { DeliveryRef } from "./lib/webhooks/types.ts";
import { createApp } from "./routes/app.ts";
import { Assets } from "./routes/admin/assets.ts";
import type { JobSearch } from "./lib/jobs/dashboard.ts";
import { SessionService } from "./lib/users/sessions.ts";
import { LoginThrottle } from "./lib/users/throttle.ts";
import { UserService } from "./lib/users/users.ts";
import { createMaintenance } from "./lib/alerts/maintenance.ts";
import { ChangeLog } from "./lib/status/changes.ts";
import { createStatusPages } from "./lib/status/feature.ts";
import { LateCheck } from "./lib/heartbeat/late_check.ts";
import { PingReceiver } from "./lib/heartbeat/ping_receiver.ts";

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
  /**
   * Wake-ups and chores from other processes (the Deno KV queue, or Postgres `LISTEN`):
   * listened to once `listen` is called. Tests without one hand messages to `onQueueMessage`
   * themselves.
   */
  wakeups?: Wakeups;
  /** Jitter of webhook and relay retries in [-1, 1); tests pin it. */
  retryJitter?: () => number;
  /** Sends to notification channels (lib/alerts/channels/notify_send.ts); tests may replace it. */
  notifySend?: NotifySend;
  /** Poll delays of Cloud Run executions; tests shorten them. */
  cloudRunPollDelays?: readonly number[];
  /** PBKDF2 iterations of admin passwords; tests other than hashing may lower it. */
  passwordIterations?: number;
  /** How often the admin pages' live tables ask for fresh rows; browser tests shorten it. */
  adminRefreshMs?: number;
  /** The process's counters (`/metrics`); benchmarks pass their own to watch runs finish. */
  metrics?: Metrics;
  /** Maintenance windows alerting honours; the stored windows by default. */
  calendar?: MaintenanceCalendar;
}

/**
 * What `main.ts` runs, plus the lanes tests and benchmarks drain. No services: a test that
 * needs one builds it (tests/build.ts, `buildFires` in lib/scheduler/test_support.ts), and a
 * test of HTTP behaviour sets up through `app`, as a client would.
 */
export interface System {
  app: Hono;
  /** The `Deno.cron` minute tick: claims fires unless the process's own tick just did. */
  cronTick: () => Promise<TickReport | null>;
  /** Handles one wake-up or chore message (lib/queue.ts). */
  onQueueMessage: (message: unknown) => Promise<void>;
  /** Marks the queue listener as running (for /healthz), when there is no `wakeups`. */
  setQueueListening: (listening: boolean) => void;
  /** Listens to `wakeups`, handing each message to `onQueueMessage` (main.ts, once). */
  listen: () => void;
  /** Starts the lanes' loops and claims fires at once (no waiting for the first tick). */
  start: () => Promise<void>;
  /** Stops the loops and the listening, and waits for the work in flight. */
  stop: () => Promise<void>;
  /** The durable lanes, drained by tests and benchmarks instead of waiting for a second. */
  lanes: Lanes;
  /** Pings' decisions follow their answers: tests wait for them with `settled()`. */
  pings: Pick<PingReceiver, "settled">;
  /** Where the operator's password comes from: `main.ts` says so at start-up. */
  adminSignIn: Pick<UserService, "operatorPassword">;
}

export interface Lanes {
  fires: Dispatcher<FireValue>;
  deliveries: Dispatcher<DeliveryRef>;
  /** Stores accepted worker results as runs. */
  results: Dispatcher<ResultChunk>;
  inbound: Dispatcher<InboundRef>;
  /** Decides alert states a dead process left, multi-location deadlines, ended windows. */
  alerts: Dispatcher<DecideValue>;
  /** Sends the notifications alert decisions queue. */
  notifications: Dispatcher<NotificationRef>;
}

export function createSystem(
  storeFactory: StoreFactory,
  config: Config,
  options: SystemOptions = {},
): System {
  const clock = options.clock ?? systemClock;
  const metrics = options.metrics ?? new Metrics();
  const masterKey = options.masterKey ?? randomBytes(32);
  const box = new SecretBox(masterKey);

  const stores = storeFactory({ clock, retention: config.runRetention });
  const { records: store, webhooks: webhookStore, workers } = stores;
  const stats = new JobStats(stores.stats, clock);

  const maintenance = createMaintenance({
    store: stores.maintenance,
    clock,
    jobExists: async (userId, jobId) => (await store.getJob(userId, jobId)) !== null,
  });
  const calendar = options.calendar ?? maintenance.calendar;
  // Status pages drop what they built for a job whose state alerting changes.
  const changes = new ChangeLog();
  const channels = new ChannelService({
    channels: stores.channels,
    box,
    clock,
    send: options.notifySend ?? createNotifySend({
      allowPrivateNetworks: config.allowPrivateNetworks,
      telegramApiUrl: config.channels.telegramApiUrl,
      pagerDutyApiUrl: config.channels.pagerDutyApiUrl,
      publicUrl: config.publicUrl,
      clock,
    }),
    baseUrl: config.publicUrl,
    allowPrivateNetworks: config.allowPrivateNetworks,
    allowHttp: config.webhooks.allowHttp,
  });
  const alerting = createAlerts({
    lanes: stores.lanes,
    store,
    alerts: stores.alerts,
    clock,
    calendar,
    channels: stores.channels,
    send: (channel, message) => channels.send(channel, message),
    metrics,
    baseUrl: config.publicUrl,
    groupWindowMs: config.alertGroupMs,
    jitter: options.retryJitter,
    onChange: (userId, jobId) => changes.note(userId, jobId),
  });
  const statusPages = createStatusPages({
    store: stores.statusPages,
    alerts: stores.alerts,
    calendar,
    clock,
    changes,
    jobExists: async (userId, jobId) => (await store.getJob(userId, jobId)) !== null,
  });
  const webhooks = createWebhooks({
    store,
    webhooks: webhookStore,
    lanes: stores.lanes,
    box,
    clock,
    metrics,
    config,
    send: options.post,
    jitter: options.retryJitter,
  });
  const deliveries = webhooks.lane;
  const edge = createEdge({
    store,
    lanes: stores.lanes,
    workers,
    webhooks: webhooks.service,
    metrics,
    stats,
    clock,
    maxAgeMs: config.runRetention.maxAgeMs,
    wakeDeliveries: (at) => deliveries.wake(at),
    alerts: alerting.engine,
  });

  const credentials = new CredentialService({
    credentials: stores.credentials,
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
  const fires = createFires({
    store,
    lanes: stores.lanes,
    claims: stores.claims,
    stats,
    clock,
    metrics,
    config,
    cloudRun,
    lateCheck: new LateCheck(stores.heartbeats),
    probe: options.probe,
    followUp: (run, job) =>
      webhooks.service.heldOutboxFor(run, job, (held) => deliveries.hold([held])),
    queueWakeups: options.queueWakeups,
    alerts: alerting.engine,
  });
  const { scheduler } = fires;
  const jobs = new JobService({
    store,
    scheduler,
    clock,
    allowPrivateNetworks: config.allowPrivateNetworks,
    box,
    publicUrl: config.publicUrlSet,
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
    channelExists: async (userId, id) => (await stores.channels.get(userId, id)) !== null,
  });
  const inbound = createInbound({
    store: stores.inbound,
    lanes: stores.lanes,
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
  const lanes: Lanes = {
    fires: fires.lane,
    deliveries,
    results: edge.lane,
    inbound: inbound.lane,
    alerts: alerting.lane,
    notifications: alerting.notifications,
  };

  // Admin UI: the session key is derived from the master key, so there is no extra secret.
  const sessions = new SessionService(
    stores.sessions,
    masterKey,
    () => clock.now(),
  );
  const users = new UserService({
    users: stores.users,
    sessions,
    throttle: new LoginThrottle(stores.loginFailures, () => clock.now()),
    now: () => clock.now(),
    adminPassword: config.adminPassword,
    fingerprint: (text) => sessions.fingerprint(text),
    iterations: options.passwordIterations,
  });
  const search: JobSearch = { page: (userId, query) => store.searchJobs(userId, query) };
  let queueListening = false;
  const pings = new PingReceiver({
    store,
    heartbeats: stores.heartbeats,
    clock,
    stats,
    alerts: alerting.engine,
  });
  const app = createApp({
    store,
    jobs,
    webhooks: webhooks.service,
    workers,
    edge: edge.service,
    inbound: inbound.hooks,
    inboundReceiver: inbound.receiver,
    pings,
    inboundMetrics: inbound.metrics,
    credentials,
    maintenance: maintenance.service,
    channels,
    incidents: alerting.incidents,
    statusPages: statusPages.service,
    statusBoard: statusPages.board,
    workerApiKey: config.workerApiKey,
    dispatcher: lanes.fires,
    metrics,
    clock,
    rootApiKey: config.rootApiKey,
    queueListening: () => options.wakeups?.listening() ?? queueListening,
    openIncidents: () => stores.alerts.countOpenIncidents(),
    admin: {
      store,
      jobs,
      search,
      stats,
      webhooks: webhooks.service,
      workers,
      inbound: inbound.hooks,
      credentials,
      channels,
      maintenance: maintenance.service,
      incidents: alerting.incidents,
      users,
      sessions,
      clock,
      assets: new Assets(new URL("./static/", import.meta.url)),
      refreshMs: options.adminRefreshMs,
    },
  });
  const allLanes: Pick<Dispatcher, "start" | "stop" | "drain">[] = Object.values(lanes);
  const purge = async () => {
    await store.purgeDeletedJobs();
  };
  const onQueueMessage = (message: unknown) =>
    handleQueueMessage(message, {
      wake: async () => {
        await Promise.all(allLanes.map((lane) => lane.drain()));
      },
      purge,
    });
  let memoryKeeper: ReturnType<typeof setInterval> | null = null;
  return {
    app,
    cronTick: () => scheduler.cronTick(),
    onQueueMessage,
    setQueueListening: (listening) => {
      queueListening = listening;
    },
    listen: () => options.wakeups?.listen(onQueueMessage),
    start: async () => {
      scheduler.startTicking();
      for (const lane of allLanes) lane.start();
      stats.start();
      if (store.keepMemory) {
        memoryKeeper = setInterval(() => {
          store.keepMemory!().catch((error) =>
            console.error(`Cannot read the job change log: ${(error as Error).message}`)
          );
        }, KEEP_MEMORY_MS);
      }
      await scheduler.tick();
      await purge();
    },
    stop: async () => {
      scheduler.stopTicking();
      if (memoryKeeper !== null) clearInterval(memoryKeeper);
      memoryKeeper = null;
      await options.wakeups?.close();
      // Pings answered already: their decisions are made here rather than by the lane later.
      await pings.settled();
      await Promise.all(allLanes.map((lane) => lane.stop()));
      await stats.stop();
      closeOutbound();
    },
    lanes,
    pings,
    adminSignIn: { operatorPassword: () => users.operatorPassword() },
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

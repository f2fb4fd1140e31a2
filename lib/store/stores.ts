/**
 * Every record area of the Store contract, as one store implementation provides them. The
 * contract suite (`contract_test_suite.ts`) runs against such a set.
 */
import type { Clock } from "../clock.ts";
import type { ChannelStore } from "./channels.ts";
import type { ClaimStore } from "./claims.ts";
import type { AlertStore } from "./alerts.ts";
import type { CredentialStore } from "./credentials.ts";
import type { HeartbeatStore } from "./heartbeats.ts";
import type { InboundStore } from "./inbound.ts";
import type { LaneStore } from "./lanes.ts";
import type { MaintenanceStore } from "./maintenance.ts";
import type { JobStatsStore } from "./stats.ts";
import type { StatusPageStore } from "./status_pages.ts";
import type { Retention, Store } from "./store.ts";
import type { LoginFailureStore, SessionStore, UserStore } from "./users.ts";
import type { WebhookStore } from "./webhooks.ts";
import type { WorkerStore } from "./workers.ts";

export interface Stores {
  /** Jobs, runs (`recordRun`), API keys and the dashboard's search. */
  records: Store;
  /** The durable lanes' items and leases; `release` ends any lease. */
  lanes: LaneStore;
  /** The scheduler's due entries and claims ahead. */
  claims: ClaimStore;
  workers: WorkerStore;
  webhooks: WebhookStore;
  inbound: InboundStore;
  users: UserStore;
  sessions: SessionStore;
  loginFailures: LoginFailureStore;
  credentials: CredentialStore;
  stats: JobStatsStore;
  maintenance: MaintenanceStore;
  /** Notification channels (issue 12). */
  channels: ChannelStore;
  /** Alert states, incidents and the notification outbox (issue 12). */
  alerts: AlertStore;
  /** Public status pages (issue 13). */
  statusPages: StatusPageStore;
  /** Heartbeat jobs' token index, start marks and late checks. */
  heartbeats: HeartbeatStore;
}

/** What every store implementation's stores are built with (the system's clock, retention). */
export interface StoreOptions {
  clock?: Clock;
  /** Runs kept per job, by count and age (the configuration's `runRetention`). */
  retention?: Retention;
}

/**
 * One store implementation over its open connection (`kvStores(kv)`,
 * `postgresStores(sql)`): the system builds its stores with it, so that they share its clock
 * and retention.
 */
export type StoreFactory = (options: StoreOptions) => Stores;

/** The Postgres store: every record area over one connection pool (`connect.ts`). */
import type { StoreFactory, Stores } from "../stores.ts";
import { PgAlertStore } from "./alerts.ts";
import { PgClaimStore } from "./claims.ts";
import { PgHeartbeatStore } from "./heartbeats.ts";
import { PgInboundStore } from "./inbound.ts";
import type { Sql } from "./connect.ts";
import { PgLaneStore } from "./lanes.ts";
import { PgMaintenanceStore } from "./maintenance.ts";
import { PgStore, type PgStoreOptions } from "./records.ts";
import { PgChannelStore, PgCredentialStore, PgJobStatsStore } from "./records_small.ts";
import { PgStatusPageStore } from "./status_pages.ts";
import { PgWebhookStore } from "./webhooks.ts";
import { PgWorkerStore } from "./workers.ts";
import { PgLoginFailureStore, PgSessionStore, PgUserStore } from "./users.ts";
import { systemClock } from "../../clock.ts";

export { connectPostgres, type Sql } from "./connect.ts";
export { migrate } from "./migrate.ts";

export { PgWakeups } from "./wakeups.ts";

/** The Postgres store over `sql`, for `createSystem`. */
export function postgresStores(sql: Sql): StoreFactory {
  return (options) => createPostgresStores(sql, options);
}

export function createPostgresStores(sql: Sql, options: PgStoreOptions = {}): Stores {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  return {
    records: new PgStore(sql, options),
    lanes: new PgLaneStore(sql),
    claims: new PgClaimStore(sql),
    workers: new PgWorkerStore(sql),
    webhooks: new PgWebhookStore(sql),
    inbound: new PgInboundStore(sql, now),
    users: new PgUserStore(sql),
    sessions: new PgSessionStore(sql, now),
    loginFailures: new PgLoginFailureStore(sql, now),
    credentials: new PgCredentialStore(sql),
    stats: new PgJobStatsStore(sql),
    maintenance: new PgMaintenanceStore(sql),
    channels: new PgChannelStore(sql),
    alerts: new PgAlertStore(sql),
    statusPages: new PgStatusPageStore(sql),
    heartbeats: new PgHeartbeatStore(sql),
  };
}

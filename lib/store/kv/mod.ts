/** The Deno KV store: every record area over one KV handle. */
import { systemClock } from "../../clock.ts";
import type { StoreFactory, Stores } from "../stores.ts";
import { KvChannelStore } from "./channels.ts";
import { KvClaimStore } from "./claims.ts";
import { KvAlertStore } from "./alerts.ts";
import { KvCredentialStore } from "./credentials.ts";
import { KvInboundStore } from "./inbound.ts";
import { KvLaneStore } from "./lanes.ts";
import { KvStore, type KvStoreOptions } from "./kv_store.ts";
import { KvHeartbeatStore } from "./heartbeats.ts";
import { KvMaintenanceStore } from "./maintenance.ts";
import { KvJobStatsStore } from "./stats.ts";
import { KvStatusPageStore } from "./status_pages.ts";
import { KvLoginFailureStore, KvSessionStore, KvUserStore } from "./users.ts";
import { KvWebhookStore } from "./webhooks.ts";
import { KvWorkerStore } from "./workers.ts";

export { upgradeKvLayout } from "./layout.ts";
export { KvWakeups } from "./wakeups.ts";

/** The KV store over `kv`, for `createSystem`. */
export function kvStores(kv: Deno.Kv): StoreFactory {
  return (options) => createKvStores(kv, options);
}

export function createKvStores(kv: Deno.Kv, options: KvStoreOptions = {}): Stores {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  return {
    records: new KvStore(kv, options),
    lanes: new KvLaneStore(kv),
    claims: new KvClaimStore(kv),
    workers: new KvWorkerStore(kv),
    webhooks: new KvWebhookStore(kv),
    inbound: new KvInboundStore(kv),
    users: new KvUserStore(kv),
    sessions: new KvSessionStore(kv, now),
    loginFailures: new KvLoginFailureStore(kv),
    credentials: new KvCredentialStore(kv),
    stats: new KvJobStatsStore(kv),
    maintenance: new KvMaintenanceStore(kv),
    channels: new KvChannelStore(kv),
    alerts: new KvAlertStore(kv),
    statusPages: new KvStatusPageStore(kv),
    heartbeats: new KvHeartbeatStore(kv),
  };
}

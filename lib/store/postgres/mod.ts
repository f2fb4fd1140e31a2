/** The Postgres store: every record area over one connection pool (`connect.ts`). */
import type { Stores } from "../stores.ts";
import { PgClaimStore } from "./claims.ts";
import type { Sql } from "./connect.ts";
import { PgLaneStore } from "./lanes.ts";
import { PgMaintenanceStore } from "./maintenance.ts";
import { PgStore, type PgStoreOptions } from "./records.ts";
import { PgChannelStore, PgCredentialStore, PgJobStatsStore } from "./records_small.ts";
import { PgWorkerStore } from "./workers.ts";
import { PgLoginFailureStore, PgSessionStore, PgUserStore } from "./users.ts";
import { systemClock } from "../../clock.ts";

export { connectPostgres, type Sql } from "./connect.ts";
export { migrate } from "./migrate.ts";

export function createPostgresStores(sql: Sql, options: PgStoreOptions = {}): Stores {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  return {
    records: new PgStore(sql, options),
    lanes: new PgLaneStore(sql),
    claims: new PgClaimStore(sql),
    workers: new PgWorkerStore(sql),
    webhooks: notYet("webhooks"),
    inbound: notYet("inbound"),
    users: new PgUserStore(sql),
    sessions: new PgSessionStore(sql, now),
    loginFailures: new PgLoginFailureStore(sql, now),
    credentials: new PgCredentialStore(sql),
    stats: new PgJobStatsStore(sql),
    maintenance: new PgMaintenanceStore(sql),
    channels: new PgChannelStore(sql),
  };
}

/** An area the Postgres store does not keep yet: every call says so. */
function notYet<T extends object>(area: string): T {
  return new Proxy({} as T, {
    get(_, method) {
      if (typeof method !== "string" || method === "then") return undefined;
      return () => {
        throw new Error(
          `Cannot use ${area}.${method}: the ${area} area is not implemented in the Postgres ` +
            "store yet",
        );
      };
    },
  });
}

/** The Postgres store: every record area over one connection pool (`connect.ts`). */
import type { Stores } from "../stores.ts";
import { PgClaimStore } from "./claims.ts";
import type { Sql } from "./connect.ts";
import { PgLaneStore } from "./lanes.ts";
import { PgStore, type PgStoreOptions } from "./records.ts";

export { connectPostgres, type Sql } from "./connect.ts";
export { migrate } from "./migrate.ts";

export function createPostgresStores(sql: Sql, options: PgStoreOptions = {}): Stores {
  return {
    records: new PgStore(sql, options),
    lanes: new PgLaneStore(sql),
    claims: new PgClaimStore(sql),
    workers: notYet("workers"),
    webhooks: notYet("webhooks"),
    inbound: notYet("inbound"),
    users: notYet("users"),
    sessions: notYet("sessions"),
    loginFailures: notYet("loginFailures"),
    credentials: notYet("credentials"),
    stats: notYet("stats"),
    maintenance: notYet("maintenance"),
    channels: notYet("channels"),
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

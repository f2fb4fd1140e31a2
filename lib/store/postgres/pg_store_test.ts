/**
 * The Store contract against the Postgres store, each step on a fresh migrated database
 * (tests/postgres_database.ts: the run's cluster, or one this file starts).
 */
import { freshDatabase } from "../../../tests/postgres_database.ts";
import { storeContract } from "../contract_test_suite.ts";
import { createPostgresStores } from "./mod.ts";

storeContract("Postgres store", async ({ clock, retention }) => {
  const db = await freshDatabase();
  return {
    ...createPostgresStores(db.sql, { clock, retention }),
    [Symbol.asyncDispose]: () => db[Symbol.asyncDispose](),
  };
});

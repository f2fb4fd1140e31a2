/**
 * The Store contract against the Postgres store, on a migrated database of its own
 * (tests/postgres_database.ts: the run's cluster, or one this file starts), emptied before each
 * step: one `truncate` costs a few milliseconds where a fresh copy of the template costs a few
 * hundred, and the steps run one after another.
 */
import { freshDatabase, type TestDatabase } from "../../../tests/postgres_database.ts";
import { storeContract } from "../contract_test_suite.ts";
import { createPostgresStores } from "./mod.ts";

let database: TestDatabase | null = null;

storeContract("Postgres store", async ({ clock, retention }) => {
  database ??= await freshDatabase();
  const { sql } = database;
  const tables = await sql`select tablename from pg_tables where schemaname = 'public'
    and tablename <> 'hibiki_schema_migrations'`;
  await sql.unsafe(
    `truncate ${tables.map((t) => `public.${t.tablename}`).join(", ")} restart identity cascade`,
  );
  return {
    ...createPostgresStores(sql, { clock, retention }),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}, { after: async () => await database?.[Symbol.asyncDispose]() });

/**
 * `deno task db:migrate`: applies supabase/migrations/ to the database DATABASE_URL names (what
 * Hibiki also does at start on Postgres), and says which migrations it applied.
 */
import { parseConfig } from "../lib/config.ts";
import { connectPostgres, migrate } from "../lib/store/postgres/mod.ts";

const config = parseConfig(Deno.env.toObject());
if (!config.database) {
  console.error("Cannot migrate: DATABASE_URL is not set (Hibiki keeps its data in Deno KV then)");
  Deno.exit(1);
}
const sql = connectPostgres(config.database.url, { max: 1, prepare: config.database.prepare });
try {
  const applied = await migrate(sql);
  console.log(applied.length ? `Applied ${applied.join(", ")}` : "The schema is up to date");
} finally {
  await sql.end();
}
